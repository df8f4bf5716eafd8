"""The organizers' news of their pod: a new referral, by email at once, and the daily
digest of new referrals and members for organizers who chose it instead
(Membership.notices). A new member's own email is in pods/notices.py.

The digest is a daily job (pledges.tasks.send_organizer_digests, from the cron line's
`enqueue_daily_jobs`). It goes out once per organizer per day: each is logged first as a
pods.Notification whose unique (person, kind, key) lets only one run or worker claim it."""

import datetime
import zoneinfo
from dataclasses import dataclass, field

from mutualaid.mail import render_email
from pods.models import Membership, Notification, Pod
from pods.notices import claim_and_send, person_name, site_url, tell_organizers
from recipients.models import Referral

# A digest covers the days since the organizer's last one, at most this many: after a long
# silence of the daily job, old news is not news.
DIGEST_MAX_DAYS = 7


def tell_organizers_of_referral(referral: Referral) -> None:
    pod = referral.pod
    waiting = list(Referral.objects.filter(pod=pod).waiting().values_list("pk", flat=True))
    referred_by = referral.referred_by
    tell_organizers(
        pod,
        "organizer_new_referral",
        context={
            "referral": referral,
            "referred_by": person_name(referred_by) if referred_by else "",
            "place": waiting.index(referral.pk) + 1 if referral.pk in waiting else None,
            "referral_url": site_url("recipients:referral", pod.slug, referral.pk),
        },
        besides=referred_by,
    )


def digest_key(pod: Pod, day: datetime.date) -> str:
    return f"pod:{pod.pk}:digest:{day.isoformat()}"


def _day_of(key: str) -> datetime.date:
    return datetime.date.fromisoformat(key.rsplit(":", 1)[1])


@dataclass
class DigestOutcome:
    told: list = field(default_factory=list)
    already_sent: int = 0
    nothing_new: int = 0


def send_digests(*, pod: Pod, today: datetime.date, dry_run: bool = False) -> DigestOutcome:
    """Send today's digest (`today` on the pod's clock) to each of `pod`'s organizers who
    chose one: what came in since their last digest (yesterday, the first time), up to
    the start of today. Nothing new, no email."""
    outcome = DigestOutcome()
    organizers = list(
        Membership.objects.organizers()
        .filter(pod=pod, notices=Membership.Notices.DAILY, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    )
    if not organizers:
        return outcome
    zone = zoneinfo.ZoneInfo(pod.time_zone)
    key = digest_key(pod, today)
    earliest = today - datetime.timedelta(days=DIGEST_MAX_DAYS)
    last_day = {}
    for user_id, sent_key in Notification.objects.filter(
        pod=pod,
        kind=Notification.Kind.ORGANIZER_DIGEST,
        user__in=[m.user_id for m in organizers],
        created_at__gte=datetime.datetime.combine(earliest, datetime.time(), zone),
    ).values_list("user_id", "key"):
        day = _day_of(sent_key)
        last_day[user_id] = max(day, last_day.get(user_id, day))

    def since(user_id):
        return max(last_day.get(user_id, today - datetime.timedelta(days=1)), earliest)

    def midnight(day):
        return datetime.datetime.combine(day, datetime.time(), zone)

    start, end = midnight(min(since(m.user_id) for m in organizers)), midnight(today)
    referrals = list(
        Referral.objects.filter(pod=pod, created_at__gte=start, created_at__lt=end).order_by(
            "created_at", "pk"
        )
    )
    members = list(
        Membership.objects.active()
        .filter(pod=pod, joined_at__gte=start, joined_at__lt=end)
        .select_related("user")
        .order_by("joined_at", "pk")
    )
    for organizer in organizers:
        user = organizer.user
        if last_day.get(user.pk) == today:
            outcome.already_sent += 1
            continue
        day = since(user.pk)
        mine = {
            "referrals": [r for r in referrals if r.created_at >= midnight(day)],
            "members": [
                {"name": person_name(m.user), "role": m.Role(m.role).label}
                for m in members
                if m.joined_at >= midnight(day) and m.user_id != user.pk
            ],
        }
        if not mine["referrals"] and not mine["members"]:
            outcome.nothing_new += 1
            continue
        message = render_email(
            "organizer_digest",
            to=user.email,
            language=user.language,
            context={
                **mine,
                "pod": pod,
                "name": person_name(user),
                "since": day,
                "waitlist_url": site_url("recipients:waitlist", pod.slug),
                "members_url": site_url("pods:members", pod.slug),
            },
        )
        if dry_run or claim_and_send(
            pod=pod,
            user=user,
            kind=Notification.Kind.ORGANIZER_DIGEST,
            key=key,
            message=message,
        ):
            outcome.told.append(user)
        else:
            outcome.already_sent += 1
    return outcome
