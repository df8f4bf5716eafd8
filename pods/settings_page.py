"""The pod's settings that organizers keep in the app (the admin has them all): how the
pod's recipients reach the organizers, shown on every recipient's private page, and the
pod's language, that of the mail to people who have no account yet (invitations)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from mutualaid.text import clean_typed_text
from pods.access import get_pod_for_organizer
from pods.models import Pod


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
    return render(
        request,
        "pods/settings.html",
        {"pod": pod, "membership": request.membership, "section": "settings", "form": form},
        status=400 if form.is_bound else 200,
    )
