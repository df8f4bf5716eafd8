import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation, RelatedOnlyFieldListFilter
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import F, Max
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from mutualaid.admin import PodScopedAdmin, SamePodForm
from mutualaid.forms import add_service_errors
from pledges import services
from pledges.forms import NextCycleForm
from pledges.models import Assignment, Pledge
from pods.models import Cycle
from pods.templatetags.money import format_money
from receipts.admin import receipts_csv_response
from receipts.models import Receipt
from recipients.models import Enrollment


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


class CycleForm(SamePodForm):
    def clean(self):
        cleaned_data = super().clean()
        cycle = self.instance
        if cycle.pk is None:
            # A new cycle is numbered after its pod's last one: a number is not for a
            # volunteer to pick (a gap or a repeat would only confuse the calendar). Two
            # added at once: the database refuses the second (pods_cycle_unique_number),
            # and the page says so.
            pod = cleaned_data.get("pod")
            if pod is not None:
                last = Cycle.objects.filter(pod=pod).aggregate(number=Max("number"))["number"]
                cycle.number = (last or 0) + 1
            return cleaned_data
        stored = Cycle.objects.get(pk=cycle.pk)
        starts_on, weeks = cleaned_data.get("starts_on"), cleaned_data.get("weeks")
        if stored.has_started(1) and starts_on and starts_on != stored.starts_on:
            self.add_error(
                "starts_on",
                _(
                    "Cycle %(number)s started on %(date)s: its weeks have begun, so its "
                    "start cannot move."
                )
                % {"number": stored.number, "date": date_format(stored.starts_on)},
            )
        due = stored.due_week()
        if weeks and due and weeks < stored.weeks:
            self.add_error(
                "weeks",
                _(
                    "Cycle %(number)s is running: to end it before week %(weeks)s, use "
                    "“End this cycle early”, which says what it ends."
                )
                % {"number": stored.number, "weeks": stored.weeks},
            )
        used = cycle.enrollments.filter(last_week__gte=F("first_week")).aggregate(
            slot=Max("slot"), week=Max("last_week")
        )
        slots = cleaned_data.get("slots")
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


class ConfirmForm(forms.Form):
    """An action whose only input is the organizer's yes."""


