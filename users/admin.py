from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from mutualaid.admin import is_site_admin, organized_pod_ids, parse_id

User = get_user_model()


class UserForm(forms.ModelForm):
    def clean_email(self):
        # Stored lower-case (as UserManager does) so that the unique check sees the
        # same address typed another way.
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """People, for site admins only. Organizers see their pods' members (and only them)
    through memberships; a list of everybody on the instance is none of their business."""

    form = UserForm
    list_display = ["email", "display_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "display_name"]
    ordering = ["email"]
    fieldsets = [
        (None, {"fields": ["email", "display_name", "language", "alert_emails", "is_active"]}),
        (_("Site administration"), {"fields": ["is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = ["groups"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a superuser hands out the keys to the instance.
            readonly += ["is_staff", "is_superuser", "groups"]
        return readonly

    def save_model(self, request, obj, form, change):
        if not change:
            # Signing in works by an emailed code; nobody needs a password.
            obj.set_unusable_password()
        super().save_model(request, obj, form, change)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Every link to a person in the admin (a receipt's payer, who posted an alert)
        points here, Django's way. An organizer may not see people's accounts, but may
        see their memberships of the organizer's pods: the link leads there instead of
        to a 403. Someone in none of their pods stays refused."""
        if is_site_admin(request.user):
            return super().change_view(request, object_id, form_url, extra_context)
        from pods.models import Membership

        # Only a link followed (GET) goes on; a change posted here is refused as before.
        user_id = parse_id(object_id)
        if request.method != "GET" or user_id is None:
            raise PermissionDenied
        memberships = list(
            Membership.objects.filter(
                pod_id__in=organized_pod_ids(request), user_id=user_id
            ).values_list("pk", flat=True)[:2]
        )
        if not memberships:
            raise PermissionDenied
        if len(memberships) == 1:
            url = reverse("admin:pods_membership_change", args=[memberships[0]])
        else:
            url = (
                reverse("admin:pods_membership_changelist")
                + "?"
                + urlencode({"user__id__exact": object_id})
            )
        return HttpResponseRedirect(url)

    def has_module_permission(self, request):
        return is_site_admin(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_site_admin(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return is_site_admin(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return is_site_admin(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_site_admin(request.user) and super().has_delete_permission(request, obj)
