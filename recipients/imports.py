"""Importing the recipients the pod already supports from its spreadsheet: display name,
payment method, handle and, optionally, one way to reach them. Each new one is enrolled
into a free slot of the current cycle, and their private link is shown once, on the
page that answers the confirm (only its hash is kept). See pods/imports.py for the
upload, preview and confirm steps both lists share."""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from mutualaid.spreadsheet import Column
from mutualaid.text import clean_typed_text
from pods.access import get_pod_for_organizer
from pods.imports import (
    import_page_context,
    is_stale,
    stage,
    staged_import,
)
from pods.models import StagedImport
from recipients import services
from recipients.forms import CONTACT_MAX, HANDLE_MAX, NAME_MAX
from recipients.models import PaymentMethod, Recipient
from recipients.payment import handle_problem

RECIPIENT_COLUMNS = [
    Column("display_name", [gettext_lazy("display name"), gettext_lazy("name")]),
    Column("payment_method", [gettext_lazy("payment method"), gettext_lazy("method")]),
    Column(
        "payment_handle",
        [gettext_lazy("handle"), gettext_lazy("payment handle")],
        required=False,
    ),
    Column(
        "contact",
        [gettext_lazy("contact"), gettext_lazy("how to reach them")],
        required=False,
    ),
]


class RowStatus:
    NEW = "new"
    HERE = "here"
    NO_SLOT = "no_slot"
    ERROR = "error"
    ENROLLED = "enrolled"


@dataclass
class RecipientRow:
    number: int
    display_name: str
    method_text: str
    payment_handle: str
    contact: str
    payment_method: str = ""
    errors: list = field(default_factory=list)
    status: str = RowStatus.NEW
    recipient_id: int | None = None


def _squeezed(text):
    return "".join(c for c in text.casefold() if c.isalnum())


def _method_names():
    """Every way the file may name a method: its code or its label in any language."""
    names = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for method in PaymentMethod:
                names[_squeezed(str(method.label))] = method.value
    names.update({_squeezed(method.value): method.value for method in PaymentMethod})
    return names


def _key(method, handle, name):
    # Cash has no handle: the name tells cash recipients apart.
    if method == PaymentMethod.CASH or not handle:
        return (method, "", name.casefold())
    return (method, handle.casefold().lstrip("$@"), "")


def where_to_enroll(pod):
    """The cycle and the first week that newcomers are enrolled from (weeks that have
    started are frozen), or (cycle, None) when there is no week left to enroll into."""
    cycle = pod.current_cycle()
    if cycle is None:
        return None, None
    return cycle, cycle.first_open_week()


def check_recipients(pod, cells, *, cycle, first_week):
    """Each row as it will be taken: its errors, "already here", or no slot left. A
    fixed number of queries for any length."""
    names = _method_names()
    here = {
        _key(method, handle, name)
        for name, method, handle in Recipient.objects.filter(pod=pod, erased_at=None).values_list(
            "display_name", "payment_method", "payment_handle"
        )
    }
    rows = []
    first_row_of = {}
    for cell in cells:
        row = RecipientRow(
            number=cell["number"],
            display_name=clean_typed_text(cell.get("display_name", "")),
            method_text=cell.get("payment_method", ""),
            payment_handle=clean_typed_text(cell.get("payment_handle", "")),
            contact=clean_typed_text(cell.get("contact", "")),
        )
        if not row.display_name:
            row.errors.append(_("The name is missing."))
        elif len(row.display_name) > NAME_MAX:
            row.errors.append(_("The name is longer than %(max)s characters.") % {"max": NAME_MAX})
        row.payment_method = names.get(_squeezed(row.method_text), "")
        if not row.payment_method:
            row.errors.append(
                _("“%(method)s” is not a payment method we know. Write one of: %(methods)s.")
                % {
                    "method": row.method_text,
                    "methods": ", ".join(str(m.label) for m in PaymentMethod),
                }
            )
        elif row.payment_method != PaymentMethod.CASH and not row.payment_handle:
            row.errors.append(_("The payment handle is missing."))
        elif len(row.payment_handle) > HANDLE_MAX:
            row.errors.append(
                _("The handle is longer than %(max)s characters.") % {"max": HANDLE_MAX}
            )
        else:
            problem = handle_problem(row.payment_method, row.payment_handle)
            if problem:
                row.errors.append(problem)
        if len(row.contact) > CONTACT_MAX:
            row.errors.append(
                _("The contact is longer than %(max)s characters.") % {"max": CONTACT_MAX}
            )
        if not row.errors:
            key = _key(row.payment_method, row.payment_handle, row.display_name)
            if key in first_row_of:
                row.errors.append(
                    _("The same person is on row %(row)s.") % {"row": first_row_of[key]}
                )
            else:
                first_row_of[key] = row.number
                if key in here:
                    row.status = RowStatus.HERE
        if row.errors:
            row.status = RowStatus.ERROR
        rows.append(row)
    room = services.open_slots(cycle, first_week) if first_week else 0
    for row in rows:
        if row.status == RowStatus.NEW:
            if room > 0:
                room -= 1
            else:
                row.status = RowStatus.NO_SLOT
    return rows


