import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = "test-project-only"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["*"]
# The admin and what it needs (sessions, messages): org_token_edge's admin page for parked
# entries is tested with a logged-in superuser (sync_tests/test_admin.py).
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "users",
    "org_token_edge",
]
try:  # Debian's python3-djangorestframework-simplejwt: org_token_edge_config's tests need it
    import rest_framework_simplejwt  # noqa: F401
except ImportError:  # those tests are skipped, the rest run
    SIMPLEJWT = False
else:
    SIMPLEJWT = True
    INSTALLED_APPS[-2:-2] = ["rest_framework", "rest_framework_simplejwt", "rest_framework_simplejwt.token_blacklist"]
SITE_ID = 1
STATIC_URL = "/static/"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
AUTH_USER_MODEL = "users.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "testproject.urls"
# A file database (OTE_DB_PATH for the end-to-end test and the bench); tests get their own.
DATABASES = {
    "default": {
        "ENGINE": "testproject.sqlite_backend",
        "NAME": os.environ.get("OTE_DB_PATH", os.path.join(BASE_DIR, "db.sqlite3")),
        "OPTIONS": {"timeout": 30},
        "TEST": {"NAME": os.environ.get("OTE_TEST_DB_PATH", os.path.join(BASE_DIR, "test-db.sqlite3"))},
    }
}
PASSWORD_HASHERS = os.environ.get("OTE_HASHERS", "django.contrib.auth.hashers.PBKDF2PasswordHasher").split(",")
ORG_TOKEN_EDGE = {
    "URL": os.environ.get("OTE_URL", "http://127.0.0.1:9"),
    "SECRET": os.environ.get("OTE_SECRET", "test-sync-secret-that-is-long-enough-0123456789"),
    "DELIVER_ON_COMMIT": os.environ.get("OTE_ON_COMMIT", "1") == "1",
}
LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"org_token_edge": {"handlers": ["console"], "level": os.environ.get("OTE_LOG_LEVEL", "CRITICAL")}},
}
