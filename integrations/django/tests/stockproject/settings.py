"""A stock Django project (`django-admin startproject`'s shape) with simplejwt's views and
org_token_edge: AUTH_USER_MODEL is auth.User, and no ps-web organization or membership models.
Its tests (stock_tests) run in their own process: sync_tests/test_stock.py starts them."""
SECRET_KEY = "stock-project-signing-key-that-is-long-enough-0123"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "rest_framework_simplejwt",
    "org_token_edge",
]
MIDDLEWARE = []
ROOT_URLCONF = "stockproject.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
ORG_TOKEN_EDGE = {
    "URL": "http://127.0.0.1:9",
    "SECRET": "stock-sync-secret-that-is-long-enough-0123456789",
    "DELIVER_ON_COMMIT": False,
}
