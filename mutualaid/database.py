"""How the pool of PostgreSQL connections checks one before a page gets it
(settings.DATABASES, OPTIONS["pool"]["check"])."""

from django.db import DEFAULT_DB_ALIAS, connections
from psycopg_pool import ConnectionPool


def check_connection(conn):
    """psycopg_pool's own check, and on the first connection found broken, a check of
    every idle one at once: a restart of the database breaks them all together, and the
    pool would find them out one by one, waiting 0, 1, then 2 s between them (its
    back-off), until a page that had waited its 3 s got the 503 page from a database that
    was up again (tests/test_outage.py)."""
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        # Checks and replaces, in the background, the idle connections; this one is the
        # pool's to discard as it handles the exception.
        connections[DEFAULT_DB_ALIAS].pool.check()
        raise
