"""The one setting, ORG_TOKEN_EDGE, read and validated in one place."""
import base64
import binascii
import math
from dataclasses import dataclass
from typing import Optional

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MIN_SECRET_BYTES = 32
MAX_BATCH = 100


def _options(strict=True):
    """The setting; one that is not a dict is ImproperlyConfigured for delivering (`strict`),
    and no options (the defaults) for recording, which never stops for the setting."""
    options = getattr(settings, "ORG_TOKEN_EDGE", None) or {}
    if not isinstance(options, dict):
        if strict:
            raise ImproperlyConfigured("ORG_TOKEN_EDGE must be a dict")
        return {}
    return options


def option(name):
    """One option of ORG_TOKEN_EDGE as given (None when absent, or when the setting is not a dict)."""
    return _options(strict=False).get(name)


def _timeout(options):
    value = options.get("TIMEOUT", 10)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds <= 0:
        raise ImproperlyConfigured(
            "ORG_TOKEN_EDGE['TIMEOUT'] must be a positive number of seconds, not %r; deliveries not started" % (value,)
        )
    return seconds


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
    return Delivery(url=receiver, key=key, timeout=_timeout(options))


def deliver_on_commit() -> bool:
    """Whether a commit starts a prompt delivery attempt in a background thread."""
    return bool(_options(strict=False).get("DELIVER_ON_COMMIT", True))


def _model(label: Optional[str]):
    if not label or not isinstance(label, str):
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def user_model():
    return _model(_options(strict=False).get("USER_MODEL", settings.AUTH_USER_MODEL))


def simplejwt_user_id_field() -> Optional[str]:
    """SIMPLE_JWT["USER_ID_FIELD"], the user's field simplejwt names users by, or None when
    simplejwt cannot be read. records.columns decides whether the sync sends its value
    (`simplejwt_id`, docs/sync.md): always but for an integer primary key."""
    try:
        from rest_framework_simplejwt.settings import api_settings

        name = api_settings.USER_ID_FIELD
    except Exception:  # simplejwt absent or misconfigured: the config command says so
        return None
    return name if isinstance(name, str) and name else None


def claims() -> Optional[dict]:
    """ORG_TOKEN_EDGE["CLAIMS"]: {claim: user field}, in the order the origin's get_token adds
    them; None when not declared (org_token_edge_config validates it)."""
    value = option("CLAIMS")
    return value if isinstance(value, dict) else None


def claim_fields() -> list:
    """The user's fields the claims are written from, each once, in the claims' order."""
    fields = []
    for field in (claims() or {}).values():
        if isinstance(field, str) and field not in fields:
            fields.append(field)
    return fields


def configured(name: str) -> bool:
    """Whether ORG_TOKEN_EDGE names this option itself (ORG_MODEL, MEMBERSHIP_MODEL...)."""
    return name in _options(strict=False)


def edge_config() -> Optional[str]:
    """ORG_TOKEN_EDGE["EDGE_CONFIG"]: the fingerprint org_token_edge_config printed when the
    edge was configured, or None (not compared)."""
    value = _options(strict=False).get("EDGE_CONFIG")
    return value if value else None


def org_model():
    return _model(_options(strict=False).get("ORG_MODEL", "users.OrgAccount"))


def membership_model():
    return _model(_options(strict=False).get("MEMBERSHIP_MODEL", "users.Membership"))


def social_account_model():
    options = _options(strict=False)
    if "SOCIAL_ACCOUNT_MODEL" in options:
        return _model(options["SOCIAL_ACCOUNT_MODEL"])
    if apps.is_installed("allauth.socialaccount"):
        return _model("socialaccount.SocialAccount")
    return None
