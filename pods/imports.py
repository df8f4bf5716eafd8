"""Importing the pod's lists from a spreadsheet (organizers only): the donors here, the
recipients in recipients/imports.py, on one "Import" page.

Upload, preview, confirm. The upload is read and its cells kept (StagedImport); the
preview shows each row as it will be taken, with what is wrong with it; nothing happens
until the organizer confirms. The confirm reads the kept cells again against the pod as
it is then, under the upload's row lock, so a confirm sent twice imports once, and the
same file uploaded again finds everyone already there."""

import datetime
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from mutualaid.money import MoneyField
from mutualaid.spreadsheet import MAX_BYTES, MAX_ROWS, Column, SpreadsheetError, read_csv
from pods import services
from pods.access import get_pod_for_organizer
from pods.models import StagedImport
from pods.templatetags.money import format_money

# An upload not confirmed within this time is gone: the pod may have changed a lot.
STAGED_FOR = datetime.timedelta(days=1)
NAME_MAX = 80

DONOR_COLUMNS = [
    Column("name", [gettext_lazy("name"), gettext_lazy("display name")]),
    Column("email", [gettext_lazy("email"), gettext_lazy("email address"), "e-mail"]),
    Column(
        "weekly_amount",
        [gettext_lazy("weekly amount"), gettext_lazy("amount"), gettext_lazy("weekly pledge")],
        required=False,
    ),
]


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "From Google Sheets: File, Download, Comma-separated values. From Excel: "
            "Save as, CSV UTF-8."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


def upload_forms(data=None, files=None, *, bound=None):
    """The Import page's two forms, each with a prefix of its own (their fields' ids
    must differ); `bound` (a kind) is the one sent."""
    return {
        f"{kind}_form": UploadForm(
            data if kind == bound else None, files if kind == bound else None, prefix=kind
        )
        for kind in ("donors", "recipients")
    }


def stage(request, pod, kind, columns):
    """Read the uploaded file and keep its cells; return (the StagedImport, the forms
    of the Import page). The StagedImport is None when the file cannot be read: its form
    says why."""
    forms_ = upload_forms(request.POST, request.FILES, bound=kind)
    form = forms_[f"{kind}_form"]
    if not form.is_valid():
        return None, forms_
    upload = form.cleaned_data["file"]
    try:
        rows = read_csv(upload, columns)
    except SpreadsheetError as error:
        form.add_error("file", str(error))
        return None, forms_
    # Uploads never confirmed are dropped after a day: they hold people's addresses.
    StagedImport.objects.filter(
        pod=pod, imported_at=None, created_at__lt=timezone.now() - STAGED_FOR
    ).delete()
    staged = StagedImport.objects.create(
        pod=pod,
        kind=kind,
        created_by=request.user,
        file_name=(upload.name or "")[:200],
        language=translation.get_language() or "",
        rows=[{"number": row.number, **row.cells} for row in rows],
    )
    return staged, forms_


def staged_import(pod, pk, kind):
    return get_object_or_404(StagedImport, pod=pod, pk=pk, kind=kind)


def is_stale(staged):
    return staged.imported_at is None and staged.created_at < timezone.now() - STAGED_FOR


def read_amount(text, currency, *, field=None):
    """An amount as a spreadsheet writes it, by the reader's rules (mutualaid/money.py),
    after any currency sign or code around it ("$25", "25,00 US$", "25 USD")."""
    text = text.strip()
    upper = text.upper()
    for code in (currency.upper(), "US$", "US"):
        upper = upper.replace(code, " ")
    stripped = "".join(c for c in upper if unicodedata.category(c) != "Sc").strip()
    field = field or MoneyField(required=False)
    return field.clean(stripped if stripped else text)


# The donors' list


class RowStatus:
    NEW = "new"
    MEMBER = "member"
    INVITED = "invited"
    ERROR = "error"
    SENT = "sent"


@dataclass
class DonorRow:
    number: int
    name: str
    email: str
    amount_text: str
    amount: Decimal | None = None
    errors: list = field(default_factory=list)
    status: str = RowStatus.NEW


def check_donors(pod, cells):
    """Each row of the donors' list as it will be taken: its errors, or whether the
    person is already a member or invited. A fixed number of queries for any length."""
    rows = []
    first_row_of = {}
    money = MoneyField(required=False)
    for cell in cells:
        row = DonorRow(
            number=cell["number"],
            name=cell.get("name", ""),
            email=cell.get("email", "").lower(),
            amount_text=cell.get("weekly_amount", ""),
        )
        if not row.name:
            row.errors.append(_("The name is missing."))
        elif len(row.name) > NAME_MAX:
            row.errors.append(_("The name is longer than %(max)s characters.") % {"max": NAME_MAX})
        if not row.email:
            row.errors.append(_("The email address is missing."))
        else:
            if not services.is_email(row.email):
                row.errors.append(_("“%(email)s” is not an email address.") % {"email": row.email})
            else:
                if row.email in first_row_of:
                    row.errors.append(
                        _("The same address is on row %(row)s.") % {"row": first_row_of[row.email]}
                    )
                else:
                    first_row_of[row.email] = row.number
        if row.amount_text:
            try:
                row.amount = read_amount(row.amount_text, pod.currency, field=money)
            except ValidationError as error:
                row.errors.extend(error.messages)
        rows.append(row)
    members, invited = services.already_there(pod, first_row_of)
    for row in rows:
        if row.errors:
            row.status = RowStatus.ERROR
        elif row.email in members:
            row.status = RowStatus.MEMBER
        elif row.email in invited:
            row.status = RowStatus.INVITED
    return rows


