"""The one page of the recipient's private link (see recipients/link.py) that lives
above recipients: erasing at once reaches the receipts sent to them, so the view sits
here, beside the retention that does the erasing. Wired into the `recipients` namespace
by mutualaid/urls.py, with the link's other pages."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from receipts.retention import leave_and_erase
from recipients.link import recipient_link_view
from recipients.services import current_enrollment


@require_http_methods(["GET", "POST"])
@recipient_link_view
def erase(request, recipient):
    """ "Erase what the pod knows about me now", then a confirmation of its own. For
    someone still supported it is leaving too. Afterwards this address opens nothing, so
    the answer is a page of its own, naming nobody."""
    if request.method == "POST":
        leave_and_erase(recipient=recipient)
        return render(request, "recipients/link_erased.html", {"pod": recipient.pod})
    return render(
        request,
        "recipients/link_erase.html",
        {
            "recipient": recipient,
            "pod": recipient.pod,
            "token": request.recipient_token,
            "enrollment": current_enrollment(recipient),
            "retention_days": settings.RECIPIENT_RETENTION_DAYS,
        },
    )
