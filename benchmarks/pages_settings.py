"""Settings for benchmarks/pages.py: the app's own, plus the bare view's URL.

Static files are read from the source tree (as in tests/server_settings.py): no
collectstatic has written the manifest that production reads. The cache is Redis, as in
production, under a key prefix of this run's own (BENCH_CACHE_PREFIX).
"""

import os

from mutualaid.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.pages_urls"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13"),
        "KEY_PREFIX": os.environ.get("BENCH_CACHE_PREFIX", "bench-pages"),
    }
}
