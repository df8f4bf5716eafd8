"""No request makes a 500, and nobody outside a pod learns that its pages exist.

Every URL pattern of the app (read from the URL conf, so a new page is walked as soon as
it is added) is requested with real ids, with the other pod's ids, with ids that do not
exist and with garbage in the query string and the form, as a signed-out visitor, an
outsider (an organizer of the other pod), a donor and an organizer, by GET and by POST.

Each request runs in a transaction that is rolled back, so that a POST which changes
something (a donor leaving, a recipient's link being replaced) does not change what the
next request sees.
"""

import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from pledges.models import Assignment
from tests import audit_world
from tests.pods.crowd import add_donors

pytestmark = pytest.mark.django_db

MISSING_ID = 999_999
# Past any database integer: the lookup must still be a plain 404.
HUGE_ID = 2**70
MISSING_TOKEN = "not-a-secret-anyone-was-given"
MISSING_SLUG = "no-such-pod"

# Which object a URL's <pk> (or <token>) names.
PK_KIND = {
    "receipts:receipt_detail": "receipt",
    "receipts:receipt_void": "receipt",
    "receipts:screenshot": "screenshot_receipt",
    "receipts:staged_screenshot": "staged",
    "pods:invitation_revoke": "invitation",
    "pods:invitation": "invitation",
    "pods:alert_take_down": "alert",
    "recipients:referral": "referral",
    "recipients:referral_move": "referral",
    "recipients:referral_withdraw": "referral",
    "recipients:referral_enroll": "referral",
    "recipients:recipient": "recipient",
    "recipients:link_replace": "recipient",
    "recipients:link_revoke": "recipient",
    "recipients:enrollment_end": "recipient",
    "recipients:confirm_arrival": "receipt",
}
UPLOAD_KIND = {
    "pods:import_donors_preview": "donor_upload",
    "pods:import_donors_confirm": "donor_upload",
    "recipients:import_preview": "recipient_upload",
    "recipients:import_confirm": "recipient_upload",
}
MISSING_UPLOAD = "00000000-0000-4000-8000-000000000000"
TOKEN_KIND = {
    "recipients:link": "recipient_token",
    "recipients:link_cycle": "recipient_token",
    "recipients:confirm_arrival": "recipient_token",
    "recipients:leave": "recipient_token",
    "recipients:erase": "recipient_token",
    "recipients:link_language": "recipient_token",
    "users:join": "invitation_token",
    "users:unsubscribe": "unsubscribe_token",
}

GARBAGE_QUERIES = [
    {
        "week": "abc",
        "page": "-1",
        "cycle": "999999",
        "recipient": "x",
        "payer": "x",
        "amount": "NaN",
        "next": "//evil.example/",
    },
    {
        "week": "99999999999999999999",
        "page": "99999",
        "cycle": "-1",
        "recipient": "99999999999999999999",
        "payer": "-5",
        "amount": "1e999999",
    },
]
# Every field name the app's forms use, each with a value no form should accept.
GARBAGE_FORM = {
    "action": "x",
    "amount": "abc",
    "starts": "x",
    "week": "x",
    "recipient": "x",
    "payer": "x",
    "method": "x",
    "sent_on": "2024-13-45",
    "submission_key": "x",
    "reason": "\x00",
    "message": "\x00",
    "expires_at": "99999-99-99T99:99",
    "display_name": "\x00",
    "contact": "x" * 5000,
    "note": "x" * 5000,
    "to_position": "99999999999999999999",
    "first_week": "x",
    "payment_method": "x",
    "payment_handle": "\x00",
    "role": "x",
    "days": "99999999999999999999",
    "max_uses": "-1",
    "form-TOTAL_FORMS": "x",
    "form-INITIAL_FORMS": "x",
    "login": "x",
    "email": "x",
    "code": "x",
    "anonymous_to_recipients": "x",
}
# Values at the edges: far dates, huge and odd numbers.
EDGE_FORM = {
    "action": "set",
    "amount": "99999999999999999999",
    "starts": "99999",
    "week": "0",
    "sent_on": "0001-01-01",
    "expires_at": "9999-12-31T23:59",
    "to_position": "0",
    "first_week": "99999",
    "days": "0",
    "max_uses": "99999999999999999999",
    "payment_method": "cashapp",
    "form-TOTAL_FORMS": "99999999",
    "form-INITIAL_FORMS": "0",
    "form-0-amount": "Infinity",
    "form-0-payer": "99999999999999999999",
    "form-0-recipient": "-1",
}


def url_patterns():
    """(name, parameter names) of every named pattern, the admin's left to its own test."""
    found = []

    def walk(resolver, namespace, outer):
        for entry in resolver.url_patterns:
            params = [*outer, *entry.pattern.regex.groupindex]
            if isinstance(entry, URLResolver):
                if entry.app_name == "admin":
                    continue
                walk(entry, entry.namespace or namespace, params)
            elif isinstance(entry, URLPattern) and entry.name:
                found.append((f"{namespace}:{entry.name}" if namespace else entry.name, params))

    walk(get_resolver(), None, [])
    return found


