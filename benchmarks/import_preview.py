"""How long the donor import's preview takes for a 1,000-row file: the upload (read,
check the file, keep its cells) and the preview page (every row checked against the pod,
with its 100 members and 100 pending invitations), against a bare Django view served in
the same run.

Run from the project root: `.venv/bin/python benchmarks/import_preview.py`. A benchmark,
not a test: timings depend on the machine, so nothing here fails; it prints the numbers.
The database is a throwaway SQLite file (or DATABASE_URL if set).
"""

import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_tmp = tempfile.mkdtemp(prefix="import-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/bench.sqlite3")
os.environ.update(
    DJANGO_SETTINGS_MODULE="mutualaid.settings",
    DEBUG="false",
    SECRET_KEY="benchmark-only",
    ALLOWED_HOSTS="testserver",
    SECURE_SSL_REDIRECT="false",
    AWS_STORAGE_BUCKET_NAME="",
    TASKS_BACKEND="django.tasks.backends.immediate.ImmediateBackend",
    LOG_LEVEL="ERROR",
)

import warnings  # noqa: E402

import django  # noqa: E402

warnings.filterwarnings("ignore", "No directory at")
django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import path, reverse  # noqa: E402

import mutualaid.urls  # noqa: E402

ROWS = 1_000
RUNS = 10


def bare(request):
    return HttpResponse("ok")


urlpatterns = [path("bare/", bare), *mutualaid.urls.urlpatterns]


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def timed_result(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def the_file():
    lines = ["\ufeffName;Email;Weekly amount"]
    for n in range(ROWS):
        amount = f"{n % 40 + 5}" if n % 3 else ""
        lines.append(f"Neighbor {n};neighbor{n}@example.org;{amount}")
    # A few rows with problems, as real lists have.
    lines += ["No Address;;10", ";nameless@example.org;10", "Bad;bad-address;10"]
    return ("\r\n".join(lines) + "\r\n").encode()


def main():
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from pods.models import Invitation, Membership, Pod

    User = get_user_model()
    pod = Pod.objects.create(name="Bench", slug="bench")
    organizer = User.objects.create_user("organizer@example.org")
    Membership.objects.create(pod=pod, user=organizer, role=Membership.Role.ORGANIZER)
    for n in range(0, ROWS, 10):
        member = User.objects.create_user(f"neighbor{n}@example.org")
        Membership.objects.create(pod=pod, user=member)
    for n in range(5, ROWS, 10):
        invitation = Invitation(
            pod=pod,
            email=f"neighbor{n}@example.org",
            expires_at=timezone.now() + datetime.timedelta(days=7),
        )
        invitation.new_token()
        invitation.save()
    data = the_file()
    client = Client()
    client.force_login(organizer)
    upload_url = reverse("pods:import_donors", args=[pod.slug])

    from django.conf import settings

    # Static files from the source tree: the manifest needs collectstatic.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(ROOT_URLCONF=__name__, STORAGES=storages):
        for _ in range(20):
            client.get("/bare/")
        bare_time = statistics.median(timed(lambda: client.get("/bare/")) for _ in range(200))
        print(f"bare Django view: {bare_time * 1000:.2f} ms (median of 200)")
        uploads, previews = [], []
        page = None
        for _ in range(RUNS):
            took, response = timed_result(
                lambda: client.post(
                    upload_url, {"donors-file": SimpleUploadedFile("donors.csv", data, "text/csv")}
                )
            )
            uploads.append(took)
            took, page = timed_result(lambda url=response.url: client.get(url))
            previews.append(took)
            assert page.status_code == 200
        from pods.imports import _counts, check_donors
        from pods.models import StagedImport

        cells = StagedImport.objects.latest("created_at").rows
        counts = _counts(check_donors(pod, cells))
        checks = [timed(lambda: check_donors(pod, cells)) for _ in range(RUNS)]
        print(f"checking the rows alone: {statistics.median(checks) * 1000:.1f} ms median")
        # The bare baseline of the preview's work: the same file through csv.reader alone.
        import csv
        import io

        bare_csv = statistics.median(
            timed(lambda: list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";")))
            for _ in range(RUNS)
        )
        print(f"csv.reader alone on the file: {bare_csv * 1000:.2f} ms")
        for label, times in (("upload (read and keep)", uploads), ("preview page", previews)):
            median = statistics.median(times)
            print(
                f"{label:<24} {ROWS + 3} rows: {median * 1000:8.1f} ms median of {RUNS}, "
                f"worst {max(times) * 1000:8.1f} ms, {median / bare_time:6.0f}x bare"
            )
        print(f"rows by status: {dict(sorted(counts.items()))}")
        print(f"preview HTML: {len(page.content) / 1024:.0f} KB")


if __name__ == "__main__":
    main()
