"""Small pieces shared by the apps' forms."""

import uuid

from django import forms
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

OUT_OF_DATE = _("This form is out of date. Check the details and send it again.")


def add_service_errors(form, error):
    """Show a service's ValidationError on the form: next to the field it names when the
    form has that field, above the form otherwise."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class SubmissionKeyField(forms.UUIDField):
    """A hidden key, new each time a form that creates something is shown and sent back
    with it. The same form submitted twice (a double tap, a retry on a bad connection)
    carries the same key, and the second submit finds what the first one made: see
    `Submission`. The model holds it in a `submission_key` field with a unique
    constraint, which settles two submits arriving at the same moment."""

    widget = forms.HiddenInput
    default_error_messages = {"required": OUT_OF_DATE, "invalid": OUT_OF_DATE}

    def __init__(self, **kwargs):
        # Called each time the form is shown: every page gets a key of its own.
        kwargs.setdefault("initial", uuid.uuid4)
        super().__init__(**kwargs)


class Submission:
    """What the key sent back with a create form says, read before the form is bound.

    `mine` is what this person could have made with this form (their referrals in this
    pod, say). `earlier` is the row a first submit of the same form made: the view shows
    it instead of making another. A key that is missing, malformed or already used by
    someone else's row (an old page, a copied form) is never used: `data` then carries a
    fresh one and the form says it is out of date, so the person checks and sends again.
    """

    def __init__(self, data, *, mine):
        self.mine = mine
        try:
            key = uuid.UUID(str(data.get("submission_key")))
        except ValueError:
            key = None
        # One read of the key: the other submit may commit at any moment, and two reads
        # could see its row only the second time and take it for someone else's.
        used = mine.model._default_manager.filter(submission_key=key).first() if key else None
        self.earlier = used if used is not None and mine.filter(pk=used.pk).exists() else None
        self.stale = key is None or (used is not None and self.earlier is None)
        self.data = data
        if self.stale:
            self.data = data.copy()
            self.data["submission_key"] = str(uuid.uuid4())
            key = None
        self.key = key

    def accepts(self, form):
        """True when the form is valid and fresh, so may be saved; otherwise it has an
        error that says why."""
        if self.stale:
            form.add_error(None, OUT_OF_DATE)
            return False
        return form.is_valid()

    def save(self, create):
        """Run `create(key)`, which saves a row with this key, in a transaction. Return
        (the row, True), or (the row the other submit made, False) when both submits of
        the form arrived at once and the database's unique key refused this one."""
        try:
            with transaction.atomic():
                return create(self.key), True
        except IntegrityError:
            earlier = self.mine.filter(submission_key=self.key).first()
            if earlier is None:
                raise
            return earlier, False