def kwargs_for(name, params, ids, variant, *, other):
    """The URL's arguments. Variants: "own" (this pod's ids), "cross" (this pod's slug
    with the other pod's ids), "missing" (this pod's slug, ids that do not exist), "huge"
    (ids too big for the database) and "no_pod" (a pod that does not exist)."""
    kwargs = {}
    for param in params:
        if param == "slug":
            kwargs[param] = MISSING_SLUG if variant == "no_pod" else ids.slug
        elif param == "pk":
            if variant == "huge":
                kwargs[param] = HUGE_ID
            elif variant in ("missing", "no_pod"):
                kwargs[param] = MISSING_ID
            else:
                kwargs[param] = getattr(other if variant == "cross" else ids, PK_KIND[name])
        elif param == "token":
            if variant in ("missing", "no_pod"):
                kwargs[param] = MISSING_TOKEN
            else:
                kwargs[param] = getattr(ids, TOKEN_KIND[name])
        elif param == "week":
            huge = {"huge": HUGE_ID, "missing": 999, "no_pod": 999}
            kwargs[param] = huge.get(variant, ids.week)
        elif param == "number":
            huge = {"huge": HUGE_ID, "missing": MISSING_ID, "no_pod": MISSING_ID}
            kwargs[param] = huge.get(variant, ids.cycle_number)
        elif param == "upload":
            if variant in ("missing", "no_pod", "huge"):
                kwargs[param] = MISSING_UPLOAD
            else:
                kwargs[param] = getattr(other if variant == "cross" else ids, UPLOAD_KIND[name])
        elif param == "uidb36":
            kwargs[param] = "zz"
        elif param == "key":
            kwargs[param] = "set-password"
        else:
            raise AssertionError(f"{name}: no value for <{param}>; teach kwargs_for about it")
    return kwargs


@pytest.fixture
def world(pod, other_pod, cycle, organizer, donor, outsider):
    return audit_world.build(
        pod=pod,
        other_pod=other_pod,
        cycle=cycle,
        organizer=organizer,
        donor=donor,
        outsider=outsider,
    )


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def signed_in(client, who, request):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    # The session cookie as it is now: put back before every request, since a request
    # may sign the person out (the rollback restores the session row, not the cookie).
    return SimpleCookie(client.cookies.output(header="", sep="\n"))


def send(client, cookies, method, url, data=None):
    """One request, rolled back afterwards. Returns (status, location, error)."""
    client.cookies = SimpleCookie(cookies.output(header="", sep="\n"))
    try:
        with transaction.atomic():
            response = client.get(url) if method == "GET" else client.post(url, data or {})
            transaction.set_rollback(True)
    except Exception as error:  # noqa: BLE001 - every failure is reported, not the first
        return 500, "", repr(error)
    return response.status_code, response.headers.get("Location", ""), ""


def requests_for(name, params, maple, elm):
    """(variant, method, url, data) for one URL pattern."""
    own = reverse(name, kwargs=kwargs_for(name, params, maple, "own", other=elm))
    yield "own", "GET", own, None
    for query in GARBAGE_QUERIES:
        yield "own", "GET", f"{own}?{urlencode(query)}", None
    yield "own", "POST", own, None
    yield "own", "POST", own, GARBAGE_FORM
    yield "own", "POST", own, EDGE_FORM
    for variant in ("cross", "missing", "huge", "no_pod"):
        needs = {
            "cross": {"pk"},
            "missing": {"pk", "token", "week", "number"},
            "huge": {"pk", "week", "number"},
            "no_pod": {"slug"},
        }
        if not needs[variant] & set(params):
            continue
        url = reverse(name, kwargs=kwargs_for(name, params, maple, variant, other=elm))
        yield variant, "GET", url, None
        yield variant, "POST", url, None


@pytest.mark.parametrize("who", ["anonymous", "outsider", "donor", "organizer"])
def test_no_request_makes_a_500_and_outsiders_learn_nothing(client, world, who, request):
    maple, elm = world
    cookies = signed_in(client, who, request)
    client.raise_request_exception = True
    problems = []
    login_url = reverse("account_login")
    walked = 0
    for name, params in url_patterns():
        for variant, method, url, data in requests_for(name, params, maple, elm):
            status, location, error = send(client, cookies, method, url, data)
            walked += 1
            where = f"{who} {method} {url!r} ({variant})"
            if status >= 500:
                problems.append(f"{where}: {status} {error}")
                continue
            if "slug" not in params:
                continue
            if who == "anonymous":
                if not (status == 302 and location.startswith(login_url)):
                    problems.append(f"{where}: {status} {location}, expected the sign-in page")
            elif who == "outsider" or variant == "no_pod":
                # Whatever an outsider gets, a pod that does not exist gets too: 404, or
                # 405 for a method the URL never takes. Either way it says nothing.
                nowhere = url.replace(f"/pods/{maple.slug}/", f"/pods/{MISSING_SLUG}/", 1)
                same = status == send(client, cookies, method, nowhere, data)[0]
                if status not in (404, 405) or not same:
                    problems.append(f"{where}: {status}, unlike a pod that does not exist")
            elif variant in ("cross", "missing", "huge") and status not in (403, 404, 405):
                problems.append(f"{where}: {status}, expected 404 (or 403 for a donor)")
    assert walked > 300
    assert not problems, "\n".join(problems)


