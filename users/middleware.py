"""A signed-in person's language setting, applied to each of their requests.

Django's LocaleMiddleware (before this one) picks the language from the cookie the
language menu sets, else from the browser's Accept-Language. For a signed-in person who
has chosen a language, their account's setting wins: it follows them to every device
they sign in on, and to the mail they are sent (see users/adapter.py, mutualaid/mail.py).
"""

from django.db import DatabaseError
from django.utils import translation

from mutualaid.middleware import database_unavailable, unavailable_response


def without_person_language(view):
    """For views read by machines (/healthz): no session, no user, no database read."""
    view.without_person_language = True
    return view


class PersonLanguageMiddleware:
    """After AuthenticationMiddleware. In process_view, so that a view marked
    `without_person_language` is answered without reading the session or the user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "without_person_language", False):
            return None
        try:
            user = request.user
            language = user.language if user.is_authenticated else ""
        except DatabaseError as error:
            if database_unavailable(error):
                # The database is away: the short 503 page at once, rather than a second
                # wait for a connection in the view.
                return unavailable_response()
            raise
        if language and language != request.LANGUAGE_CODE:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return None
