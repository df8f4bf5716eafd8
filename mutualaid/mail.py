"""Email from templates, sent only once the change it reports is committed.

A message named `name` is made of templates/emails/<name>_subject.txt, <name>_body.txt
and <name>_body.html, and goes out through Django's MAILERS.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)


def render_email(name, *, to, context, language=None) -> EmailMultiAlternatives:
    """One message to one address, in its reader's `language`: the person's own setting
    (User.language), never the language of the page that caused it (the reader of a page
    may not be the reader of the mail). The site's language when they have none."""
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{name}_subject.txt", context)
        text = render_to_string(f"emails/{name}_body.txt", context)
        html = render_to_string(f"emails/{name}_body.html", context)
    message = EmailMultiAlternatives(
        # A subject must be one line, whatever the template's whitespace.
        subject=" ".join(subject.split()),
        body=text,
        to=[to],
    )
    message.attach_alternative(html, "text/html")
    return message


def send_on_commit(messages) -> None:
    """Send `messages` after the current transaction commits (at once outside one):
    a rolled-back change must not have been announced."""
    messages = list(messages)
    if messages:
        # robust: the change has been committed by then; a mail server that is down must
        # not turn the organizer's successful action into an error page.
        transaction.on_commit(lambda: _send(messages), robust=True)


def send_templated(name, *, to, context, language=None) -> None:
    send_on_commit([render_email(name, to=to, context=context, language=language)])


def _send(messages):
    # One connection for all; one failed address does not stop the others.
    with mailers.default as connection:
        for message in messages:
            try:
                connection.send_messages([message])
            except Exception:
                logger.exception("Could not send %r to %s", message.subject, message.to)
