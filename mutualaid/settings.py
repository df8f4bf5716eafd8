"""Settings for the mutual-aid pod app, read from the environment.

Local defaults need nothing set: a SQLite file, mail on the console, DEBUG off unless
asked for. Production sets SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL (see README).
"""

import os
from pathlib import Path

import environ
from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from mutualaid.database import check_connection

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# No default secret in production: a missing key must stop the app, never fall back
# to a value anyone can read in this repository.
# Read as it is: django-environ would take a key starting with "$" (as random keys can)
# for the name of another variable.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if DEBUG:
    SECRET_KEY = SECRET_KEY or "django-insecure-local-development-only"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
elif not SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY in the environment (DEBUG is off).")
elif not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS in the environment (DEBUG is off).")

INSTALLED_APPS = [
    "mutualaid.apps.MutualAidAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "django_tasks_db",
    "users",
    "pods",
    "recipients",
    "pledges",
    "receipts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Cache-Control: private on every page, no-store on those with handles or secrets.
    "mutualaid.middleware_cache.PrivatePagesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # No NUL character reaches the session, a view or the database.
    "mutualaid.middleware_nul.NulCharacterMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in person's own language setting, over the cookie and the browser's.
    "users.middleware.PersonLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # A view that cannot reach the database: the short 503 page, not the 500 one.
    "mutualaid.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "mutualaid.urls"
WSGI_APPLICATION = "mutualaid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
            ],
        },
    },
]

# SQLite file locally; PostgreSQL (psycopg 3, pooled) through DATABASE_URL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # What a database outage costs (tests/test_outage.py): a request waits `timeout` for a
    # connection, then gets the 503 page (mutualaid/middleware.py), not psycopg's 30 s.
    # With every wait that short, `max_waiting` is left unbounded: a cap would turn away
    # a burst of requests while the database is fine. The pool retries a lost connection
    # in the background with doubling delays (1, 2, 4, 8, 16 s…) for `reconnect_timeout`:
    # kept to 2 s, its tries stay a second apart, and after it gives up the next request
    # starts a new try at once, so pages are back as soon as PostgreSQL is, not when the
    # back-off comes round.
    DATABASES["default"]["OPTIONS"] = {
        # How long libpq waits for a server that does not answer at all (one that refuses
        # answers at once); 2 s is its minimum. A connect_timeout in DATABASE_URL wins.
        "connect_timeout": 2,
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=10),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=3.0),
            "reconnect_timeout": 2.0,
            # The pool tests a connection before handing it out, so one that a restart
            # broke is replaced rather than given to a page, and with it every idle one
            # that the same restart broke.
            "check": check_connection,
        },
    }
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# allauth: email is the login, a code by email signs in, nobody signs up without an
# invitation (the adapter closes open sign-up).
ACCOUNT_ADAPTER = "users.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# A code rather than a link, like sign-in: typed on the phone that has the page open.
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
# The invitation-aware sign-up form, a login form whose password is optional, and code
# requests that work for accounts made in the admin too (see users/forms.py).
ACCOUNT_FORMS = {
    "signup": "users.forms.SignupForm",
    "login": "users.forms.LoginForm",
    "request_login_code": "users.forms.RequestLoginCodeForm",
}
# allauth merges this dict over its defaults (only False turns them off), so {} keeps
# them all on: 3 sign-in codes a minute per address, 20 per IP, and so on. They count in
# the shared cache (see CACHES). tests/users/test_rate_limit.py checks they answer.
ACCOUNT_RATE_LIMITS = {}
# Behind a load balancer every request comes from its address; per-IP limits need the
# client's, from X-Forwarded-For. Set to the number of proxies in front of the app.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# A cache shared by every web process (allauth's rate limits live there): Redis by
# CACHE_URL in production (redis://127.0.0.1:6379/0), the database locally.
CACHES = {
    "default": env.cache_url("CACHE_URL", default="dbcache://django_cache"),
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Where Django's own date and number formats for a language fall short (Arabic's).
FORMAT_MODULE_PATH = ["mutualaid.formats"]
# The language menu's choice for people who are not signed in (users/views.py).
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Receipt screenshots: on the local disk (MEDIA_ROOT) unless a bucket is named, then in
# that bucket of an S3-compatible store, shared by every machine. The bucket stays
# private: nothing links to it, every screenshot is read by the app and served only to
# the pod's members (receipts.views.screenshot).
if env.str("AWS_STORAGE_BUCKET_NAME", default=""):
    _endpoint = env.str("AWS_S3_ENDPOINT_URL", default="") or None
    MEDIA_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": _endpoint,
            # Keys from the environment, or none for boto3 to find (an instance's role).
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "client_config": Config(
                # Self-hosted stores (SeaweedFS, MinIO) answer at one address, not one per
                # bucket.
                s3={
                    "addressing_style": env.str(
                        "AWS_S3_ADDRESSING_STYLE", default="path" if _endpoint else "auto"
                    )
                },
                signature_version="s3v4",
                # A store that is away fails a request in seconds, with the form's message
                # (receipts.models.STORAGE_ERRORS), not after the worker's timeout.
                connect_timeout=5,
                read_timeout=20,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
            "default_acl": None,
            # Never two receipts under one name, as on the file system.
            "file_overwrite": False,
            # Should anything ever ask for a URL, it is signed and short-lived.
            "querystring_auth": True,
            "querystring_expire": 60,
            "object_parameters": {"CacheControl": "private, no-store"},
        },
    }
