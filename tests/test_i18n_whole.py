"""Arabic and Spanish, whole: every page of the audit crawl (tests/test_audit_pages.py)
and every email, rendered in English and again in `ar` and `es`, shows no string of the
app's own left in English. Arabic pages are right to left.

A string is English left over when the same text (names, handles, emails, amounts and
other data of the pod aside) appears in both renderings, unless its catalog says it is
the same in both languages (a brand such as "Cash App"). Runs once the catalogs are
compiled (make install); skipped with the reason until then.
"""

import datetime
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.db import models, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from pledges.services import notify_rolled_over
from recipients.models import Enrollment
from recipients.services import end_enrollment
from tests import audit_world
from tests.test_audit_pages import rendered_pages

pytestmark = pytest.mark.django_db

LANGUAGES = ["ar", "es"]
# Words shown to people in attributes (as tests/test_audit_i18n.py reads them).
SHOWN_ATTRIBUTES = {"aria-label", "title", "alt", "placeholder", "value"}
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
ADDRESS = re.compile(r"\S+@\S+|https?://\S+|/\S*")


def locale_dirs():
    return [Path(p) for p in settings.LOCALE_PATHS]


def catalog_path(language, suffix):
    for directory in locale_dirs():
        path = directory / language / "LC_MESSAGES" / f"django.{suffix}"
        if path.is_file():
            return path
    return None


def require_catalogs():
    missing = [lang for lang in LANGUAGES if catalog_path(lang, "mo") is None]
    if missing:
        pytest.skip(
            f"no compiled catalog for {', '.join(missing)} (locale/<lang>/LC_MESSAGES/"
            "django.mo, built by `make install` from the .po): runs once they are merged"
        )


def same_on_purpose(language):
    """Texts the catalog keeps as they are in English (brands, "Total" in Spanish)."""
    path = catalog_path(language, "po")
    if path is None:
        return set()
    with open(path, "rb") as po:
        catalog = read_po(po)
    kept = set()
    for message in catalog:
        ids = message.id if isinstance(message.id, (list, tuple)) else [message.id]
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        kept |= {s for s in strings if s and s in ids}
    return kept


