from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.utils import timezone

from mutualaid.admin import PodScopedAdmin
from recipients.models import Enrollment, Recipient, Referral


@admin.register(Recipient)
class RecipientAdmin(PodScopedAdmin):
    list_display = ["display_name", "pod", "payment_method", "payment_handle", "handle_changed_at"]
    list_filter = [("pod", RelatedOnlyFieldListFilter), "payment_method"]
    list_select_related = ["pod"]
    search_fields = ["display_name"]
    fields = [
        "pod",
        "display_name",
        "payment_method",
        "payment_handle",
        "contact",
        "language",
        "handle_changed_at",
        "erased_at",
        "created_at",
    ]
    readonly_fields = ["handle_changed_at", "erased_at", "created_at"]
    readonly_on_change = ("pod",)

    def has_change_permission(self, request, obj=None):
        # What was erased stays erased: nobody writes a name, handle or contact back
        # onto a former recipient. Their row is shown, read-only, under its label.
        if obj is not None and obj.is_erased:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # A new handle is how most payment fraud starts ("send it to my new handle"):
        # payers are warned about it for a while after it changes.
        if change and "payment_handle" in form.changed_data:
            obj.handle_changed_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(Enrollment)
class EnrollmentAdmin(PodScopedAdmin):
    pod_path = "cycle__pod"
    list_display = ["recipient", "cycle", "slot", "first_week", "last_week", "status"]
    list_filter = [("cycle", RelatedOnlyFieldListFilter), "status"]
    list_select_related = ["recipient", "cycle__pod"]
    search_fields = ["recipient__display_name"]
    fields = [
        "cycle",
        "recipient",
        "slot",
        "first_week",
        "last_week",
        "status",
        "ended_at",
        "end_reason",
    ]
    readonly_on_change = ("cycle", "recipient")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recipient", "cycle__pod")


@admin.register(Referral)
class ReferralAdmin(PodScopedAdmin):
    # A withdrawn referral's contact is better gone than kept.
    organizer_can_delete = True
    list_display = ["display_name", "pod", "status", "referred_by", "created_at"]
    list_filter = [("pod", RelatedOnlyFieldListFilter), "status"]
    list_select_related = ["pod", "referred_by"]
    search_fields = ["display_name"]
    fields = [
        "pod",
        "display_name",
        "contact",
        "note",
        "status",
        "recipient",
        "referred_by",
        "created_at",
    ]
    # The queue is first come, first served: its order (created_at) is not edited here.
    readonly_fields = ["referred_by", "created_at"]
    readonly_on_change = ("pod",)

    def has_change_permission(self, request, obj=None):
        # An erased referral (withdrawn, past the window) stays erased, as a recipient does.
        if obj is not None and obj.erased_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.referred_by = request.user
        super().save_model(request, obj, form, change)
