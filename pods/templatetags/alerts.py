"""The organizers' warnings, shown at the top of every pod page:
`{% pod_alerts pod %}` in templates/pods/base_pod.html."""

from django import template

from pods.models import Alert

register = template.Library()


@register.inclusion_tag("pods/_alerts.html", takes_context=True)
def pod_alerts(context, pod):
    """The pod's alerts that are showing now, newest first, in one query whatever the
    number of alerts or members."""
    alerts = list(Alert.objects.filter(pod=pod).showing()) if pod is not None else []
    membership = context.get("membership")
    return {
        "pod": pod,
        "alerts": alerts,
        "is_organizer": bool(membership and membership.is_organizer),
    }
