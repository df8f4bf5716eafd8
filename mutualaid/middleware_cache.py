"""No page of the app is kept by a shared cache, and pages with a payment handle, a way
to reach someone or a secret link are kept by no cache at all.

Every page here is for one person: a member's pod, their pledge, the board of receipts,
an organizer's waitlist, a recipient's private link. `Vary: Cookie` alone lets a proxy or
a CDN that ignores it (or a careless cache rule) serve one member's page to another, so
every response says `Cache-Control: private`. Static files are served by WhiteNoise in
front of this middleware and keep their own long, public caching.

The pages in NO_STORE also say `no-store`, so that the browser does not keep them on
disk either (a library computer, a shared phone): they show a payment handle (payment
fraud starts with "send it to my new handle"), a recipient's contact, or a secret link.
tests/test_cache_control.py visits every pod URL and fails if a page shows one of these
without being listed here.
"""

from django.utils.cache import patch_cache_control

NO_STORE = frozenset(
    {
        # Payment handles, and how to reach recipients and referred neighbors.
        "pods:this_week",
        "pods:plan",
        "recipients:waitlist",
        "recipients:recipient",
        "recipients:referral",
        "recipients:referral_move",
        "recipients:referral_withdraw",
        "recipients:referral_enroll",
        "recipients:link_replace",
        "recipients:link_revoke",
        "recipients:enrollment_end",
        # The CSV of every receipt's reference, and the screenshots.
        "receipts:export",
        "receipts:screenshot",
        # Secret links: a recipient's own pages, a new invitation's link, joining by one.
        "recipients:link",
        "recipients:link_cycle",
        "recipients:confirm_arrival",
        "recipients:leave",
        "pods:invitation_create",
        "pods:invitation",
        "users:join",
        # Recipients' new private links, shown once when their list is imported; the
        # addresses of people not yet members, in an uploaded donor list.
        "recipients:import_confirm",
        "pods:import_donors_preview",
        "pods:import_donors_confirm",
    }
)


class PrivatePagesMiddleware:
    """Placed right after WhiteNoise, so that what the middleware inside it answers is
    marked too (the 400 for a NUL character, the 503 of a database outage)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name in NO_STORE:
            patch_cache_control(response, private=True, no_store=True)
        else:
            patch_cache_control(response, private=True)
        return response
