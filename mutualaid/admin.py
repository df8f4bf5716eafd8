"""The organizers' admin: one site, every page scoped to the pods the person organizes.

Organizers have no staff flag and no Django permissions: organizing a pod is what lets
them in (`MutualAidAdminSite.has_permission`), and `PodScopeMixin` then limits every list,
page, choice, filter, search and autocomplete to those pods. Site admins (staff) keep
Django's usual behaviour and see every pod.
"""

import functools
import zoneinfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, models
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from mutualaid import dates
from mutualaid.money import MoneyField


def is_site_admin(user):
    """Whoever runs the instance: Django's own permissions apply and nothing is scoped."""
    return user.is_active and (user.is_staff or user.is_superuser)


def organized_pods(request):
    """{pod id: time zone} of the pods the signed-in person organizes, read once per
    request (the zones with them: the admin shows each pod's times on its clock)."""
    if not hasattr(request, "_organized_pods"):
        from pods.models import Pod

        user = request.user
        request._organized_pods = (
            dict(Pod.objects.organized_by(user).values_list("pk", "time_zone"))
            if user.is_authenticated and user.is_active
            else {}
        )
    return request._organized_pods


def organized_pod_ids(request):
    """The ids of the pods the signed-in person organizes, read once per request."""
    return frozenset(organized_pods(request))


def pod_time_zones(request):
    """{pod id: time zone} of every pod the person may see here: their own for an
    organizer; for a site admin every pod's, read once per request."""
    if not is_site_admin(request.user):
        return organized_pods(request)
    if not hasattr(request, "_all_pod_zones"):
        from pods.models import Pod

        request._all_pod_zones = dict(Pod.objects.values_list("pk", "time_zone"))
    return request._all_pod_zones


def members_of(pod_ids):
    """People with a membership of any of these pods: the only people an organizer
    can pick in a form."""
    from pods.models import Membership

    user_model = get_user_model()
    return user_model.objects.filter(
        pk__in=Membership.objects.filter(pod_id__in=pod_ids).values("user_id")
    )


class MutualAidAdminSite(admin.AdminSite):
    """The organizers' admin. Organizers need no staff flag: organizing a pod is what
    lets them in, and every page then shows only the pods they organize."""

    site_header = _("Mutual-aid pods")
    site_title = _("Mutual-aid pods")
    index_title = _("Organize your pods")
    # No sidebar listing every model on every page: it cost a third of a cycle's page
    # (its list of apps, with a permission check per model, and 6 KB of links), is
    # hidden on a phone's width anyway, and repeats the index, one tap away in the
    # header and the breadcrumbs.
    enable_nav_sidebar = False

    def has_permission(self, request):
        user = request.user
        if not user.is_active:
            return False
        return is_site_admin(user) or bool(organized_pod_ids(request))

    def each_context(self, request):
        # Django builds every page's list of apps and models ("available_apps") for the
        # sidebar, the only part of a page that reads it (the index builds its own).
        # Built only if read.
        request._app_list_unread = True
        try:
            context = super().each_context(request)
        finally:
            request._app_list_unread = False
        context["available_apps"] = SimpleLazyObject(lambda: self.get_app_list(request))
        return context

    def get_app_list(self, request, app_label=None):
        if getattr(request, "_app_list_unread", False):
            return []
        return super().get_app_list(request, app_label)

    def admin_view(self, view, cacheable=False):
        """Every model page, with the ids an action is asked to act on checked first:
        Django's response_action filters by whatever was posted, and an id that is not
        one (a forged or damaged form) made a 500. Those are dropped, so that an action
        with none left says, as Django does, that no item was selected."""
        inner = super().admin_view(view, cacheable)
        # ModelAdmin.get_urls passes its own bound views (changelist_view and the rest).
        model_admin = getattr(view, "__self__", None)
        if not isinstance(model_admin, admin.ModelAdmin):
            return inner

        @functools.wraps(inner)
        def checked(request, *args, **kwargs):
            if request.method == "POST" and ACTION_CHECKBOX_NAME in request.POST:
                request.POST = _with_valid_ids(request.POST, model_admin.model)
            return inner(request, *args, **kwargs)

        return checked

    def password_change(self, request, extra_context=None):
        # People who sign in by an emailed code have no password to change: no screen
        # asking for their "old password" (the header's link is hidden for them too).
        if not request.user.has_usable_password():
            messages.info(
                request, _("You sign in with a code we email you: there is no password to change.")
            )
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        return super().password_change(request, extra_context)

    def password_change_done(self, request, extra_context=None):
        if not request.user.has_usable_password():
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        return super().password_change_done(request, extra_context)


# The largest id a database column holds (a signed 64-bit integer).
MAX_ID = 2**63 - 1


