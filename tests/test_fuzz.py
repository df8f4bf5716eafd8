"""Hostile input, generated: no request makes a 500, and a rejected request changes nothing.

Hypothesis picks a page (every URL pattern of the app, and the admin's add and change page
of every model), a person (an organizer, a donor, an outsider, a signed-out visitor), a
method, a query string and a form built from the names the page's own forms use, with
values from the inputs that broke the app before: NUL bytes, a 1 MB string, NaN,
infinity, exponents, three decimals, bidi controls, year 9999, the other pod's ids.

Each request runs in a transaction that is rolled back. A request is "rejected" when it
answers 4xx or shows a form with errors; then every row of the app's tables must be as it
was. Runs on SQLite and on PostgreSQL (CI runs the suite on both); FUZZ_EXAMPLES sets how
many requests per person (default 100).
"""

import os
import re
from html import unescape
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import audit_world
from tests.test_audit_robustness import admin_object, kwargs_for, url_patterns

pytestmark = pytest.mark.django_db

NASTY = [
    "",
    "\x00",
    "a\x00b",
    "x" * 1_000_000,
    "NaN",
    "sNaN",
    "-nan",
    "Infinity",
    "-inf",
    "1e1000000",
    "1E5",
    "12.345",
    "0.001",
    "9" * 400,
    "-1",
    "0",
    "99999999999999999999",
    "9999-12-31",
    "9999-12-31T23:59:59",
    "9999-12-31 23:59:59",
    "0001-01-01",
    "Ana\u202e 00.005$ diap",
    "\u2066x\u2069",
    "١٢٫٥٠",
    "on",
    "yes",
]
APP_MODELS = ["users", "pods", "recipients", "receipts", "pledges"]


@pytest.fixture
def world(pod, other_pod, cycle, organizer, donor, outsider, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return audit_world.build(
        pod=pod,
        other_pod=other_pod,
        cycle=cycle,
        organizer=organizer,
        donor=donor,
        outsider=outsider,
    )


def pages(maple, elm):
    """Every app URL with this pod's ids, and the admin's add and change pages."""
    found = [
        reverse(name, kwargs=kwargs_for(name, params, maple, "own", other=elm))
        for name, params in url_patterns()
    ]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        found.append(reverse("admin:{}_{}_add".format(*info)))
        obj = admin_object(model, maple)
        if obj is not None:
            found.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    return found


def form_values(client, url):
    """What the page's forms would post untouched, as the organizer sees the page: each
    input's value, each select's first choice. Generated values then replace a few."""
    html = client.get(url).content.decode(errors="replace")
    values = {}
    for tag in re.findall(r"<input\b[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        if name and 'type="file"' not in tag and 'type="submit"' not in tag:
            value = re.search(r'value="([^"]*)"', tag)
            values.setdefault(name.group(1), unescape(value.group(1)) if value else "")
    for name, body in re.findall(r'<select\b[^>]*name="([^"]*)"[^>]*>(.*?)</select>', html, re.S):
        choice = re.search(r'<option[^>]*value="([^"]+)"', body)
        values.setdefault(name, unescape(choice.group(1)) if choice else "")
    for name in re.findall(r'<textarea\b[^>]*name="([^"]*)"', html):
        values.setdefault(name, "")
    values.pop("csrfmiddlewaretoken", None)
    return values


def fingerprint():
    rows = []
    for label in APP_MODELS:
        for model in apps.get_app_config(label).get_models():
            rows.append(list(model.objects.order_by("pk").values_list()))
    return rows


def rejected(response):
    if 400 <= response.status_code < 500:
        return True
    for context in response.context or []:
        for value in context.flatten().values() if hasattr(context, "flatten") else []:
            errors = getattr(value, "errors", None)
            if errors and hasattr(value, "is_bound") and value.is_bound:
                return True
    return False


@pytest.mark.parametrize("who", ["organizer", "donor", "outsider", "anonymous"])
def test_no_generated_request_makes_a_500_or_changes_anything_when_refused(
    client, world, who, request, organizer
):
    maple, elm = world
    client.force_login(organizer)
    urls = pages(maple, elm)
    forms = {url: form_values(client, url) for url in urls}
    client.logout()
    if who != "anonymous":
        person = request.getfixturevalue(who)
    ids = [str(getattr(elm, kind)) for kind in ("receipt", "recipient", "referral", "alert")]
    value = st.one_of(
        st.sampled_from(NASTY + ids),
        st.sampled_from(NASTY),
        st.text(max_size=40),
        st.integers().map(str),
    )

    @st.composite
    def requests(draw):
        url = draw(st.sampled_from(urls))
        method = draw(st.sampled_from(["GET", "POST"]))
        fields = st.sampled_from([*forms[url], "page", "week", "cycle", "o", "q"])
        query = draw(st.dictionaries(fields, value, max_size=4))
        data = {}
        if method == "POST":
            # The page's own form with one to three of its values replaced.
            data = {**forms[url], **draw(st.dictionaries(fields, value, min_size=1, max_size=3))}
        return url, method, query, data

    @settings(
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100")),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(requests())
    def one(case):
        url, method, query, data = case
        full = f"{url}?{urlencode(query)}" if query else url
        if who != "anonymous":
            client.force_login(person)
        with transaction.atomic():
            before = fingerprint()
            response = client.get(full) if method == "GET" else client.post(full, data)
            assert response.status_code < 500, f"{who} {method} {full[:300]} {data!r:.300}"
            if rejected(response):
                assert fingerprint() == before, f"{who} {method} {full[:300]} changed data"
            transaction.set_rollback(True)

    client.raise_request_exception = True
    one()


# The sweep: every field of every form the organizer sees (they reach every form), each
# replaced in turn by each of the inputs that broke the app before.
SWEEP = [
    "\x00",
    "x" * 1_000_000,
    "sNaN",
    "NaN",
    "Infinity",
    "1e1000000",
    "12.345",
    "9" * 400,
    "-1",
    "9999-12-31T23:59:59",
    "9999-12-31",
    "Ana\u202e 00.005$ diap",
]


def test_every_field_of_every_form_refuses_each_known_bad_input(client, world, organizer):
    maple, elm = world
    client.force_login(organizer)
    client.raise_request_exception = True
    problems = []
    for url in pages(maple, elm):
        form = form_values(client, url)
        for name in form:
            for bad in [*SWEEP, str(elm.recipient)]:
                client.force_login(organizer)
                with transaction.atomic():
                    before = fingerprint()
                    try:
                        response = client.post(url, {**form, name: bad})
                    except Exception as error:  # noqa: BLE001 - every failure is listed
                        problems.append(f"{url} {name}={bad[:20]!r}: {error!r:.200}")
                        transaction.set_rollback(True)
                        continue
                    if response.status_code >= 500:
                        problems.append(f"{url} {name}={bad[:20]!r}: {response.status_code}")
                    elif rejected(response) and fingerprint() != before:
                        problems.append(f"{url} {name}={bad[:20]!r}: refused but changed data")
                    transaction.set_rollback(True)
    assert not problems, "\n".join(problems)
