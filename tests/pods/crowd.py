"""Grow a pod to any size quickly, for checking that pages do not slow down with it."""

from decimal import Decimal

from django.contrib.auth import get_user_model

from pledges.models import Pledge
from pods.models import Membership


def add_donors(pod, cycle, count, *, start=0):
    """`count` more donors in `pod`, each pledging 10.00 a week for all of `cycle`."""
    User = get_user_model()
    users = User.objects.bulk_create(
        User(email=f"neighbor{n}@example.org", display_name=f"Neighbor {n}", password="!")
        for n in range(start, start + count)
    )
    Membership.objects.bulk_create(Membership(pod=pod, user=user) for user in users)
    if cycle is not None:
        Pledge.objects.bulk_create(
            Pledge(cycle=cycle, donor=user, amount=Decimal("10.00"), last_week=cycle.weeks)
            for user in users
        )
    return users
