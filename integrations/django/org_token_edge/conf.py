"""The one setting, ORG_TOKEN_EDGE, read and validated in one place."""
import base64
import binascii
from dataclasses import dataclass
from typing import Optional

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MIN_SECRET_BYTES = 32
MAX_BATCH = 100


def _options():
    options = getattr(settings, "ORG_TOKEN_EDGE", None) or {}
    if not isinstance(options, dict):
        raise ImproperlyConfigured("ORG_TOKEN_EDGE must be a dict")
    return options


def secret_key(secret: str) -> bytes:
    """The HMAC key of docs/sync.md: `whsec_<base64>` decoded, else the UTF-8 bytes."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_"):], validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured("ORG_TOKEN_EDGE['SECRET'] starts with whsec_ but is not base64")
    return secret.encode("utf-8")


@dataclass(frozen=True)
class Delivery:
    url: str  # the receiver's full URL
    key: bytes
    timeout: float


def delivery() -> Delivery:
    """Where and how to deliver; ImproperlyConfigured (a clear message) when deliveries cannot
    start. Recording into the outbox does not depend on it: nothing is lost while it is wrong."""
    options = _options()
    url = options.get("URL")
    secret = options.get("SECRET")
    if not url or not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            "ORG_TOKEN_EDGE['URL'] must be the edge's base URL (https://ps.<domain>); deliveries not started"
        )
    if not secret or not isinstance(secret, str):
        raise ImproperlyConfigured("ORG_TOKEN_EDGE['SECRET'] is not set; deliveries not started")
    key = secret_key(secret)
    if len(key) < MIN_SECRET_BYTES:
        raise ImproperlyConfigured(
            "ORG_TOKEN_EDGE['SECRET'] is %d bytes, it must be at least %d (the edge's SYNC_SECRET, the same value);"
            " deliveries not started" % (len(key), MIN_SECRET_BYTES)
        )
    base = url.rstrip("/")
    receiver = base if base.endswith("/api/org_token/sync") else base + "/api/org_token/sync/"
    return Delivery(url=receiver, key=key, timeout=float(options.get("TIMEOUT", 10)))


def deliver_on_commit() -> bool:
    """Whether a commit starts a prompt delivery attempt in a background thread."""
    return bool(_options().get("DELIVER_ON_COMMIT", True))


def _model(label: Optional[str]):
    if not label:
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def user_model():
    return _model(_options().get("USER_MODEL", settings.AUTH_USER_MODEL))


def org_model():
    return _model(_options().get("ORG_MODEL", "users.OrgAccount"))


def membership_model():
    return _model(_options().get("MEMBERSHIP_MODEL", "users.Membership"))


def social_account_model():
    options = _options()
    if "SOCIAL_ACCOUNT_MODEL" in options:
        return _model(options["SOCIAL_ACCOUNT_MODEL"])
    if apps.is_installed("allauth.socialaccount"):
        return _model("socialaccount.SocialAccount")
    return None
