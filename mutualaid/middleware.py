"""While the database is away (stopped, restarting, out of connections), people get a
short page that says so, with 503 and Retry-After, instead of the 500 page.

Two paths lead to it: the middleware below, for what a view (or its template) raised, and
server_error(), the 500 handler, for the same failure anywhere else (a middleware on the
way out, such as the messages saving themselves in the session).

The page is rendered without the request, so that no context processor reads the session,
the signed-in user or the messages (all kept in the database), and SessionMiddleware saves
no session on a 5xx response: answering touches the database nowhere.
"""

import logging
import sys

import psycopg
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

logger = logging.getLogger(__name__)

# What the page promises ("try again in a minute").
RETRY_AFTER_SECONDS = 60

# SQLSTATEs of a server that cannot take the connection, as opposed to one refusing a
# query: connection exceptions (08…), shutting down or starting up (57P…), too many
# connections (53300).
UNAVAILABLE_SQLSTATES = ("08", "57P", "53300")


def database_unavailable(exc):
    """Whether a database error means the database cannot be reached just now. A wrong
    query, a deadlock or a cancelled statement is a bug or a race to mend, not an outage:
    those stay 500s, with their traceback in the error report."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if not isinstance(cause, psycopg.OperationalError):
        return False
    # No SQLSTATE: libpq's own errors (connection refused, server closed the connection,
    # connection lost) and the pool's (no connection within its timeout, too many waiting).
    return cause.sqlstate is None or cause.sqlstate.startswith(UNAVAILABLE_SQLSTATES)


def unavailable_response():
    response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Answers a view that could not reach the database with the 503 page.

    Every query of a request runs in its view (the session and the user are loaded
    lazily, on first use), and process_exception receives what the view, or the rendering
    of its template, raised."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not database_unavailable(exception):
            return None
        logger.warning("Database unavailable for %s: %s", request.path, exception)
        return unavailable_response()


def server_error(request):
    """The 500 handler (handler500): called while the exception that made the 500 is
    being handled, so it can tell an outage from a bug."""
    if database_unavailable(sys.exc_info()[1]):
        return unavailable_response()
    return defaults.server_error(request)
