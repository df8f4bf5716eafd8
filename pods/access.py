"""Who may see a pod's pages. Every pod view goes through one of these, so that no view
checks access by hand: outsiders get 404 (they must not learn the pod exists), members
without the right get 403."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from pods.models import Membership


def get_membership(request, slug) -> Membership:
    """The signed-in person's active membership of the pod `slug`, or 404."""
    membership = (
        Membership.objects.active()
        .select_related("pod")
        .filter(pod__slug=slug, user=request.user)
        .first()
    )
    if membership is None:
        raise Http404(_("No such pod."))
    return membership


def get_pod_for_member(request, slug):
    """The pod, for any active member; request.membership is set for templates."""
    membership = get_membership(request, slug)
    request.membership = membership
    return membership.pod


def get_pod_for_organizer(request, slug):
    """The pod, for its organizers only (403 for other members, 404 for outsiders)."""
    pod = get_pod_for_member(request, slug)
    if not request.membership.is_organizer:
        raise PermissionDenied(_("Only the pod's organizers can do this."))
    return pod
