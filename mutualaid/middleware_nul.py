"""No NUL character (U+0000) in a request reaches a view, a form or the database.

PostgreSQL text cannot hold a NUL: psycopg raises DataError, a 500. Django's form fields
refuse one with a form error, but plenty of values reach a query without a form: an
admin list filter (/admin/receipts/receipt/?method=%00), a session cookie, an address, a
POST read by hand. One check at the door, before the session is read, the user loaded or
any view run, rather than a guard in each of those places, of which the next one written
would lack it.

Two answers, by where the NUL is:
- In the address, the query string, a header or a cookie: refused with a 400 page that
  says what happened. These come from links and from the browser, never from typing; a
  NUL there is a damaged link or a crafted request, and guessing what it meant would act
  on something nobody asked for. A cookie holding one is deleted with the answer, so that
  a browser with a broken cookie is not stuck on this page.
- In a posted form field: removed, and the request goes on. A NUL is invisible, so what
  is left is exactly what the person saw in the field (as with the bidi controls that
  mutualaid.text takes out of names), and a 400 would throw away a whole form for a
  character nobody could see. The page then answers as it always does, by its own rules:
  the sign-in page to a signed-out visitor, the same 404 to an outsider as for a pod that
  does not exist (tests/test_audit_robustness.py holds every page to both), the form's
  own message to a member.
Uploaded files are left alone: their bytes may hold any value, and Django keeps their
names to printable characters (MultiPartParser.sanitize_file_name).
"""

import logging
from urllib.parse import urlencode

from django.http import QueryDict
from django.shortcuts import render

NUL = "\x00"

logger = logging.getLogger(__name__)


def has_nul(*texts):
    return any(NUL in text for text in texts)


def address_has_nul(request):
    """Whether the address, query string, headers or cookies hold a NUL."""
    return (
        has_nul(request.path, request.path_info, request.META.get("QUERY_STRING", ""))
        or any(has_nul(key, *values) for key, values in request.GET.lists())
        or any(has_nul(name, value) for name, value in request.headers.items())
        or any(has_nul(name, value) for name, value in request.COOKIES.items())
    )


def without_nul(data):
    """`data` (a QueryDict) with every NUL taken out of its keys and values, or `data`
    itself when it holds none."""
    if not any(has_nul(key, *values) for key, values in data.lists()):
        return data
    pairs = [
        (key.replace(NUL, ""), value.replace(NUL, ""))
        for key, values in data.lists()
        for value in values
    ]
    return QueryDict(urlencode(pairs, encoding=data.encoding), encoding=data.encoding)


class NulCharacterMiddleware:
    """Placed after LocaleMiddleware (the page is in the visitor's language) and before
    the session is read, the user loaded or messages shown: the 400 touches no database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if address_has_nul(request):
            logger.warning("Refused a request holding a NUL character: %r", request.path)
            response = render(request, "400_nul.html", status=400)
            for name, value in request.COOKIES.items():
                if NUL in value and NUL not in name:
                    response.delete_cookie(name)
            return response
        if request.method == "POST":
            # Read here, as CsrfViewMiddleware would read it next; the view sees this one.
            request.POST = without_nul(request.POST)
        return self.get_response(request)
