"""Posting receipts and reading the receipts board.

The board's reads aggregate in the database (one grouped query per view of the data),
so that a pod's page costs the same number of queries in its first week and after
twenty thousand receipts.
"""

import datetime
import logging
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from pods.models import Cycle, Pod
from receipts.images import CleanImage
from receipts.models import STORAGE_DOWN, STORAGE_ERRORS, Receipt
from recipients.models import Enrollment, Recipient

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")


def post_receipt(
    *,
    pod: Pod,
    cycle: Cycle,
    posted_by,
    payer,
    recipient: Recipient,
    week: int,
    amount: Decimal,
    method: str,
    sent_on: datetime.date,
    reference: str = "",
    screenshot: CleanImage | None = None,
    submission_key: uuid.UUID,
) -> tuple[Receipt, bool]:
    """Post a receipt; return it and whether it is new.

    The same `submission_key` twice (a double tap, a retry) returns the receipt posted
    the first time and saves nothing, even when both requests arrive at once."""
    existing = Receipt.objects.filter(submission_key=submission_key).first()
    if existing is not None:
        return existing, False
    receipt = Receipt(
        pod=pod,
        cycle=cycle,
        week=week,
        recipient=recipient,
        payer=payer,
        amount=amount,
        method=method,
        sent_on=sent_on,
        reference=reference,
        posted_by=posted_by,
        submission_key=submission_key,
    )
    # The unique key is left to the database below: checking it here would race.
    receipt.full_clean(exclude=["screenshot"], validate_constraints=False)
    if screenshot is not None:
        # Storage is not transactional: the file goes first and is removed again if the
        # row cannot be saved, so no receipt ever points at a missing file.
        upload = screenshot.as_file()
        try:
            receipt.screenshot.save(upload.name, upload, save=False)
        except STORAGE_ERRORS as error:
            logger.warning("Screenshot not stored: %s", error)
            raise ValidationError({"screenshot": STORAGE_DOWN}, code="storage") from error
    try:
        with transaction.atomic():
            receipt.save()
    except IntegrityError:
        _forget_file(receipt)
        # Two submits of the same form at the same moment: the other one won.
        existing = Receipt.objects.filter(submission_key=submission_key).first()
        if existing is None:
            raise
        return existing, False
    except BaseException:
        _forget_file(receipt)
        raise
    return receipt, True


def _forget_file(receipt: Receipt) -> None:
    """Delete the file of a receipt that was not saved. Should storage refuse even that,
    the file is left behind, pointed at by nothing (logged): never a receipt without
    its file."""
    if not receipt.screenshot:
        return
    try:
        receipt.screenshot.delete(save=False)
    except STORAGE_ERRORS as error:
        logger.warning("Unsaved receipt's screenshot %s left behind: %s", receipt.screenshot, error)


def can_void(membership, receipt: Receipt) -> bool:
    """The person who posted a receipt, or an organizer of its pod, may void it."""
    return membership.is_organizer or receipt.posted_by_id == membership.user_id


class CellState:
    """What a grid cell says. Each state has a symbol and words, so that the grid reads
    without colour (and the CSS class adds colour for those who see it)."""

    CONFIRMED = "confirmed"
    PAID = "paid"
    PARTLY = "partly"
    MISSING = "missing"
    DUE = "due"
    UPCOMING = "upcoming"
    NOT_ENROLLED = "not-enrolled"

    SYMBOLS = {
        CONFIRMED: "✔✔",
        PAID: "✔",
        PARTLY: "◐",
        MISSING: "✘",
        DUE: "…",
        UPCOMING: "·",
        NOT_ENROLLED: "–",
    }
    LABELS = {
        CONFIRMED: _("paid in full, arrival confirmed by the recipient"),
        PAID: _("paid in full"),
        PARTLY: _("partly paid"),
        MISSING: _("missing"),
        DUE: _("due this week"),
        UPCOMING: _("upcoming"),
        NOT_ENROLLED: _("not enrolled"),
    }
    # The legend's order: from done to not yet.
    ORDER = [CONFIRMED, PAID, PARTLY, MISSING, DUE, UPCOMING, NOT_ENROLLED]


@dataclass(frozen=True)
class Cell:
    week: int
    state: str
    total: Decimal

    @property
    def symbol(self):
        return CellState.SYMBOLS[self.state]

    @property
    def label(self):
        return CellState.LABELS[self.state]


@dataclass
class GridRow:
    enrollment: Enrollment
    cells: list[Cell]
    left_after: int | None = None
    took_slot_from: int | None = None
    took_slot_after: str = ""
    handed_to: str = ""
    total: Decimal = ZERO

    @property
    def recipient(self):
        return self.enrollment.recipient


@dataclass
class Grid:
    weeks: list[int]
    rows: list[GridRow]
    due_week: int
    weekly_amount: Decimal
    legend: list[tuple[str, str, str]] = field(default_factory=list)


