"""What the pod is told by email, beyond the pages: an organizer's alert emailed to every
member, and the organizers' news of a new member (a new referral is in
recipients/notices.py, with the organizers' daily digest of both).

Every message is in its reader's language (User.language) and leaves with the change it
reports (mutualaid.mail). An alert goes to a hundred people: the organizer's request
queues one task, and the worker renders the messages."""

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.urls import reverse

from mutualaid.mail import enqueue_on_commit, render_email, send_on_commit
from pods.models import Alert, Membership, Notification
from users.unsubscribe import unsubscribe_headers, unsubscribe_url


def site_url(name, *args) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


def person_name(user) -> str:
    """How a message names a person: their display name, or the start of their address."""
    return user.display_name or user.email.split("@")[0]


def claim_and_send(*, pod, user, kind, key, message) -> bool:
    """Log the message, and send it once the log row is committed; False if another run
    logged it first (the unique (person, kind, key) decides, even between concurrent
    workers). After a crash between the two a message is missed, never sent twice."""
    with transaction.atomic():
        _, created = Notification.objects.get_or_create(
            user=user, kind=kind, key=key, defaults={"pod": pod}
        )
        if created:
            send_on_commit([message])
    return created


# Alerts by email


def email_alert(alert: Alert) -> None:
    """Email `alert` to every member of its pod who has not turned alert emails off,
    once the alert is saved."""
    enqueue_on_commit(send_alert_emails, alert.pk)


def alert_readers(pod):
    """The people an alert is emailed to: the pod's active members who keep alert emails."""
    return [
        m.user
        for m in Membership.objects.active()
        .filter(pod=pod, user__is_active=True, user__alert_emails=True)
        .select_related("user")
        .order_by("pk")
    ]


@task
def send_alert_emails(alert_id: int) -> str:
    """The messages of email_alert, one per member, each logged (pods.Notification) so
    that the task run a second time sends nobody the alert twice."""
    alert = Alert.objects.select_related("pod", "created_by").get(pk=alert_id)
    if not alert.is_showing():
        # Taken down (or over) before the worker got to it: no longer news to send.
        return "alert no longer showing: nothing sent"
    pod = alert.pod
    key = f"alert:{alert.pk}"
    sent = 0
    for reader in alert_readers(pod):
        message = render_email(
            "alert",
            to=reader.email,
            language=reader.language,
            context={
                "name": person_name(reader),
                "pod": pod,
                "alert": alert,
                "pod_url": site_url("pods:dashboard", pod.slug),
                "unsubscribe_url": unsubscribe_url(reader),
            },
            headers=unsubscribe_headers(reader),
        )
        if claim_and_send(
            pod=pod, user=reader, kind=Notification.Kind.ALERT, key=key, message=message
        ):
            sent += 1
    return f"{sent} alert emails queued"


# The organizers' news


def organizers_told_at_once(pod, *, besides=None):
    """The pod's organizers who want an email for each new referral and member, but not
    `besides` (the person who did it needs no news of it)."""
    organizers = (
        Membership.objects.organizers()
        .filter(pod=pod, notices=Membership.Notices.EACH, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    )
    return [m.user for m in organizers if besides is None or m.user_id != besides.pk]


def tell_organizers(pod, name, *, context, besides=None) -> None:
    """Email `name` (templates/emails/<name>_*) to each organizer who wants news at once."""
    send_on_commit(
        [
            render_email(
                name,
                to=organizer.email,
                language=organizer.language,
                context={**context, "pod": pod, "name": person_name(organizer)},
            )
            for organizer in organizers_told_at_once(pod, besides=besides)
        ]
    )


def tell_organizers_of_member(membership: Membership) -> None:
    pod = membership.pod
    tell_organizers(
        pod,
        "organizer_new_member",
        context={
            "member": person_name(membership.user),
            # Lazy: written in each organizer's language, as the mail is.
            "role": membership.Role(membership.role).label,
            "members_url": site_url("pods:members", pod.slug),
        },
        besides=membership.user,
    )