def test_every_url_pattern_is_walked():
    """A new <pk> or <token> URL must say which object it names, or this walk would
    skip its real ids."""
    for name, params in url_patterns():
        if "pk" in params:
            assert name in PK_KIND, name
        if "token" in params:
            assert name in TOKEN_KIND, name


ADMIN_VIEWS = ["changelist", "add", "change", "history", "delete"]


def admin_object(model, ids):
    """An object of `model` in the pod of `ids`, if the world has one."""
    from django.apps import apps

    pod = apps.get_model("pods", "Pod").objects.get(slug=ids.slug)
    field_names = {f.name for f in model._meta.get_fields()}
    if model._meta.label == "pods.Pod":
        return pod
    if "pod" in field_names:
        return model.objects.filter(pod=pod).first()
    if "cycle" in field_names:
        return model.objects.filter(cycle__pod=pod).first()
    if "referral" in field_names:
        return model.objects.filter(referral__pod=pod).first()
    if "memberships" in field_names:
        return model.objects.filter(memberships__pod=pod).first()
    return None


@pytest.mark.parametrize("who", ["anonymous", "outsider", "donor", "organizer"])
def test_no_admin_page_makes_a_500(client, world, who, request):
    """The organizers' admin, every registered model: its list (with garbage filters),
    add page, and change, history and delete pages of this pod's object, the other
    pod's and one that does not exist."""
    maple, elm = world
    cookies = signed_in(client, who, request)
    problems = []
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls = [
            reverse("admin:{}_{}_changelist".format(*info)),
            reverse("admin:{}_{}_changelist".format(*info))
            + "?"
            + urlencode({"q": "x\x01", "o": "abc", "p": "-1", "pod__id__exact": "x", "all": ""}),
            reverse("admin:{}_{}_add".format(*info)),
        ]
        for ids in (maple, elm):
            obj = admin_object(model, ids)
            pks = [obj.pk] if obj is not None else []
            for pk in pks:
                for view in ("change", "history", "delete"):
                    urls.append(reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[pk]))
        urls.append(reverse("admin:{}_{}_change".format(*info), args=[MISSING_ID]))
        for url in urls:
            for method in ("GET", "POST"):
                status, location, error = send(client, cookies, method, url)
                if status >= 500:
                    problems.append(f"{who} {method} {url!r}: {status} {error}")
                elif (
                    who == "outsider"
                    and method == "GET"
                    and status == 200
                    and any(
                        re.search(rf"/{maple_pk}/(change|history|delete)/", url)
                        for maple_pk in _maple_pks(model, maple)
                    )
                ):
                    # An outsider organizes Elm: Maple's objects must stay out of sight.
                    problems.append(f"{who} GET {url!r}: 200, Maple's object is shown")
    assert not problems, "\n".join(problems)


def _maple_pks(model, maple):
    obj = admin_object(model, maple)
    return [obj.pk] if obj is not None else []


def test_a_forged_line_count_cannot_make_the_plan_page_build_thousands_of_lines(
    client, organizer, pod, cycle, enrollment
):
    """The plan's management form says how many lines were posted. Believing a forged
    99,999,999 once cost a minute of server time and an 11 MB page with 100 members."""
    add_donors(pod, cycle, 100)
    client.force_login(organizer)
    week = cycle.current_week() + 1
    url = reverse("pods:plan", args=[pod.slug, week])
    rid = enrollment.recipient_id
    (row,) = client.get(url).context["rows"]
    shown = row.formset
    plan = list(Assignment.objects.filter(cycle=cycle, week=week).values_list("pk", "amount"))

    response = client.post(
        url,
        {"recipient": str(rid), f"r{rid}-TOTAL_FORMS": "99999999", f"r{rid}-INITIAL_FORMS": "0"},
    )

    assert response.status_code == 200
    formset = response.context["posted_row"].formset
    assert len(formset.forms) == shown.absolute_max < len(shown.forms) + 30
    assert "Please submit at most" in response.text
    assert plan == list(
        Assignment.objects.filter(cycle=cycle, week=week).values_list("pk", "amount")
    )
