import datetime
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation, RelatedOnlyFieldListFilter
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Count, Max, Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from mutualaid.admin import (
    PodScopedAdmin,
    PodScopedTabularInline,
    SamePodForm,
    is_site_admin,
    organized_pod_ids,
)
from mutualaid.forms import add_service_errors
from pledges.models import Pledge
from pods.models import Alert, Cycle, Invitation, Membership, Pod
from pods.services import start_next_cycle
from pods.templatetags.money import format_money
from receipts.admin import receipts_csv_response
from receipts.models import Receipt
from recipients.models import Enrollment

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
    fields = ["pod", "role", "expires_at", "max_uses", "uses", "revoked_at", "created_by"]
    readonly_fields = ["uses", "revoked_at", "created_by"]
    readonly_on_change = ("pod",)
    actions = ["revoke"]

    @admin.display(description=_("status"))
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


class EnrollmentFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        field = form.fields.get("recipient")
        if field is None:
            return
        # Only the recipients of this cycle's pod, read once for all the rows.
        field.queryset = field.queryset.filter(pod_id=self.instance.pod_id)
        if not hasattr(self, "_recipient_choices"):
            self._recipient_choices = [("", field.empty_label)] + [
                (recipient.pk, str(recipient)) for recipient in field.queryset
            ]
        field.choices = self._recipient_choices

    def clean(self):
        super().clean()
        # The database allows one active enrollment per slot; two rows of this page
        # claiming the same slot would only be caught there, as an error page.
        taken = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE") or data.get("status") != Enrollment.Status.ACTIVE:
                continue
            slot = data.get("slot")
            if slot in taken:
                raise ValidationError(
                    _("Two recipients cannot both hold slot %(slot)s.") % {"slot": slot}
                )
            taken.add(slot)


class EnrollmentInline(PodScopedTabularInline):
    model = Enrollment
    pod_path = "cycle__pod"
    formset = EnrollmentFormSet
    fields = ["recipient", "slot", "first_week", "last_week", "status"]
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recipient", "cycle__pod")


class CycleForm(SamePodForm):
    def clean(self):
        cleaned_data = super().clean()
        cycle = self.instance
        if cycle.pk is None:
            return cleaned_data
        used = cycle.enrollments.active().aggregate(slot=Max("slot"), week=Max("last_week"))
        slots, weeks = cleaned_data.get("slots"), cleaned_data.get("weeks")
        if slots and used["slot"] and slots < used["slot"]:
            self.add_error(
                "slots",
                _("Slot %(slot)s is in use: free it before cutting the slots below it.")
                % {"slot": used["slot"]},
            )
        if weeks and used["week"] and weeks < used["week"]:
            self.add_error(
                "weeks",
                _("An enrollment runs to week %(week)s: end it earlier first.")
                % {"week": used["week"]},
            )
        return cleaned_data