else:
    MEDIA_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

# Mail through Django's MAILERS: the console locally, SMTP from EMAIL_URL
# (smtp://user:password@host:587).
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Mutual aid <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env.str("EMAIL_URL", default=""):
    _email = env.email_url("EMAIL_URL")
    if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
        _port = _email["EMAIL_PORT"]
        MAILERS = {
            "default": {
                "BACKEND": _email["EMAIL_BACKEND"],
                "OPTIONS": {
                    "host": _email["EMAIL_HOST"],
                    "port": _port,
                    "username": _email["EMAIL_HOST_USER"] or "",
                    "password": _email["EMAIL_HOST_PASSWORD"] or "",
                    "use_ssl": bool(_email.get("EMAIL_USE_SSL")) or _port == 465,
                    "use_tls": bool(_email.get("EMAIL_USE_TLS")) or _port == 587,
                    "timeout": 20,
                },
            }
        }
    else:
        MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"]}}
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}

# Mail (and the daily jobs) are tasks on Django's tasks framework, kept in the database
# (django-tasks-db) and run by `manage.py db_worker`, as many as you like. A message the
# mail server refuses for now, or that cannot reach it, is tried again after
# MAIL_RETRY_DELAY seconds, then twice, four times as long... up to MAIL_RETRY_MAX_DELAY
# apart, MAIL_RETRY_ATTEMPTS times in all (by default about four days).
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}
MAIL_RETRY_DELAY = env.float("MAIL_RETRY_DELAY", default=30.0)
MAIL_RETRY_MAX_DELAY = env.float("MAIL_RETRY_MAX_DELAY", default=3600.0)
MAIL_RETRY_ATTEMPTS = env.int("MAIL_RETRY_ATTEMPTS", default=100)

# Security. Behind a TLS-terminating load balancer set SECURE_PROXY_SSL_HEADER_ENABLED.
if env.bool("SECURE_PROXY_SSL_HEADER_ENABLED", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# A load balancer that ends TLS asks for these over plain http (mutualaid/health.py).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Nothing is loaded from a third party: every source is our own origin.
SECURE_CSP = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

# How long a former recipient's handle and contact are kept after they leave.
RECIPIENT_RETENTION_DAYS = env.int("RECIPIENT_RETENTION_DAYS", default=30)

# Where the app is reached, for links in emails sent outside a request (no Host header).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