def parse_id(value):
    """`value` as a row's id, or None: only ASCII digits ("²" is a digit to str.isdigit,
    not to int), within what a database column holds."""
    text = str(value or "")
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def _with_valid_ids(post, model):
    field = model._meta.pk
    kept = []
    for value in post.getlist(ACTION_CHECKBOX_NAME):
        try:
            pk = field.to_python(value)
        except ValidationError:
            continue
        if isinstance(pk, int) and not 0 < pk <= MAX_ID:
            continue
        kept.append(value)
    post = post.copy()
    post.setlist(ACTION_CHECKBOX_NAME, kept)
    return post


class SamePodForm(forms.ModelForm):
    """Everything a row links to belongs to one pod, and the people picked in it are
    members of that pod.

    Scoped choices already keep other organizers' pods out; this catches a mix of two
    pods that one person organizes (a cycle of one and a recipient of the other).
    """

    # Person fields that may name someone outside the pod (a membership's user).
    people_from_anywhere = ()

    def clean(self):
        from pods.models import Membership, Pod

        cleaned_data = super().clean()
        user_model = get_user_model()
        pod_ids, people = set(), []
        for field in self._meta.model._meta.concrete_fields:
            if not field.is_relation:
                continue
            if field.name in self.fields:
                value = cleaned_data.get(field.name)
            elif getattr(self.instance, field.attname, None) is not None:
                value = getattr(self.instance, field.name)
            else:
                continue
            if value is None:
                continue
            if isinstance(value, Pod):
                pod_ids.add(value.pk)
            elif isinstance(value, user_model):
                # Only a newly picked person: an old pledge of someone who has since
                # left the pod stays editable.
                if field.name in self.changed_data and field.name not in self.people_from_anywhere:
                    people.append((field.name, value))
            elif hasattr(value, "pod_id"):
                pod_ids.add(value.pod_id)
        if len(pod_ids) > 1:
            raise ValidationError(_("These belong to different pods."))
        if pod_ids:
            (pod_id,) = pod_ids
            for name, person in people:
                if not Membership.objects.active().filter(pod_id=pod_id, user=person).exists():
                    self.add_error(
                        name, _("%(person)s is not a member of this pod.") % {"person": person}
                    )
        return cleaned_data

    def _get_validation_exclusions(self):
        # A link shown read-only (a cycle's pod once it exists) is left out of the form,
        # and Django then skips every constraint that names it: "one active cycle per
        # pod" would go unchecked and the database would refuse the save with a 500.
        # The instance already holds those links, so they take part in validation.
        exclude = super()._get_validation_exclusions()
        fixed = {
            field.name
            for field in self._meta.model._meta.concrete_fields
            if field.is_relation
            and field.editable
            and field.name not in self.fields
            and getattr(self.instance, field.attname, None) is not None
        }
        return exclude - fixed


class PodScopeMixin:
    """Scopes a model admin to the pods the person organizes.

    `pod_path` is the lookup from the model to its pod ("pod", "cycle__pod"; "" for the
    Pod itself). The `organizer_can_*` flags say what organizers may do with their pods'
    rows; viewing is always allowed. Site admins keep Django's permissions.
    """

    pod_path = "pod"
    organizer_can_add = True
    organizer_can_change = True
    organizer_can_delete = False
    form = SamePodForm
    # The app's own fields for what people type: every amount refuses NaN, exponents and
    # more than two places before any arithmetic, and every date stays within years the
    # calendar can work with (the admin's widgets are kept).
    formfield_overrides = {
        models.DecimalField: {"form_class": MoneyField},
        models.DateField: {"form_class": dates.DateField},
        models.DateTimeField: {"form_class": dates.SplitDateTimeField},
    }

    def scope(self, request, queryset):
        if is_site_admin(request.user):
            return queryset
        lookup = f"{self.pod_path}__in" if self.pod_path else "pk__in"
        return queryset.filter(**{lookup: organized_pod_ids(request)})

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))

    def pod_id_of(self, obj):
        if not self.pod_path:
            return obj.pk
        *hops, last = self.pod_path.split("__")
        try:
            for hop in hops:
                obj = getattr(obj, hop)
        except ObjectDoesNotExist:
            return None
        return getattr(obj, f"{last}_id", None)

    def organizes(self, request, obj=None):
        ids = organized_pod_ids(request)
        if not ids:
            return False
        if obj is None:
            return True
        return self.pod_id_of(obj) in ids

    def has_module_permission(self, request):
        if is_site_admin(request.user):
            return super().has_module_permission(request)
        return self.organizes(request)

    def has_view_permission(self, request, obj=None):
        if is_site_admin(request.user):
            return super().has_view_permission(request, obj)
        return self.organizes(request, obj)

    def has_add_permission(self, request):
        if is_site_admin(request.user):
            return super().has_add_permission(request)
        return self.organizer_can_add and self.organizes(request)

    def has_change_permission(self, request, obj=None):
        if is_site_admin(request.user):
            return super().has_change_permission(request, obj)
        return self.organizer_can_change and self.organizes(request, obj)

    def has_delete_permission(self, request, obj=None):
        if is_site_admin(request.user):
            return super().has_delete_permission(request, obj)
        return self.organizer_can_delete and self.organizes(request, obj)

    def get_field_queryset(self, db, db_field, request):
        """Choices in forms (selects, autocompletes, the rows an inline may point to)
        come from the related model's scoped admin, never from the whole table."""
        if is_site_admin(request.user):
            return super().get_field_queryset(db, db_field, request)
        model = db_field.remote_field.model
        if model is get_user_model():
            return members_of(organized_pod_ids(request)).using(db).order_by("email")
        related_admin = self.admin_site._registry.get(model)
        if not isinstance(related_admin, PodScopeMixin):
            return model._default_manager.none()
        queryset = related_admin.get_queryset(request).using(db)
        ordering = related_admin.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset


class RefusedByDatabase:
    """Mixed into an admin form shown again after the database refused its save."""

    def clean(self):
        cleaned_data = super().clean()
        self.add_error(
            None,
            ValidationError(
                _(
                    "Someone else saved a change here at the same moment, so yours was "
                    "not saved. Check the page as it is now and save again."
                ),
                code="refused_by_database",
            ),
        )
        return cleaned_data


def _zone(name):
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class PodScopedAdmin(PodScopeMixin, admin.ModelAdmin):
    """A pod's rows, on the pod's clock: the change page of a row shows and reads its
    date-times in its pod's time zone (the app's pages do the same), and the list's
    date-time columns show each row's in its own pod's."""

    # Links that define a row (a cycle's pod, an enrollment's recipient) are shown but
    # not changed once it exists: moving them would tear the row from its history.
    readonly_on_change = ()

    def time_zone_of(self, request, obj):
        pod_id = self.pod_id_of(obj)
        return _zone(pod_time_zones(request).get(pod_id, "")) if pod_id else None

    def _add_time_zone(self, request):
        """For a row being added: the pod picked in the form, or the organizer's only pod."""
        zones = pod_time_zones(request)
        picked = request.POST.get("pod") if request.method == "POST" else request.GET.get("pod")
        pod_id = parse_id(picked)
        if pod_id in zones:
            return _zone(zones[pod_id])
        own = organized_pods(request)
        if len(own) == 1 and not is_site_admin(request.user):
            return _zone(next(iter(own.values())))
        return None

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        # Only inside changeform_view's override (below), which undoes it: a time zone
        # activated anywhere else would stay with the thread for its next request.
        if obj is not None and getattr(request, "_in_pod_clock", False):
            zone = self.time_zone_of(request, obj)
            if zone is not None:
                timezone.activate(zone)
        return obj

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Said on the page, for a volunteer whose phone is on another clock.
        if getattr(request, "_in_pod_clock", False) and (
            add and self._add_time_zone(request) or obj
        ):
            context["pod_time_zone"] = timezone.get_current_timezone_name()
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_list_display(self, request):
        """Date-time columns in each row's own pod's time zone."""
        columns = []
        for name in super().get_list_display(request):
            try:
                field = self.model._meta.get_field(name) if isinstance(name, str) else None
            except FieldDoesNotExist:
                field = None
            if isinstance(field, models.DateTimeField):
                columns.append(self._pod_clock_column(request, field))
            else:
                columns.append(name)
        return columns

    def _pod_clock_column(self, request, field):
        def column(obj):
            value = getattr(obj, field.name)
            if value is None:
                return self.get_empty_value_display()
            zone = self.time_zone_of(request, obj) or timezone.get_current_timezone()
            return formats.localize(timezone.localtime(value, zone))

        column.__name__ = field.name
        column.short_description = field.verbose_name
        column.admin_order_field = field.name
        return column

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += [name for name in self.readonly_on_change if name not in readonly]
        return readonly

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A save the database refuses is shown as a form error, never a 500.

        The forms check every rule first (a slot held in those weeks, a cycle number
        taken), but between that check and the save another organizer may save the same
        thing: the database then refuses the second save (IntegrityError). Django runs
        the whole view in one transaction, so by the time the error reaches here nothing
        of this save is kept. The view is then run once more on the same data, with the
        form told to refuse it: the page comes back as the organizer filled it in, with
        the checks now seeing the other organizer's change (the slot is named as taken)
        and a note saying what happened. Django offers no hook between its save and its
        response, and this one goes through the public ones (changeform_view, get_form).
        Anything the first attempt did outside the database is not undone: the
        save_model() overrides here queue their message only after their last write.
        """
        # On the pod's clock: the add page's from the pod picked, a change page's from its
        # row (get_object, above); rendered here, before the override ends.
        request._in_pod_clock = True
        try:
            with timezone.override(self._add_time_zone(request) if object_id is None else None):
                response = self._changeform_or_refusal(request, object_id, form_url, extra_context)
                if isinstance(response, TemplateResponse):
                    response.render()
        finally:
            request._in_pod_clock = False
        return response

    def _changeform_or_refusal(self, request, object_id, form_url, extra_context):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError:
            if request.method != "POST" or getattr(request, "refused_by_database", False):
                raise
            request.refused_by_database = True
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if getattr(request, "refused_by_database", False):
            form = type(form.__name__, (RefusedByDatabase, form), {})
        return form