def _counts(rows):
    counts = {}
    for row in rows:
        status = row["status"] if isinstance(row, dict) else row.status
        counts[status] = counts.get(status, 0) + 1
    return counts


def _page(request, pod, staged, rows, *, cycle, first_week, links=None):
    return render(
        request,
        "recipients/import_recipients.html",
        import_page_context(
            request,
            pod,
            staged=staged,
            rows=rows,
            counts=_counts(rows),
            Status=RowStatus,
            cycle=cycle,
            first_week=first_week,
            links=links or [],
        ),
    )


@never_cache
@login_required
@require_POST
def import_recipients(request, slug):
    pod = get_pod_for_organizer(request, slug)
    staged, forms_ = stage(request, pod, StagedImport.Kind.RECIPIENTS, RECIPIENT_COLUMNS)
    if staged is None:
        return render(
            request, "pods/import.html", import_page_context(request, pod, **forms_), status=400
        )
    return redirect("recipients:import_preview", slug=pod.slug, upload=staged.pk)


@never_cache
@login_required
@require_safe
def import_preview(request, slug, upload):
    pod = get_pod_for_organizer(request, slug)
    staged = staged_import(pod, upload, StagedImport.Kind.RECIPIENTS)
    cycle, first_week = where_to_enroll(pod)
    if staged.imported_at is not None:
        return _page(request, pod, staged, staged.outcome, cycle=cycle, first_week=first_week)
    if is_stale(staged):
        messages.error(request, _("This upload is more than a day old. Upload the file again."))
        return redirect("pods:import", slug=pod.slug)
    rows = (
        check_recipients(pod, staged.rows, cycle=cycle, first_week=first_week)
        if cycle is not None
        else []
    )
    return _page(request, pod, staged, rows, cycle=cycle, first_week=first_week)


@never_cache
@login_required
@require_POST
def import_confirm(request, slug, upload):
    pod = get_pod_for_organizer(request, slug)
    staged = staged_import(pod, upload, StagedImport.Kind.RECIPIENTS)
    preview = redirect("recipients:import_preview", slug=pod.slug, upload=staged.pk)
    cycle, first_week = where_to_enroll(pod)
    if cycle is None or first_week is None:
        messages.error(request, _("No cycle is running with weeks left to enroll into."))
        return preview
    try:
        return _confirm(request, pod, staged, cycle=cycle, first_week=first_week)
    except ValidationError as error:
        # The pod changed under the preview in a way the checks did not foresee (the
        # database's rules refused a row): nothing was imported.
        messages.error(request, " ".join(error.messages))
        return preview


def _confirm(request, pod, staged, *, cycle, first_week):
    preview = redirect("recipients:import_preview", slug=pod.slug, upload=staged.pk)
    with transaction.atomic():
        # The upload's row lock: a second confirm waits here, then finds it imported.
        staged = StagedImport.objects.select_for_update().get(pk=staged.pk)
        if staged.imported_at is not None:
            messages.info(
                request,
                _(
                    "This list was imported already; nothing changed. The private links "
                    "were shown then: to give someone a new one, open their page."
                ),
            )
            return preview
        if is_stale(staged):
            messages.error(request, _("This upload is more than a day old. Upload the file again."))
            return redirect("pods:import", slug=pod.slug)
        rows = check_recipients(pod, staged.rows, cycle=cycle, first_week=first_week)
        new = [row for row in rows if row.status == RowStatus.NEW]
        done = services.enroll_newcomers(
            cycle=cycle,
            first_week=first_week,
            newcomers=[
                services.Newcomer(
                    display_name=row.display_name,
                    payment_method=row.payment_method,
                    payment_handle=row.payment_handle,
                    contact=row.contact,
                )
                for row in new
            ],
        )
        links = []
        for row, enrolled in zip(new, done, strict=True):
            if enrolled is None:
                row.status = RowStatus.NO_SLOT
                continue
            row.status = RowStatus.ENROLLED
            row.recipient_id = enrolled.recipient.pk
            links.append(
                {
                    "recipient": enrolled.recipient,
                    "link": request.build_absolute_uri(
                        reverse("recipients:link", args=[enrolled.token])
                    ),
                }
            )
        staged.outcome = [
            {
                "number": row.number,
                "display_name": row.display_name,
                "method_text": row.method_text,
                "errors": row.errors,
                "status": row.status,
                "recipient_id": row.recipient_id,
            }
            for row in rows
        ]
        staged.rows = []
        staged.imported_at = timezone.now()
        staged.save(update_fields=["outcome", "rows", "imported_at"])
    messages.success(
        request,
        ngettext(
            "%(count)s recipient enrolled in cycle %(cycle)s.",
            "%(count)s recipients enrolled in cycle %(cycle)s.",
            len(links),
        )
        % {"count": len(links), "cycle": cycle.number},
    )
    # Rendered here, never after a redirect: the links' secrets are kept nowhere, and
    # this is the only time they appear.
    return _page(
        request, pod, staged, staged.outcome, cycle=cycle, first_week=first_week, links=links
    )
