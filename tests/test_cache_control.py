"""No shared cache keeps a page of a pod: every pod URL (and a recipient's private link)
answers with `Cache-Control: private` whoever asks, and with `no-store` too where it
shows a payment handle, a recipient's contact or a secret link
(mutualaid/middleware_cache.py). Every URL pattern of a pod is visited: a new one fails
here until it is given the ids it needs."""

import datetime
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.cache import get_max_age

from mutualaid.middleware_cache import NO_STORE
from pods.models import Alert, Invitation, Membership, StagedImport
from receipts.models import Receipt
from recipients.models import PaymentMethod, Referral

pytestmark = pytest.mark.django_db

HANDLE = "$rosa-handle"
CONTACT = "555-0100"
REFERRAL_CONTACT = "555-0199"


def url_patterns(resolvers=None, namespace="", route=""):
    """(view name, route) of every named URL pattern."""
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_patterns(entry.url_patterns, inner, route + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", route + str(entry.pattern)


def is_pod_page(route):
    return "<slug:slug>" in route or route.startswith("r/<str:token>")


POD_PAGES = sorted(name for name, route in url_patterns() if is_pod_page(route))

# Which row each pod URL's <int:pk> is about.
PK_OF = {
    "pods:alert_take_down": "alert",
    "pods:invitation_revoke": "invitation",
    "pods:invitation": "invitation",
    "receipts:receipt_detail": "receipt",
    "receipts:receipt_void": "receipt",
    "receipts:screenshot": "receipt",
    "receipts:staged_screenshot": "receipt",
    "recipients:confirm_arrival": "receipt",
    "recipients:referral": "referral",
    "recipients:referral_move": "referral",
    "recipients:referral_withdraw": "referral",
    "recipients:referral_enroll": "referral",
    "recipients:recipient": "recipient",
    "recipients:link_replace": "recipient",
    "recipients:link_revoke": "recipient",
    "recipients:enrollment_end": "recipient",
}

# What a POST that shows a page (rather than redirecting) is sent, so that the page
# with the secret link is reached. (A form that has no submission key ignores it.)
POST_DATA = {
    "pods:invitation_create": {
        "role": Membership.Role.DONOR,
        "days": 7,
        "max_uses": 1,
        "submission_key": "3d0c5f0e-8a51-4bb1-9a57-6f1a2b3c4d5e",
    },
    "recipients:referral_enroll": {
        "payment_method": PaymentMethod.CASH_APP,
        "payment_handle": "$new-neighbor",
        "first_week": 7,
    },
}


@pytest.fixture
def world(pod, cycle, organizer, donor, recipient, enrollment, recipient_link):
    recipient.payment_handle = HANDLE
    recipient.contact = CONTACT
    recipient.save()
    referral = Referral.objects.create(
        pod=pod, referred_by=donor, display_name="Nia", contact=REFERRAL_CONTACT
    )
    receipt = Receipt.objects.create(
        pod=pod,
        cycle=cycle,
        week=1,
        recipient=recipient,
        payer=donor,
        amount="50.00",
        method="cashapp",
        sent_on=cycle.starts_on,
        posted_by=donor,
        reference="ref-0042",
    )
    invitation = Invitation(
        pod=pod, created_by=organizer, expires_at=timezone.now() + datetime.timedelta(days=3)
    )
    invitation.new_token()
    invitation.save()
    alert = Alert.objects.create(
        pod=pod, message="Check handles.", expires_at=timezone.now() + datetime.timedelta(days=3)
    )
    uploads = {
        kind: StagedImport.objects.create(
            pod=pod,
            kind=kind,
            created_by=organizer,
            rows=[
                {
                    "number": 2,
                    "name": "Ann",
                    "email": "ann@example.org",
                    "display_name": "Ann",
                    "payment_method": "cashapp",
                    "payment_handle": "$ann",
                    "contact": "",
                }
            ],
        )
        for kind in StagedImport.Kind
    }
    rows = {
        "donors": uploads[StagedImport.Kind.DONORS],
        "recipients": uploads[StagedImport.Kind.RECIPIENTS],
        "alert": alert,
        "invitation": invitation,
        "receipt": receipt,
        "referral": referral,
        "recipient": recipient,
    }
    return {"rows": rows, "token": recipient_link}


def url_of(name, world):
    route = dict(url_patterns())[name]
    kwargs = {}
    if "<slug:slug>" in route:
        kwargs["slug"] = "maple"
    if "<str:token>" in route:
        kwargs["token"] = world["token"]
    if "<int:week>" in route:
        kwargs["week"] = 6
    if "<int:number>" in route:
        kwargs["number"] = 1
    if "<uuid:upload>" in route:
        kwargs["upload"] = world["rows"]["donors" if name.startswith("pods:") else "recipients"].pk
    if "<int:pk>" in route:
        assert name in PK_OF, f"{name}: say in PK_OF which row its pk is"
        kwargs["pk"] = world["rows"][PK_OF[name]].pk
    return reverse(name, kwargs=kwargs)


def directives(response):
    return {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",")}


