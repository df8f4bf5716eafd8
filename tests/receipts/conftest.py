from decimal import Decimal

import pytest

from receipts.models import Receipt


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads land in a throwaway folder, never in the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def add_receipt(pod, cycle, recipient, donor):
    """A receipt written straight to the database (as the admin or seed_demo would)."""

    def add(**fields):
        fields = {
            "pod": pod,
            "cycle": cycle,
            "week": 1,
            "recipient": recipient,
            "payer": donor,
            "amount": Decimal("175.00"),
            "method": "cashapp",
            "sent_on": cycle.week_starts_on(fields.get("week", 1)),
            "posted_by": fields.get("payer", donor),
            **fields,
        }
        return Receipt.objects.create(**fields)

    return add
