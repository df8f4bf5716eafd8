from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter

from mutualaid.admin import PodScopedAdmin
from pledges.models import Assignment, Pledge


@admin.register(Pledge)
class PledgeAdmin(PodScopedAdmin):
    pod_path = "cycle__pod"
    # A donor's pledges are a timeline that the pledge pages keep consistent (a change
    # ends one record and starts the next); organizers read it here.
    organizer_can_add = False
    organizer_can_change = False
    list_display = ["donor", "cycle", "amount", "first_week", "last_week", "status"]
    list_filter = [("cycle", RelatedOnlyFieldListFilter), "status"]
    list_select_related = ["donor", "cycle__pod"]
    search_fields = ["donor__display_name", "donor__email"]
    readonly_on_change = ("cycle", "donor")


@admin.register(Assignment)
class AssignmentAdmin(PodScopedAdmin):
    pod_path = "cycle__pod"
    organizer_can_delete = True
    list_display = ["week", "cycle", "payer", "recipient", "amount"]
    list_filter = [("cycle", RelatedOnlyFieldListFilter), "week"]
    list_select_related = ["payer", "recipient", "cycle__pod"]
    search_fields = ["recipient__display_name", "payer__display_name", "payer__email"]
    readonly_on_change = ("cycle",)
