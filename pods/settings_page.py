"""The pod's settings that organizers keep in the app (the admin has them all): how the
pod's recipients reach the organizers, shown on every recipient's private page, and the
pod's language, that of the mail to people who have no account yet (invitations); and each
organizer's own choice of how they hear of new referrals and members."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from mutualaid.text import clean_typed_text
from pods.access import get_pod_for_organizer
from pods.models import Membership, Pod


class PodSettingsForm(forms.ModelForm):
    class Meta:
        model = Pod
        fields = ["organizer_contact", "language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A form sent without it (an older page) keeps the pod's language.
        self.fields["language"].required = False

    def clean_language(self):
        return self.cleaned_data["language"] or self.instance.language

    def clean_organizer_contact(self):
        return clean_typed_text(self.cleaned_data["organizer_contact"])


class NoticesForm(forms.ModelForm):
    """The organizer's own setting, on their membership of this pod."""

    class Meta:
        model = Membership
        fields = ["notices"]
        labels = {"notices": gettext_lazy("New referrals and new members")}
        help_texts = {
            "notices": gettext_lazy("How you hear of them by email. The digest comes once a day.")
        }
        widgets = {"notices": forms.RadioSelect}


def _page(request, pod, form, notices_form, status=200):
    return render(
        request,
        "pods/settings.html",
        {
            "pod": pod,
            "membership": request.membership,
            "section": "settings",
            "form": form,
            "notices_form": notices_form,
        },
        status=status,
    )


@login_required
@require_POST
def notices_setting(request, slug):
    pod = get_pod_for_organizer(request, slug)
    notices_form = NoticesForm(request.POST, instance=request.membership)
    if not notices_form.is_valid():
        return _page(request, pod, PodSettingsForm(instance=pod), notices_form, status=400)
    Membership.objects.filter(pk=request.membership.pk).update(
        notices=notices_form.cleaned_data["notices"]
    )
    messages.success(request, _("Saved. This is how you hear of new referrals and members."))
    return redirect("pods:settings", slug=pod.slug)


@login_required
@require_http_methods(["GET", "POST"])
def pod_settings(request, slug):
    pod = get_pod_for_organizer(request, slug)
    form = PodSettingsForm(request.POST if request.method == "POST" else None, instance=pod)
    if form.is_bound and form.is_valid():
        # Only these fields: a settings form must not write back the rest of a row that an
        # organizer may be changing in the admin at the same moment.
        Pod.objects.filter(pk=pod.pk).update(
            organizer_contact=form.cleaned_data["organizer_contact"],
            language=form.cleaned_data["language"],
        )
        messages.success(request, _("Saved."))
        return redirect("pods:settings", slug=pod.slug)
    return _page(
        request,
        pod,
        form,
        NoticesForm(instance=request.membership),
        status=400 if form.is_bound else 200,
    )
