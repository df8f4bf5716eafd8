import datetime
import re

import pytest
from django.utils import timezone

from pods.models import Invitation, Membership


@pytest.fixture
def make_invitation(pod, organizer):
    """An invitation to `pod` and the secret of its link, in any state a test needs."""

    def make(*, role=Membership.Role.DONOR, max_uses=1, uses=0, days=7, revoked=False):
        invitation = Invitation(
            pod=pod,
            role=role,
            max_uses=max_uses,
            uses=uses,
            expires_at=timezone.now() + datetime.timedelta(days=days),
            revoked_at=timezone.now() if revoked else None,
            created_by=organizer,
        )
        token = invitation.new_token()
        invitation.save()
        return invitation, token

    return make


@pytest.fixture
def code_in():
    """Reads the code allauth puts on a line of its own in a sign-in or verification
    email."""

    def read(message):
        match = re.search(r"^\s*([A-Z0-9-]{4,12})\s*$", message.body, re.MULTILINE)
        assert match, message.body
        return match.group(1)

    return read
