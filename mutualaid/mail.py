"""Email from templates, queued with the change it reports and sent by the task worker.

A message named `name` is made of templates/emails/<name>_subject.txt, <name>_body.txt
and <name>_body.html. Every message becomes one `send_email` task (Django's tasks
framework, settings.TASKS): a request that announces something to a hundred people only
writes a hundred rows; a worker (`manage.py db_worker`) sends them through Django's
MAILERS, and tries again later, longer and longer apart, while the mail server refuses or
does not answer, so that a mail server that is down delays mail and loses none.
"""

import datetime
import logging
import smtplib
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, mailers
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks_db.backend import DatabaseBackend

logger = logging.getLogger(__name__)


def render_email(name, *, to, context, language, headers=None) -> EmailMultiAlternatives:
    """One message to one address, in its reader's `language`: the person's own setting
    (User.language), never the language of the page that caused it (the reader of a page
    may not be the reader of the mail). The site's language when they have none ("").
    Required, so that no message goes out in the site's language by forgetting it.
    `headers`: extra ones (List-Unsubscribe)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{name}_subject.txt", context)
        text = render_to_string(f"emails/{name}_body.txt", context)
        html = render_to_string(f"emails/{name}_body.html", context)
    message = EmailMultiAlternatives(
        # A subject must be one line, whatever the template's whitespace.
        subject=" ".join(subject.split()),
        body=text,
        to=[to],
        headers=headers or {},
    )
    message.attach_alternative(html, "text/html")
    return message


def send_on_commit(messages) -> None:
    """Queue `messages` to be sent once the current transaction commits (at once outside
    one): a rolled-back change must not have been announced.

    With the database queue the task rows are written inside the transaction itself, so
    they commit with the change or not at all: no moment where the change is saved and
    its mail not yet queued. Any other backend is handed the tasks after the commit."""
    payloads = [message_data(message) for message in messages]
    if payloads:
        _on_commit(send_email, partial(_enqueue, payloads))


def enqueue_on_commit(task_, *args) -> None:
    """Queue `task_(*args)` as send_on_commit queues mail: with the current transaction.
    For work that makes many messages (one notice to every donor): one task row in the
    request, and the worker renders and queues the messages."""
    _on_commit(task_, partial(task_.enqueue, *args))


def _on_commit(task_, enqueue):
    if isinstance(task_.get_backend(), DatabaseBackend):
        enqueue()
    else:
        transaction.on_commit(enqueue)


def enqueue(messages) -> None:
    """Queue `messages` now, for mail that reports no change of the database (allauth's
    codes live in the session): there is no commit to wait for."""
    _enqueue([message_data(message) for message in messages])


def send_templated(name, *, to, context, language) -> None:
    send_on_commit([render_email(name, to=to, context=context, language=language)])


def _enqueue(payloads):
    for payload in payloads:
        send_email.enqueue(payload)


def message_data(message: EmailMessage) -> dict:
    """What a task needs to rebuild `message`: plain JSON, as the task's arguments are
    stored. Our messages have no attachments; refusing one beats dropping it unseen."""
    if message.attachments:
        raise ValueError("Queued mail cannot carry attachments.")
    return {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "alternatives": [[content, mimetype] for content, mimetype in message.alternatives]
        if isinstance(message, EmailMultiAlternatives)
        else [],
    }


def message_from_data(data: dict) -> EmailMultiAlternatives:
    return EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
        alternatives=[tuple(pair) for pair in data["alternatives"]],
    )


def retry_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, ...): doubling from
    MAIL_RETRY_DELAY, never more than MAIL_RETRY_MAX_DELAY."""
    return min(settings.MAIL_RETRY_DELAY * 2 ** (attempt - 1), settings.MAIL_RETRY_MAX_DELAY)


def is_permanent(error: Exception) -> bool:
    """A refusal that sending again will not change: the server answered 5xx to the
    sender, a recipient or the message. A failed login (535) is the operator's to fix and
    is tried again; so is everything that is not an answer (refused connection, timeout,
    a server that hung up) and every 4xx ("try again later")."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return False
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


@task
def send_email(message: dict, attempt: int = 1) -> str:
    """Send one queued message; when the server refuses for now or cannot be reached,
    queue the next attempt after a back-off, up to MAIL_RETRY_ATTEMPTS attempts."""
    email = message_from_data(message)
    try:
        with mailers.default as connection:
            connection.send_messages([email])
    except (smtplib.SMTPException, OSError) as error:
        if (
            is_permanent(error)
            or attempt >= settings.MAIL_RETRY_ATTEMPTS
            # A backend that runs tasks at once (the tests') cannot wait for later.
            or not send_email.get_backend().supports_defer
        ):
            # The task fails and keeps the message and the reason, for the operator.
            logger.error("Giving up on mail %r (attempt %s): %s", email.subject, attempt, error)
            raise
        delay = retry_delay(attempt)
        # The next attempt is a new task row, written before this one is marked done:
        # a worker that dies in between leaves this one "running", never both queued.
        send_email.using(run_after=timezone.now() + datetime.timedelta(seconds=delay)).enqueue(
            message, attempt + 1
        )
        logger.warning(
            "Mail %r not sent (attempt %s: %s); trying again in %s s",
            email.subject,
            attempt,
            error,
            delay,
        )
        return f"retrying in {delay} s"
    return "sent"