def board_grid(*, cycle: Cycle, enrollments: list[Enrollment], today: datetime.date) -> Grid:
    """The cycle as recipients x weeks, from one grouped query over its live receipts.

    `enrollments` (with their recipients, ordered by slot) are the rows: a recipient who
    left keeps their row up to their last week, and whoever took the slot has a row of
    their own from their first week, each saying so."""
    sums = (
        Receipt.objects.filter(cycle=cycle)
        .live()
        .values("recipient_id", "week")
        .annotate(
            total=Sum("amount"), confirmed=Sum("amount", filter=Q(confirmed_at__isnull=False))
        )
        # Without this the model's default ordering would join the GROUP BY.
        .order_by()
    )
    paid = {(row["recipient_id"], row["week"]): row for row in sums}
    last_due = cycle.due_week(today)
    # Before payday the current week is not late yet: "due", not "missing".
    current = cycle.week_of(today)
    not_late = current if current is not None and today <= cycle.payday(current) else None

    rows = []
    for enrollment in enrollments:
        cells = []
        row_total = ZERO
        for week in cycle.weeks_range:
            sums_row = paid.get((enrollment.recipient_id, week))
            total = _money(sums_row["total"]) if sums_row else ZERO
            confirmed = _money(sums_row["confirmed"]) if sums_row else ZERO
            row_total += total
            if total >= cycle.weekly_amount:
                state = CellState.CONFIRMED if confirmed >= cycle.weekly_amount else CellState.PAID
            elif total > 0:
                state = CellState.PARTLY
            elif not enrollment.first_week <= week <= enrollment.last_week:
                state = CellState.NOT_ENROLLED
            elif week > last_due:
                state = CellState.UPCOMING
            elif week == not_late:
                state = CellState.DUE
            else:
                state = CellState.MISSING
            cells.append(Cell(week=week, state=state, total=total))
        rows.append(GridRow(enrollment=enrollment, cells=cells, total=row_total))
    _explain_hand_offs(rows)
    return Grid(
        weeks=list(cycle.weeks_range),
        rows=rows,
        due_week=last_due,
        weekly_amount=cycle.weekly_amount,
        legend=[(s, CellState.SYMBOLS[s], CellState.LABELS[s]) for s in CellState.ORDER],
    )


def _explain_hand_offs(rows):
    """Say on each row who left (and after which week) and who took their slot."""
    by_slot = {}
    for row in rows:
        by_slot.setdefault(row.enrollment.slot, []).append(row)
    for row in rows:
        enrollment = row.enrollment
        if enrollment.status == Enrollment.Status.LEFT:
            row.left_after = enrollment.last_week
        if enrollment.first_week > 1:
            row.took_slot_from = enrollment.first_week
        before = [
            other
            for other in by_slot[enrollment.slot]
            if other.enrollment.status == Enrollment.Status.LEFT
            and other.enrollment.last_week < enrollment.first_week
        ]
        if enrollment.first_week > 1 and before:
            previous = max(before, key=lambda other: other.enrollment.last_week)
            row.took_slot_after = previous.recipient.display_name
            previous.handed_to = enrollment.recipient.display_name


def filtered_receipts(*, cycle: Cycle, week=None, recipient_id=None, payer_id=None):
    """The cycle's receipts (voided ones too), narrowed by the board's filters."""
    receipts = Receipt.objects.filter(cycle=cycle)
    if week is not None:
        receipts = receipts.filter(week=week)
    if recipient_id is not None:
        receipts = receipts.filter(recipient_id=recipient_id)
    if payer_id is not None:
        receipts = receipts.filter(payer_id=payer_id)
    return receipts


@dataclass
class Totals:
    per_week: list[tuple[int, Decimal]]
    per_recipient: list[tuple[str, Decimal]]
    total: Decimal


def receipt_totals(receipts) -> Totals:
    """Totals of the live receipts among `receipts` per week, per recipient and in all,
    from one grouped query (its rows are at most weeks x recipients)."""
    rows = (
        receipts.live()
        .values("recipient_id", "recipient__display_name", "week")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    per_week, per_recipient, names = {}, {}, {}
    grand = ZERO
    for row in rows:
        amount = _money(row["total"])
        per_week[row["week"]] = per_week.get(row["week"], ZERO) + amount
        per_recipient[row["recipient_id"]] = per_recipient.get(row["recipient_id"], ZERO) + amount
        names[row["recipient_id"]] = row["recipient__display_name"]
        grand += amount
    return Totals(
        per_week=sorted(per_week.items()),
        per_recipient=sorted(
            ((names[pk], amount) for pk, amount in per_recipient.items()),
            key=lambda item: item[0].casefold(),
        ),
        total=grand,
    )


def _money(value):
    # SQLite hands sums back without their trailing zeros (or as None for no rows).
    return (value or ZERO).quantize(Decimal("0.01"))