@admin.register(Cycle)
class CycleAdmin(PodScopedAdmin):
    form = CycleForm
    list_display = ["pod", "number", "state", "starts_on", "ends_on", "weekly_amount", "slots"]
    list_display_links = ["pod", "number"]
    list_filter = [("pod", RelatedOnlyFieldListFilter)]
    search_fields = ["pod__name"]
    readonly_on_change = ("pod",)
    actions = ["start_next", "end_early", "export_receipts"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("pod")

    def get_fieldsets(self, request, obj=None):
        # The number is given on creation (CycleForm) and shown after; the status is
        # worked out from the dates ("state"), never stored.
        fields = ["pod", "starts_on", "weeks", "weekly_amount", "slots"]
        if obj is not None:
            fields.insert(1, "number")
        fieldsets = [(None, {"fields": fields})]
        if obj is not None:
            fieldsets.append((_("Calendar"), {"fields": ["state", "ended_early_at"]}))
            fieldsets.append((_("This week"), {"fields": ["slots_used", "coverage"]}))
            fieldsets.append(
                (
                    capfirst(Enrollment._meta.verbose_name_plural),
                    {"fields": ["enrollments_summary"]},
                )
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [
            *super().get_readonly_fields(request, obj),
            "number",
            "state",
            "ended_early_at",
            "slots_used",
            "coverage",
            "enrollments_summary",
        ]

    @admin.display(description=_("recipients"))
    def enrollments_summary(self, cycle):
        # Links, not rows: the Enrollment pages list a cycle's enrollments a page at a
        # time, and add or end one with the same checks, whatever the pod's size. The
        # counts are this week's figures (slots_used), read once.
        if cycle.pk is None:
            return "—"
        return format_html(
            '<a href="{}?cycle__id__exact={}">{}</a> · <a href="{}?cycle={}">{}</a>',
            reverse("admin:recipients_enrollment_changelist"),
            cycle.pk,
            gettext("See, change and end this cycle's enrollments"),
            reverse("admin:recipients_enrollment_add"),
            cycle.pk,
            gettext("Enroll a recipient"),
        )

    @admin.display(description=pgettext_lazy("cycle", "status"))
    def state(self, cycle):
        if cycle.pk is None:
            return "—"
        status = cycle.status()
        if status == Cycle.Status.PLANNED:
            return _("Planned: starts %(date)s") % {"date": date_format(cycle.starts_on)}
        if status == Cycle.Status.CLOSED:
            return _("Over: ended %(date)s") % {"date": date_format(cycle.ends_on)}
        return _("Running: week %(week)s of %(weeks)s, until %(date)s") % {
            "week": cycle.current_week(),
            "weeks": cycle.weeks,
            "date": date_format(cycle.ends_on),
        }

    def figures(self, cycle):
        """The coverage of the week the cycle's pages are about (week 1 before it starts,
        the last week after it ends): the same function as the dashboard's."""
        if not hasattr(cycle, "_admin_figures"):
            cycle._admin_figures = services.coverage(cycle, cycle.shown_week() or cycle.weeks)
        return cycle._admin_figures

    @admin.display(description=_("slots used / free"))
    def slots_used(self, cycle):
        if cycle.pk is None:
            return "—"
        figures = self.figures(cycle)
        return ngettext(
            "Week %(week)s: %(used)s used, %(free)s free of %(slots)s slot",
            "Week %(week)s: %(used)s used, %(free)s free of %(slots)s slots",
            figures.slots,
        ) % {
            "week": figures.week,
            "used": figures.recipients,
            "free": figures.free,
            "slots": figures.slots,
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
            figures.recipients,
        ) % {
            "week": figures.week,
            "pledged": format_money(figures.pledged, currency),
            "needed": format_money(figures.needed, currency),
            "enrolled": figures.recipients,
            "amount": format_money(cycle.weekly_amount, currency),
        }
        if figures.shortfall:
            outcome = _("Short by %(amount)s.") % {
                "amount": format_money(figures.shortfall, currency)
            }
        elif figures.surplus:
            outcome = _("Surplus of %(amount)s.") % {
                "amount": format_money(figures.surplus, currency)
            }
        else:
            outcome = _("Exactly covered.")
        return f"{summary} {outcome}"

    def _one_cycle(self, request, queryset):
        cycles = list(queryset.select_related("pod")[:2])
        if len(cycles) != 1:
            self.message_user(request, _("Select exactly one cycle."), messages.ERROR)
            return None
        return cycles[0]

    def _confirmation(self, request, cycle, *, form, action, title, template, **extra):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": str(cycle),
            "opts": self.opts,
            "object": cycle,
            "form": form,
            "action_name": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            **extra,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, template, context)

    @admin.action(
        description=_("Start the next cycle"),
        permissions=["change"],
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def start_next(self, request, queryset):
        cycle = self._one_cycle(request, queryset)
        if cycle is None:
            return None
        following = cycle.following()
        if following is not None:
            self.message_user(
                request,
                _("%(cycle)s is already planned, to start on %(date)s.")
                % {"cycle": following, "date": date_format(following.starts_on)},
                messages.ERROR,
            )
            return None
        earliest = cycle.ends_on + datetime.timedelta(days=1)
        if request.POST.get("post"):
            form = NextCycleForm(request.POST)
            if form.is_valid():
                try:
                    new = services.start_next_cycle(cycle=cycle, **form.cleaned_data)
                except ValidationError as error:
                    add_service_errors(form, error)
                except IntegrityError:
                    # The database's rules (a cycle number taken under a race, say)
                    # refused it; the service rolled everything back.
                    form.add_error(
                        None,
                        _("The next cycle could not be planned: cycle %(number)s exists.")
                        % {"number": cycle.number + 1},
                    )
                else:
                    self.log_addition(request, new, [{"added": {}}])
                    self.message_user(
                        request,
                        _(
                            "Cycle %(new)s is planned to start on %(date)s. Cycle %(old)s "
                            "keeps running until then."
                        )
                        % {
                            "new": new.number,
                            "date": date_format(new.starts_on),
                            "old": cycle.number,
                        },
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:pods_cycle_change", args=[new.pk]))
        else:
            form = NextCycleForm(
                initial={
                    "starts_on": earliest,
                    "weeks": cycle.weeks_for_next(),
                    "weekly_amount": cycle.weekly_amount,
                    "slots": cycle.slots,
                }
            )
        return self._confirmation(
            request,
            cycle,
            form=form,
            action="start_next",
            title=gettext("Start the next cycle"),
            template="admin/pods/cycle/start_next_cycle.html",
            next_number=cycle.number + 1,
            earliest=earliest,
        )

    @admin.action(
        description=_("End this cycle early"),
        permissions=["change"],
        # The confirmation page (admin/object_action_form.html) posts its yes to the
        # change list, so the action must be known there too.
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def end_early(self, request, queryset):
        cycle = self._one_cycle(request, queryset)
        if cycle is None:
            return None
        preview = services.early_end_preview(cycle)
        if preview is None:
            self.message_user(
                request,
                _(
                    "Cycle %(number)s cannot end early: it has not started, or its last "
                    "week has begun."
                )
                % {"number": cycle.number},
                messages.ERROR,
            )
            return None
        form = ConfirmForm(request.POST if request.POST.get("post") else None)
        if form.is_bound and form.is_valid():
            try:
                ended = services.end_cycle_early(cycle=cycle)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                self.log_change(request, cycle, [{"changed": {"fields": ["weeks"]}}])
                self.message_user(
                    request,
                    _("Cycle %(number)s now ends after week %(week)s, on %(date)s.")
                    % {
                        "number": cycle.number,
                        "week": ended.last_week,
                        "date": date_format(cycle.week_ends_on(ended.last_week)),
                    },
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:pods_cycle_change", args=[cycle.pk]))
        return self._confirmation(
            request,
            cycle,
            form=form,
            action="end_early",
            title=gettext("End this cycle early"),
            template="admin/pods/cycle/end_cycle_early.html",
            preview=preview,
            ends_on=cycle.week_ends_on(preview.last_week),
        )

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
