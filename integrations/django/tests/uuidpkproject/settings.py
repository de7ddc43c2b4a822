"""A project whose AUTH_USER_MODEL is keyed by a UUID (uuid_users.User, `id` a UUIDField primary
key) with simplejwt's views and org_token_edge, and the models the edge's org-token API copies
(an organization and a membership of ps-web's shape, allauth's social accounts), which such an
origin does not send. Its tests (uuidpk_tests) run in their own process: sync_tests/test_uuid_pk.py
starts them."""
SECRET_KEY = "uuid-pk-project-signing-key-that-is-long-enough-0123"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "rest_framework",
    "rest_framework_simplejwt",
    "uuid_users",
    "org_token_edge",
]
SITE_ID = 1
MIDDLEWARE = []
ROOT_URLCONF = "uuidpkproject.urls"
AUTH_USER_MODEL = "uuid_users.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
ORG_TOKEN_EDGE = {
    "URL": "http://127.0.0.1:9",
    "SECRET": "uuid-pk-sync-secret-that-is-long-enough-0123456789",
    "DELIVER_ON_COMMIT": False,
    "ORG_MODEL": "uuid_users.OrgAccount",
    "MEMBERSHIP_MODEL": "uuid_users.Membership",
}
# The parked entries' error lines: the tests park some on purpose.
LOGGING = {"version": 1, "loggers": {"org_token_edge": {"handlers": [], "level": "CRITICAL"}}}