def _shown(rows, currency):
    """The rows as the page shows them, each one's words worked out once here: a page of
    a thousand rows renders in a fraction of the time a template's tags per row take."""
    notes = {
        RowStatus.NEW: _("Will be invited by email"),
        RowStatus.SENT: _("Invited by email"),
        RowStatus.MEMBER: _("Already a member: left alone"),
        RowStatus.INVITED: _("Already invited: left alone"),
        RowStatus.ERROR: _("Left out:"),
    }
    shown = []
    for row in rows:
        get = row.get if isinstance(row, dict) else lambda name, row=row: getattr(row, name)
        amount = get("amount")
        shown.append(
            {
                "number": get("number"),
                "name": get("name"),
                "email": get("email"),
                "amount": format_money(amount, currency) if amount else get("amount_text"),
                "status": get("status"),
                "note": notes[get("status")],
                "errors": get("errors"),
            }
        )
    return shown


def _counts(rows):
    counts = {}
    for row in rows:
        status = row["status"] if isinstance(row, dict) else row.status
        counts[status] = counts.get(status, 0) + 1
    return counts


def import_page_context(request, pod, **extra):
    return {
        "pod": pod,
        "membership": request.membership,
        "section": "import",
        "max_rows": MAX_ROWS,
        "max_kb": MAX_BYTES // 1024,
        **extra,
    }


@login_required
@require_safe
def import_page(request, slug):
    pod = get_pod_for_organizer(request, slug)
    return render(
        request,
        "pods/import.html",
        import_page_context(request, pod, **upload_forms()),
    )


@never_cache
@login_required
@require_POST
def import_donors(request, slug):
    pod = get_pod_for_organizer(request, slug)
    staged, forms_ = stage(request, pod, StagedImport.Kind.DONORS, DONOR_COLUMNS)
    if staged is None:
        return render(
            request, "pods/import.html", import_page_context(request, pod, **forms_), status=400
        )
    return redirect("pods:import_donors_preview", slug=pod.slug, upload=staged.pk)


@never_cache
@login_required
@require_safe
def import_donors_preview(request, slug, upload):
    """What the upload will do (or, once imported, what it did)."""
    pod = get_pod_for_organizer(request, slug)
    staged = staged_import(pod, upload, StagedImport.Kind.DONORS)
    if staged.imported_at is not None:
        rows = staged.outcome
    elif is_stale(staged):
        messages.error(request, _("This upload is more than a day old. Upload the file again."))
        return redirect("pods:import", slug=pod.slug)
    else:
        with translation.override(staged.language or translation.get_language()):
            rows = check_donors(pod, staged.rows)
    return render(
        request,
        "pods/import_donors.html",
        import_page_context(
            request,
            pod,
            staged=staged,
            rows=_shown(rows, pod.currency),
            counts=_counts(rows),
            Status=RowStatus,
        ),
    )


@never_cache
@login_required
@require_POST
def import_donors_confirm(request, slug, upload):
    pod = get_pod_for_organizer(request, slug)
    staged = staged_import(pod, upload, StagedImport.Kind.DONORS)
    with transaction.atomic():
        # The upload's row lock: a second confirm (another tab, a double tap) waits
        # here, then finds the list imported and does nothing.
        staged = StagedImport.objects.select_for_update().get(pk=staged.pk)
        if staged.imported_at is not None:
            messages.info(request, _("This list was imported already; nothing changed."))
            return redirect("pods:import_donors_preview", slug=pod.slug, upload=staged.pk)
        if is_stale(staged):
            messages.error(request, _("This upload is more than a day old. Upload the file again."))
            return redirect("pods:import", slug=pod.slug)
        with translation.override(staged.language or translation.get_language()):
            rows = check_donors(pod, staged.rows)
        new = [row for row in rows if row.status == RowStatus.NEW]
        invited = services.invite_by_email(
            pod=pod,
            by=request.user,
            invitees=[
                services.Invitee(email=row.email, name=row.name, suggested_amount=row.amount)
                for row in new
            ],
        )
        sent = set(invited.sent)
        for row in new:
            if row.email in sent:
                row.status = RowStatus.SENT
            elif row.email in invited.members:
                row.status = RowStatus.MEMBER
            else:
                row.status = RowStatus.INVITED
        staged.outcome = [
            {
                "number": row.number,
                "name": row.name,
                "email": row.email,
                "amount": str(row.amount) if row.amount is not None else "",
                "amount_text": row.amount_text,
                "errors": row.errors,
                "status": row.status,
            }
            for row in rows
        ]
        # The cells are not needed any more: what was done is in the outcome.
        staged.rows = []
        staged.imported_at = timezone.now()
        staged.save(update_fields=["outcome", "rows", "imported_at"])
    messages.success(request, _invited_message(len(sent)))
    return redirect("pods:import_donors_preview", slug=pod.slug, upload=staged.pk)


def _invited_message(count):
    return ngettext(
        "%(count)s invitation sent by email.", "%(count)s invitations sent by email.", count
    ) % {"count": count}
