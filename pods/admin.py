import datetime

from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from mutualaid.admin import PodScopedAdmin, SamePodForm, is_site_admin, organized_pod_ids
from pods.models import Alert, Invitation, Membership, Pod

# How long a new invitation link works unless the organizer says otherwise.
INVITATION_LIFETIME = datetime.timedelta(days=14)


@admin.register(Pod)
class PodAdmin(PodScopedAdmin):
    pod_path = ""
    # Site admins create pods; organizers run theirs.
    organizer_can_add = False
    list_display = ["name", "slug", "currency", "payday", "auto_handoff"]
    search_fields = ["name", "slug"]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if not is_site_admin(request.user):
            # The slug is in every link members have saved; changing it breaks them all.
            readonly = [*readonly, "slug"]
        return readonly

    def get_prepopulated_fields(self, request, obj=None):
        return {"slug": ("name",)} if is_site_admin(request.user) else {}


class MembershipForm(SamePodForm):
    # The person being made a member is, by definition, not one yet.
    people_from_anywhere = ("user",)

    def clean(self):
        cleaned_data = super().clean()
        membership = self.instance
        stays_organizer = cleaned_data.get("active", membership.active) and (
            cleaned_data.get("role", membership.role) == Membership.Role.ORGANIZER
        )
        if membership.pk and membership.is_organizer and not stays_organizer:
            others = (
                Membership.objects.organizers()
                .filter(pod_id=membership.pod_id)
                .exclude(pk=membership.pk)
            )
            if not others.exists():
                raise ValidationError(
                    _("A pod needs an organizer: make someone else an organizer first.")
                )
        return cleaned_data


@admin.register(Membership)
class MembershipAdmin(PodScopedAdmin):
    form = MembershipForm
    # People join through invitations; organizers change roles and who is active.
    organizer_can_add = False
    list_display = ["user", "pod", "role", "active", "joined_at"]
    list_filter = [("pod", RelatedOnlyFieldListFilter), "role", "active"]
    list_select_related = ["user", "pod"]
    search_fields = ["user__email", "user__display_name"]
    fields = ["pod", "user", "role", "active", "invitation", "joined_at"]
    readonly_fields = ["invitation", "joined_at"]
    readonly_on_change = ("pod", "user")


@admin.register(Invitation)
class InvitationAdmin(PodScopedAdmin):
    list_display = ["__str__", "pod", "role", "uses", "max_uses", "expires_at", "state"]
    list_filter = [("pod", RelatedOnlyFieldListFilter), "role"]
    list_select_related = ["pod", "created_by"]
    search_fields = ["pod__name"]
    fields = [
        "pod",
        "role",
        "expires_at",
        "max_uses",
        "uses",
        "revoked_at",
        "created_by",
        "email",
        "suggested_amount",
    ]
    # Set when the app emails an invitation (see pods/services.py); not retyped here.
    readonly_fields = ["uses", "revoked_at", "created_by", "email", "suggested_amount"]
    readonly_on_change = ("pod",)
    actions = ["revoke"]

    @admin.display(description=pgettext_lazy("invitation", "status"))
    def state(self, invitation):
        return invitation.status().label

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("expires_at", timezone.now() + INVITATION_LIFETIME)
        pods = organized_pod_ids(request)
        if len(pods) == 1 and not is_site_admin(request.user):
            initial.setdefault("pod", next(iter(pods)))
        return initial

    def save_model(self, request, obj, form, change):
        token = None
        if not change:
            obj.created_by = request.user
            token = obj.new_token()
        super().save_model(request, obj, form, change)
        if token:
            # The link is shown this once: only its hash is stored.
            self.message_user(
                request,
                _("Share this link to invite people (it is shown only now): %(link)s")
                % {"link": request.build_absolute_uri(join_path(token))},
                messages.SUCCESS,
            )

    @admin.action(description=_("Revoke the selected invitations"), permissions=["change"])
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at=None).update(revoked_at=timezone.now())
        self.message_user(
            request,
            ngettext("%(count)s invitation revoked.", "%(count)s invitations revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )


def join_path(token):
    try:
        return reverse("users:join", args=[token])
    except NoReverseMatch:
        return f"/join/{token}/"


@admin.register(Alert)
class AlertAdmin(PodScopedAdmin):
    organizer_can_delete = True
    list_display = ["__str__", "pod", "created_at", "expires_at", "taken_down_at"]
    list_filter = [("pod", RelatedOnlyFieldListFilter)]
    list_select_related = ["pod"]
    search_fields = ["message"]
    fields = ["pod", "message", "expires_at", "taken_down_at", "created_by"]
    readonly_fields = ["created_by"]
    readonly_on_change = ("pod",)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