class NextCycleForm(forms.Form):
    starts_on = forms.DateField(
        label=_("Starts on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    weeks = forms.IntegerField(label=_("Weeks"), min_value=1, max_value=104)
    weekly_amount = forms.DecimalField(
        label=_("Weekly amount per recipient"),
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    slots = forms.IntegerField(
        label=_("Slots"),
        min_value=1,
        max_value=32767,
        help_text=_("How many neighbors the pod supports at once in the new cycle."),
    )


@admin.register(Cycle)
class CycleAdmin(PodScopedAdmin):
    form = CycleForm
    list_display = [
        "pod",
        "number",
        "status",
        "starts_on",
        "weeks",
        "weekly_amount",
        "slots",
    ]
    list_display_links = ["pod", "number"]
    list_filter = [("pod", RelatedOnlyFieldListFilter), "status"]
    search_fields = ["pod__name"]
    readonly_on_change = ("pod",)
    inlines = [EnrollmentInline]
    actions = ["start_next", "export_receipts"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("pod")

    def get_inlines(self, request, obj):
        # A cycle being created has no pod yet to pick recipients from.
        return self.inlines if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        fields = ["pod", "number", "status", "starts_on", "weeks", "weekly_amount", "slots"]
        fieldsets = [(None, {"fields": fields})]
        if obj is not None:
            fieldsets.append((_("This week"), {"fields": ["slots_used", "coverage"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "slots_used", "coverage"]

    def figures(self, cycle):
        """Slots and coverage of the current week (week 1 before the cycle starts, the
        last week after it ends), in two queries however many rows there are."""
        if not hasattr(cycle, "_admin_figures"):
            today = cycle.pod.today()
            if today < cycle.starts_on:
                week = 1
            elif today > cycle.ends_on:
                week = cycle.weeks
            else:
                week = cycle.week_of(today)
            enrollments = cycle.enrollments.active().aggregate(
                used=Count("pk"),
                this_week=Count("pk", filter=Q(first_week__lte=week, last_week__gte=week)),
            )
            pledged = Pledge.objects.filter(cycle=cycle).active().in_week(week).total()
            needed = cycle.needed_per_week(enrollments["this_week"])
            cycle._admin_figures = {
                "week": week,
                "used": enrollments["used"],
                "enrolled": enrollments["this_week"],
                "pledged": Decimal(pledged),
                "needed": needed,
            }
        return cycle._admin_figures

    @admin.display(description=_("slots used / free"))
    def slots_used(self, cycle):
        if cycle.pk is None:
            return "—"
        used = self.figures(cycle)["used"]
        return _("%(used)s used, %(free)s free of %(slots)s") % {
            "used": used,
            "free": max(cycle.slots - used, 0),
            "slots": cycle.slots,
        }

    @admin.display(description=_("coverage"))
    def coverage(self, cycle):
        if cycle.pk is None:
            return "—"
        figures = self.figures(cycle)
        currency = cycle.pod.currency
        summary = ngettext(
            "Week %(week)s: pledged %(pledged)s a week; needed %(needed)s "
            "(%(enrolled)s recipient × %(amount)s).",
            "Week %(week)s: pledged %(pledged)s a week; needed %(needed)s "
            "(%(enrolled)s recipients × %(amount)s).",
            figures["enrolled"],
        ) % {
            "week": figures["week"],
            "pledged": format_money(figures["pledged"], currency),
            "needed": format_money(figures["needed"], currency),
            "enrolled": figures["enrolled"],
            "amount": format_money(cycle.weekly_amount, currency),
        }
        difference = figures["pledged"] - figures["needed"]
        if difference < 0:
            outcome = _("Short by %(amount)s.")
        elif difference > 0:
            outcome = _("Surplus of %(amount)s.")
        else:
            outcome = _("Exactly covered.")
        return f"{summary} {outcome % {'amount': format_money(abs(difference), currency)}}"

    @admin.action(
        description=_("Start the next cycle"),
        permissions=["change"],
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def start_next(self, request, queryset):
        cycles = list(queryset.select_related("pod")[:2])
        if len(cycles) != 1 or cycles[0].status != Cycle.Status.ACTIVE:
            self.message_user(
                request,
                _("Select exactly one active cycle to start the next one from."),
                messages.ERROR,
            )
            return None
        (cycle,) = cycles
        if request.POST.get("post"):
            form = NextCycleForm(request.POST)
            if form.is_valid():
                try:
                    new = start_next_cycle(cycle=cycle, **form.cleaned_data)
                except ValidationError as error:
                    add_service_errors(form, error)
                except IntegrityError:
                    # The database's rules (a cycle number taken by a planned cycle, say)
                    # refused it; the service rolled everything back.
                    form.add_error(
                        None,
                        _("The next cycle could not be started: cycle %(number)s exists.")
                        % {"number": cycle.number + 1},
                    )
                else:
                    self.log_change(request, cycle, [{"changed": {"fields": ["status"]}}])
                    self.log_addition(request, new, [{"added": {}}])
                    self.message_user(
                        request,
                        _("%(new)s has started; cycle %(old)s is closed.")
                        % {"new": new, "old": cycle.number},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:pods_cycle_change", args=[new.pk]))
        else:
            form = NextCycleForm(
                initial={
                    "starts_on": cycle.ends_on + datetime.timedelta(days=1),
                    "weeks": cycle.weeks,
                    "weekly_amount": cycle.weekly_amount,
                    "slots": cycle.slots,
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Start the next cycle"),
            "subtitle": str(cycle),
            "opts": self.opts,
            "object": cycle,
            "next_number": cycle.number + 1,
            "form": form,
            "action_name": "start_next",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/pods/cycle/start_next_cycle.html", context)

    @admin.action(
        description=_("Export receipts as CSV"),
        permissions=["view"],
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def export_receipts(self, request, queryset):
        cycles = list(queryset.select_related("pod")[:2])
        if len(cycles) == 1:
            filename = f"{cycles[0].pod.slug}-cycle-{cycles[0].number}-receipts.csv"
        else:
            filename = "receipts.csv"
        return receipts_csv_response(Receipt.objects.filter(cycle__in=queryset), filename)


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