def shows_something_private(response, world):
    """A payment handle, a contact, or a secret link (a recipient's or an invitation's)."""
    text = response.content.decode(errors="replace")
    return (
        any(secret in text for secret in (HANDLE, "$new-neighbor", CONTACT, REFERRAL_CONTACT))
        or world["token"] in text
        or re.search(r"/(r|join)/[\w-]{20,}/", text) is not None
    )


def test_every_pod_page_is_found():
    """The walk finds the pages of every app of a pod and the recipients' private link."""
    assert {"pods:dashboard", "pods:this_week", "pods:plan", "pods:alerts"} <= set(POD_PAGES)
    assert {"receipts:board", "receipts:export", "recipients:recipient"} <= set(POD_PAGES)
    assert {"recipients:link", "recipients:link_cycle", "recipients:leave"} <= set(POD_PAGES)
    assert len(POD_PAGES) >= 25


def test_the_no_store_list_names_real_pages():
    assert {name for name, _route in url_patterns()} >= NO_STORE


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("who", ["organizer", "donor", "outsider", None])
@pytest.mark.parametrize("name", POD_PAGES)
def test_every_pod_page_is_private(client, world, name, method, who, request):
    client.raise_request_exception = False
    if who:
        client.force_login(request.getfixturevalue(who))
    url = url_of(name, world)
    send = client.post if method == "post" else client.get
    response = send(url, POST_DATA.get(name, {}) if method == "post" else None)
    assert response.status_code != 500
    found = directives(response)
    assert "private" in found, (name, response.status_code, response.get("Cache-Control"))
    assert "public" not in found
    assert not get_max_age(response), name
    if name in NO_STORE:
        assert "no-store" in found, name
    if shows_something_private(response, world):
        assert "no-store" in found, f"{name} ({method}) shows a handle, contact or secret"


def test_pages_without_handles_stay_in_the_browsers_history(client, world, organizer):
    """Only `private`: the back button still works from the board and the dashboard."""
    client.force_login(organizer)
    for name in [
        "pods:dashboard",
        "receipts:board",
        "pods:members",
        "pods:alerts",
        "pods:invitations",
    ]:
        response = client.get(url_of(name, world))
        assert response.status_code == 200
        assert response["Cache-Control"] == "private", name


def test_the_pages_named_in_the_issue_are_no_store(client, world, organizer):
    client.force_login(organizer)
    for name in ["pods:this_week", "pods:plan", "recipients:recipient", "receipts:export"]:
        response = client.get(url_of(name, world))
        assert response.status_code == 200, name
        assert {"private", "no-store"} <= directives(response), name
    # And each of them does show what makes it so.
    assert HANDLE in client.get(url_of("pods:this_week", world)).text
    assert HANDLE in client.get(url_of("pods:plan", world)).text
    assert HANDLE in client.get(url_of("recipients:recipient", world)).text
    assert b"ref-0042" in client.get(url_of("receipts:export", world)).content


def test_other_pages_are_private_too(client, world, donor):
    client.force_login(donor)
    for url in [reverse("home"), reverse("users:profile")]:
        assert "private" in directives(client.get(url)), url
    client.logout()
    assert "private" in directives(client.get(reverse("account_login")))


def test_static_files_keep_their_own_caching(client, settings):
    settings.WHITENOISE_USE_FINDERS = True
    response = client.get(f"/{settings.STATIC_URL.strip('/')}/css/app.css")
    assert response.status_code == 200
    assert "public" in directives(response)
    assert "private" not in directives(response)
