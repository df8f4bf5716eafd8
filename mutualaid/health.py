"""Two answers for a load balancer (or an orchestrator), read by machines, not people.

- /healthz: this process is up and serves requests. It reads nothing: no database, no
  session, no signed-in user, so a database outage never makes it fail (restarting the
  process would not help).
- /readyz: this process can serve pages now, which takes the database: 200 when a query
  goes through, else 503, so that traffic goes elsewhere until it is back.
"""

from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from users.middleware import without_person_language


@without_person_language
@never_cache
@require_safe
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@never_cache
@require_safe
def readyz(request):
    try:
        # Through the pool, as any page: at most the pool's timeout in an outage.
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable", content_type="text/plain", status=503)
    return HttpResponse("ok", content_type="text/plain")
