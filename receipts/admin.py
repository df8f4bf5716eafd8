import csv
import zoneinfo

from django.contrib import admin, messages
from django.contrib.admin import ActionLocation, RelatedOnlyFieldListFilter
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from mutualaid.admin import PodScopedAdmin, is_site_admin
from receipts.forms import VoidForm
from receipts.models import Receipt

CSV_COLUMNS = [
    "cycle",
    "week",
    "sent_on",
    "recipient",
    "payer",
    "amount",
    "method",
    "reference",
    "posted_by",
    "posted_at",
    "voided_at",
    "void_reason",
]


def csv_safe(value):
    """A cell a spreadsheet shows as text. Members type the reference and names, and a
    cell starting with = + - @ (or a tab or carriage return) would run as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _in_pod_time(moment, pod):
    if moment is None:
        return ""
    return moment.astimezone(zoneinfo.ZoneInfo(pod.time_zone)).isoformat(timespec="seconds")


def receipts_csv_response(receipts, filename, *, person=str, recipient_name=str):
    """Every receipt in `receipts`, voided ones too (with why), as a CSV download.
    Amounts are written as the Decimal's own text, never through a float. `person` names
    the payer and poster (the members' board passes a name that is never an email)."""
    receipts = receipts.select_related("cycle", "pod", "recipient", "payer", "posted_by").order_by(
        "cycle__pod__name", "cycle__number", "week", "sent_on", "pk"
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A byte-order mark lets spreadsheet apps read accented and non-Latin names as UTF-8.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for receipt in receipts:
        writer.writerow(
            csv_safe(cell)
            for cell in [
                receipt.cycle.number,
                receipt.week,
                receipt.sent_on.isoformat(),
                recipient_name(receipt.recipient),
                person(receipt.payer),
                str(receipt.amount),
                receipt.get_method_display(),
                receipt.reference,
                person(receipt.posted_by),
                _in_pod_time(receipt.posted_at, receipt.pod),
                _in_pod_time(receipt.voided_at, receipt.pod),
                receipt.void_reason,
            ]
        )
    return response


class VoidedListFilter(admin.SimpleListFilter):
    title = _("voided")
    parameter_name = "voided"

    def lookups(self, request, model_admin):
        return [("yes", _("Voided")), ("no", _("Not voided"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.voided()
        if self.value() == "no":
            return queryset.live()
        return queryset


@admin.register(Receipt)
class ReceiptAdmin(PodScopedAdmin):
    """Receipts are append-only, for everybody: no adding, changing or deleting here. A
    mistake is voided with a reason, which keeps the receipt."""

    list_display = [
        "posted_at",
        "cycle",
        "week",
        "recipient",
        "payer",
        "amount",
        "method",
        "sent_on",
        "is_void",
    ]
    list_filter = [
        ("cycle", RelatedOnlyFieldListFilter),
        "week",
        VoidedListFilter,
        "method",
    ]
    list_select_related = ["cycle__pod", "recipient", "payer"]
    search_fields = ["recipient__display_name", "reference"]
    # The screenshot is left out: it is served to the pod's members by the app, never
    # from a bare media link.
    fields = [
        "pod",
        "cycle",
        "week",
        "recipient",
        "payer",
        "amount",
        "method",
        "sent_on",
        "reference",
        "posted_by",
        "posted_at",
        "confirmed_at",
        "voided_at",
        "voided_by",
        "void_reason",
    ]
    actions = ["void", "export_csv"]

    # Words, not Django's boolean icons: their alt text is an untranslated "True"/"False".
    @admin.display(description=_("voided"))
    def is_void(self, receipt):
        return pgettext("receipt state", "voided") if receipt.is_void else "—"

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_void_permission(self, request, obj=None):
        if is_site_admin(request.user):
            return request.user.has_perm("receipts.change_receipt")
        return self.organizes(request, obj)

    @admin.action(
        description=_("Void this receipt"),
        permissions=["void"],
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def void(self, request, queryset):
        receipts = list(queryset.select_related("cycle__pod", "recipient")[:2])
        if len(receipts) != 1:
            self.message_user(request, _("Select one receipt to void."), messages.ERROR)
            return None
        (receipt,) = receipts
        change_url = reverse("admin:receipts_receipt_change", args=[receipt.pk])
        if receipt.is_void:
            self.message_user(request, _("This receipt is already void."), messages.WARNING)
            return HttpResponseRedirect(change_url)
        if request.POST.get("post"):
            form = VoidForm(request.POST)
            if form.is_valid():
                try:
                    voided = receipt.void(by=request.user, reason=form.cleaned_data["reason"])
                except ValidationError as error:
                    form.add_error("reason", error.messages)
                else:
                    if voided:
                        self.log_change(request, receipt, [{"changed": {"fields": ["voided"]}}])
                        self.message_user(
                            request, _("The receipt is void and kept."), messages.SUCCESS
                        )
                    else:
                        self.message_user(
                            request, _("This receipt is already void."), messages.WARNING
                        )
                    return HttpResponseRedirect(change_url)
        else:
            form = VoidForm()
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Void a receipt"),
            "subtitle": str(receipt),
            "opts": self.opts,
            "object": receipt,
            "form": form,
            "action_name": "void",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/receipts/receipt/void.html", context)

    @admin.action(description=_("Export receipts as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        return receipts_csv_response(queryset, "receipts.csv")