class Texts(HTMLParser):
    """What a page shows or reads out: its text and its read attributes."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.found = []
        self.html = {}
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html = attrs
        if tag in ("script", "style"):
            self._skip += 1
        for name in SHOWN_ATTRIBUTES & set(attrs):
            if name != "value" or attrs.get("type") in ("submit", "button", "reset"):
                self.found.append(attrs[name] or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip:
            self.found.append(data)


def segments(texts):
    return {" ".join(t.split()) for t in texts if t.strip()}


def _strings_in(value):
    if isinstance(value, str):
        if value.strip():
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_in(item)


def data_of_the_pods():
    """Every text value in the database (names, handles, messages, reasons…) and each
    language's own name in the menu: the pod's data, shown as typed in any language."""
    values = set()
    for model in apps.get_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField)) and not f.choices
        ]
        if fields:
            for row in model._default_manager.values_list(*fields):
                values |= {v for v in row if isinstance(v, str) and v.strip()}
        # Cells of an uploaded spreadsheet, kept as JSON: typed by people too.
        for field in model._meta.concrete_fields:
            if isinstance(field, models.JSONField):
                for value in model._default_manager.values_list(field.attname, flat=True):
                    values |= set(_strings_in(value))
    for code, _name in settings.LANGUAGES:
        values.add(translation.get_language_info(code)["name_local"])
    values |= {str(u) for u in apps.get_model(settings.AUTH_USER_MODEL).objects.all()}
    return sorted(values, key=len, reverse=True)


def english_left(english, translated, *, data, kept):
    """Segments of the translated rendering that are English ones left as they were."""
    left = []
    for segment in sorted(segments(translated) & segments(english)):
        rest = segment
        for value in [*data, *sorted(kept, key=len, reverse=True)]:
            rest = rest.replace(value, " ")
        rest = ADDRESS.sub(" ", rest)
        if LATIN_WORD.search(rest):
            left.append(segment)
    return left


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


def crawl(client, maple, elm, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    pages = {}
    for label, response in rendered_pages(client, maple, elm):
        if "text/html" in response.headers.get("Content-Type", "") and response.status_code not in (
            301,
            302,
            405,
        ):
            pages[label] = Texts(response.text)
    return pages


@pytest.mark.parametrize("who", ["organizer", "donor", "anonymous"])
def test_every_page_is_whole_in_arabic_and_spanish(client, world, who, request):
    require_catalogs()
    maple, elm = world
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    english = crawl(client, maple, elm, "en")
    data = data_of_the_pods()
    problems = []
    for language in LANGUAGES:
        kept = same_on_purpose(language)
        translated = crawl(client, maple, elm, language)
        # Labels carry ids that do not change with the language: the same pages.
        assert translated.keys() == english.keys()
        for label, page in translated.items():
            if page.html.get("lang") != language:
                problems.append(f"{language} {label}: <html lang={page.html.get('lang')!r}>")
            if language == "ar" and page.html.get("dir") != "rtl":
                problems.append(f"ar {label}: <html dir={page.html.get('dir')!r}>")
            for segment in english_left(english[label].found, page.found, data=data, kept=kept):
                problems.append(f"{language} {label}: {segment!r}")
    assert len(english) > 10
    assert not problems, "English left on the pages:\n" + "\n".join(problems)


def every_email(capture, *, cycle, donor):
    """Each email the app and allauth send, made by the real flows (each rolled back
    after), to people whose language is the one being tested."""
    sent = []

    def collect(action):
        mail.outbox.clear()
        with transaction.atomic():
            with capture(execute=True):
                action()
            transaction.set_rollback(True)
        sent.extend(mail.outbox)

    collect(lambda: notify_rolled_over(cycle=cycle, pledges=list(cycle.pledges.all())))
    enrollment = Enrollment.objects.filter(recipient__pod=cycle.pod).active().first()
    collect(lambda: end_enrollment(enrollment=enrollment))
    today = cycle.payday(cycle.current_week()) + datetime.timedelta(days=1)
    collect(lambda: call_command("send_reminders", "--today", today.isoformat(), stdout=None))
    # allauth's sign-in code, asked for from a page in English: the mail is in the
    # reader's own language all the same.
    mail.outbox.clear()
    cache.clear()  # allauth's limit of codes a minute per address
    browser = Client()
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    browser.post(reverse("account_request_login_code"), {"email": donor.email})
    sent.extend(mail.outbox)
    return sent


def email_texts(message):
    texts = [message.subject, *message.body.splitlines()]
    for content, kind in getattr(message, "alternatives", []):
        if kind == "text/html":
            texts += Texts(content).found
    return texts


def test_every_email_is_whole_in_arabic_and_spanish(
    world, cycle, donor, django_capture_on_commit_callbacks
):
    require_catalogs()
    people = apps.get_model(settings.AUTH_USER_MODEL).objects.all()

    def emails_in(language):
        people.update(language=language)
        return every_email(django_capture_on_commit_callbacks, cycle=cycle, donor=donor)

    english = emails_in("en")
    names = sorted({m.subject.split()[0] for m in english})
    assert len(english) >= 4, names
    data = data_of_the_pods()
    problems = []
    for language in LANGUAGES:
        kept = same_on_purpose(language)
        translated = emails_in(language)
        assert [m.to for m in translated] == [m.to for m in english], (
            [m.subject for m in english][-3:],
            [m.subject for m in translated][-3:],
        )
        for before, after in zip(english, translated, strict=True):
            left = english_left(email_texts(before), email_texts(after), data=data, kept=kept)
            problems += [f"{language} {before.subject!r}: {segment!r}" for segment in left]
    assert not problems, "English left in the emails:\n" + "\n".join(problems)


def test_the_comparison_finds_english_left_and_spares_data():
    english = ["Send $50.00 to Rosa", "Sign in", "Rosa", "rosa@example.org", "Cash App", "Total"]
    translated = [
        "أرسل ‏50.00 US$ إلى Rosa",
        "Sign in",
        "Rosa",
        "rosa@example.org",
        "Cash App",
        "Total",
    ]
    left = english_left(english, translated, data=["Rosa"], kept={"Cash App"})
    assert left == ["Sign in", "Total"]
