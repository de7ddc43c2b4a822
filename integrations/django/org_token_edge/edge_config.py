"""The edge's settings that make a fresh edge answer simplejwt's stock views as this origin does,
read from the origin's SIMPLE_JWT (through simplejwt's own `api_settings`, so its defaults
apply), its AUTH_USER_MODEL and its URLconf; and what the edge cannot serve, refused, one line
each. `manage.py org_token_edge_config` prints it; the system check (W003) compares its
fingerprint with ORG_TOKEN_EDGE["EDGE_CONFIG"]. Under an asymmetric ALGORITHM the keys are read
through keys.py (PEMs the edge takes) and JWK_URL is compared with where the edge serves its JWKS."""
import datetime
import hashlib
import importlib
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import List, Tuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver

from . import conf, keys

# The edge's settings, in the order they are printed (the fingerprint depends on it).
KEYS = (
    "SIMPLE_JWT_VERSION",
    "TOKEN_OBTAIN_PAIR_PATH",
    "TOKEN_REFRESH_PATH",
    "TOKEN_VERIFY_PATH",
    "TOKEN_BLACKLIST_PATH",
    "ACCESS_TOKEN_LIFETIME",
    "REFRESH_TOKEN_LIFETIME",
    "ROTATE_REFRESH_TOKENS",
    "BLACKLIST_AFTER_ROTATION",
    "ALGORITHM",
    "USER_ID_FIELD",
    "USER_ID_FIELD_TYPE",
    "TOKEN_CLAIMS",
    "USER_ID_CLAIM",
    "TOKEN_TYPE_CLAIM",
    "JTI_CLAIM",
    "AUTH_HEADER_TYPES",
    "AUTH_HEADER_NAME",
    "LEEWAY",
    "AUDIENCE",
    "ISSUER",
    "USERNAME_FIELD",
    "PASSWORD_ITERATIONS",
)
# Printed after ALGORITHM when it is asymmetric (an HS* configuration prints, and fingerprints, as before).
ASYMMETRIC_KEYS = ("VERIFYING_KEY", "JWKS_PATH")
SECRET_KEYS = ("JWT_SECRET_KEY", "SIGNING_KEY", "SYNC_SECRET")
DEFAULT_JWKS_PATH = "/.well-known/jwks.json"  # the edge's JWKS_PATH default
# simplejwt's stock views (rest_framework_simplejwt.views) and the edge's setting for each path.
VIEWS = (
    ("TokenObtainPairView", "TOKEN_OBTAIN_PAIR_PATH"),
    ("TokenRefreshView", "TOKEN_REFRESH_PATH"),
    ("TokenVerifyView", "TOKEN_VERIFY_PATH"),
    ("TokenBlacklistView", "TOKEN_BLACKLIST_PATH"),
)
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
SERVED_ALGORITHMS = HMAC_ALGORITHMS + tuple(keys.ALGORITHMS)
SERVED_VERSIONS = ((5, 2), (5, 5))  # 5.2.x to 5.5.x
MIN_SIGNING_KEY_BYTES = 32
BLACKLIST_APP = "rest_framework_simplejwt.token_blacklist"
STOCK_BACKENDS = (
    "django.contrib.auth.backends.ModelBackend",
    # It lets an inactive user authenticate, but simplejwt's rule refuses that user anyway.
    "django.contrib.auth.backends.AllowAllUsersModelBackend",
)
INTEGER_FIELDS = (
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
)
# How Django converts a lookup value for USER_ID_FIELD, by the field's internal type (the edge's USER_ID_FIELD_TYPE).
STRING_FIELDS = ("CharField", "TextField", "SlugField", "EmailField", "URLField")
# The types whose values json.dumps writes as simplejwt would (its JSON_ENCODER unset): a
# claim from any other field fails at the origin (a date, a UUID, a Decimal).
JSON_FIELDS = INTEGER_FIELDS + STRING_FIELDS + ("BooleanField", "NullBooleanField", "FloatField", "JSONField")
# Claims the edge or simplejwt writes itself (besides the claim settings' own names).
WRITTEN_CLAIMS = ("exp", "iat", "nbf", "aud", "iss", "jti", "fam", "iat_ms")

# Settings the edge serves (printed above, or carried by a secret), and those that have no
# effect in the stock views unless another setting turns them on.
SERVED = {
    "ACCESS_TOKEN_LIFETIME",
    "REFRESH_TOKEN_LIFETIME",
    "ROTATE_REFRESH_TOKENS",
    "BLACKLIST_AFTER_ROTATION",
    "ALGORITHM",
    "SIGNING_KEY",
    "VERIFYING_KEY",  # read below: under HS* simplejwt ignores it (noted), else the edge's VERIFYING_KEY
    "JWK_URL",  # read below: under HS* simplejwt ignores it (noted), else compared with the edge's JWKS
    "AUDIENCE",
    "ISSUER",
    "LEEWAY",
    "AUTH_HEADER_TYPES",
    "AUTH_HEADER_NAME",
    "USER_ID_FIELD",
    "USER_ID_CLAIM",
    "TOKEN_TYPE_CLAIM",
    "JTI_CLAIM",
    "REVOKE_TOKEN_CLAIM",  # 5.3+: written and checked only with CHECK_REVOKE_TOKEN (refused below)
    "TOKEN_OBTAIN_SERIALIZER",  # served with ORG_TOKEN_EDGE["CLAIMS"] (read() says so otherwise)
}
# Why the edge does not serve a setting at a value other than simplejwt's default.
NOT_SERVED = {
    "UPDATE_LAST_LOGIN": "the edge does not write the origin's last_login",
    "JSON_ENCODER": "the edge writes claims with its own JSON encoding, not a custom encoder",
    "USER_AUTHENTICATION_RULE": "the edge applies simplejwt's default rule (an active user) only",
    "AUTH_TOKEN_CLASSES": "the edge serves simplejwt's AccessToken only",
    "TOKEN_USER_CLASS": "custom token user classes are not served",
    "TOKEN_REFRESH_SERIALIZER": "custom serializers are not served; the edge answers as simplejwt's own",
    "TOKEN_VERIFY_SERIALIZER": "custom serializers are not served; the edge answers as simplejwt's own",
    "TOKEN_BLACKLIST_SERIALIZER": "custom serializers are not served; the edge answers as simplejwt's own",
    "SLIDING_TOKEN_OBTAIN_SERIALIZER": "sliding tokens are not served",
    "SLIDING_TOKEN_REFRESH_SERIALIZER": "sliding tokens are not served",
    "SLIDING_TOKEN_LIFETIME": "sliding tokens are not served",
    "SLIDING_TOKEN_REFRESH_LIFETIME": "sliding tokens are not served",
    "SLIDING_TOKEN_REFRESH_EXP_CLAIM": "sliding tokens are not served",
    "CHECK_REVOKE_TOKEN": "revoking tokens by the password hash claim is not served yet",
    "CHECK_USER_IS_ACTIVE": "the edge refuses an inactive user, as simplejwt's default does",
}


class Refused(Exception):
    """What the edge cannot serve: `lines`, one per cause."""

    def __init__(self, lines):
        super().__init__("\n".join(lines))
        self.lines = list(lines)


@dataclass
class EdgeConfig:
    values: List[Tuple[str, str]]  # (edge setting, value), KEYS' order (ASYMMETRIC_KEYS after ALGORITHM)
    secrets: List[Tuple[str, str]] = field(default_factory=list)  # with_secrets only
    notes: List[str] = field(default_factory=list)  # printed as comments
    warnings: List[str] = field(default_factory=list)  # served, but likely not what is meant: to stderr

    def fingerprint(self):
        return fingerprint(self.values)


def fingerprint(values):
    """sha256 of the non-secret KEY=value lines, unquoted, one a line: the same for both
    formats, so ORG_TOKEN_EDGE["EDGE_CONFIG"] can be compared with what the origin reads now."""
    text = "".join("%s=%s\n" % (key, value) for key, value in values)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _simplejwt():
    try:
        module = importlib.import_module("rest_framework_simplejwt.settings")
    except ImportError as error:
        raise Refused(["rest_framework_simplejwt cannot be imported (%s): the edge serves simplejwt's views" % error])
    return module


def installed_version():
    try:
        from importlib import metadata

        return metadata.version("djangorestframework-simplejwt")
    except Exception:
        pass
    try:
        return getattr(importlib.import_module("rest_framework_simplejwt"), "__version__", None)
    except ImportError:
        return None


def _version(refused):
    version = installed_version()
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version or "")
    if match is None or not (SERVED_VERSIONS[0] <= (int(match[1]), int(match[2])) <= SERVED_VERSIONS[1]):
        refused.append(
            "rest_framework_simplejwt %s is not served by the edge: it answers as simplejwt 5.2.x to 5.5.x"
            % (version or "(version unknown)")
        )
        return ""
    return version


def _name(value):
    """A setting's value as written, classes and functions by their dotted path."""
    if isinstance(value, (list, tuple)):
        return tuple(_name(item) for item in value)
    if hasattr(value, "__module__") and hasattr(value, "__qualname__") and not isinstance(value, str):
        return "%s.%s" % (value.__module__, value.__qualname__)
    return value


def _seconds(name, value, refused, least):
    if isinstance(value, datetime.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        refused.append("SIMPLE_JWT[%r] = %r is not served by the edge: it is not a duration" % (name, value))
        return ""
    if seconds != int(seconds) or seconds < least:
        refused.append(
            "SIMPLE_JWT[%r] = %r is not served by the edge: it takes whole seconds%s"
            % (name, value, ", at least %d" % least if least else "")
        )
        return ""
    return str(int(seconds))


def _text(name, value, refused, blank=False):
    """A string setting; None is blank where simplejwt allows it (AUDIENCE, ISSUER)."""
    if value is None and blank:
        return ""
    if not isinstance(value, str) or (not value and not blank) or "\n" in value or "\r" in value:
        refused.append("SIMPLE_JWT[%r] = %r is not served by the edge: it takes one non-empty string" % (name, value))
        return ""
    return value


def _header_types(value, refused):
    types = value if isinstance(value, (list, tuple)) else (value,)
    if not types or not all(isinstance(item, str) and re.fullmatch(r"[!-+\--~]+", item) for item in types):
        refused.append(
            "SIMPLE_JWT['AUTH_HEADER_TYPES'] = %r is not served by the edge: it takes one or more words"
            " without spaces or commas" % (value,)
        )
        return ""
    return ",".join(types)


def _user_id_field(User, name, refused):
    """(USER_ID_FIELD, USER_ID_FIELD_TYPE) for the user model `User`: `id`/`pk` its integer or
    UUID primary key (the key the sync sends users by), or another field unique and not null;
    the sync sends the value of any but an integer primary key (simplejwt_id)."""
    label = User._meta.label
    pk = User._meta.pk
    if not isinstance(name, str) or not name:
        refused.append("SIMPLE_JWT['USER_ID_FIELD'] = %r is not served by the edge: it names no field" % (name,))
        return "", ""
    try:
        found = pk if name == "pk" else User._meta.get_field(name)
    except Exception:
        refused.append(
            "SIMPLE_JWT['USER_ID_FIELD'] = %r is not served by the edge: %s has no such field" % (name, label)
        )
        return "", ""
    pk_type = pk.get_internal_type()
    if pk_type not in INTEGER_FIELDS and pk_type != "UUIDField":
        # The sync sends users keyed by their primary key.
        refused.append(
            "%s's primary key %s is a %s: not served by the edge, which keys users (and the sync sends them) by an"
            " integer or UUID primary key" % (label, pk.name, pk_type)
        )
        return "", ""
    if getattr(found, "is_relation", False) or not getattr(found, "concrete", False):
        refused.append(
            "SIMPLE_JWT['USER_ID_FIELD'] = %r is not served by the edge: %s.%s is not a plain column"
            % (name, label, found.name)
        )
        return "", ""
    kind = found.get_internal_type()
    if name in ("id", "pk"):
        if found is not pk:
            refused.append(
                "SIMPLE_JWT['USER_ID_FIELD'] = 'id' is not served by the edge: %s.id is not its primary key (%s)"
                % (label, pk.name)
            )
            return "", ""
        return name, "uuid" if pk_type == "UUIDField" else "integer"
    field_type = (
        "integer" if kind in INTEGER_FIELDS else "uuid" if kind == "UUIDField" else "string" if kind in STRING_FIELDS
        else None
    )
    if field_type is None:
        refused.append(
            "SIMPLE_JWT['USER_ID_FIELD'] = %r is not served by the edge: %s.%s is a %s; the edge looks users up by an"
            " integer, UUID or text field" % (name, label, found.name, kind)
        )
        return "", ""
    if not (found.unique or found is pk) or found.null:
        refused.append(
            "SIMPLE_JWT['USER_ID_FIELD'] = %r is not served by the edge: %s.%s must be unique and not null (simplejwt"
            " finds one user by it)" % (name, label, found.name)
        )
        return "", ""
    return name, field_type


def _claims(User, declared, claim_settings, refused):
    """ORG_TOKEN_EDGE["CLAIMS"] (`declared`) as TOKEN_CLAIMS (`claim:field`, comma-separated, in
    order), each a field of the user model `User`."""
    if declared is None:
        return ""
    if not isinstance(declared, dict):
        refused.append("ORG_TOKEN_EDGE['CLAIMS'] must be a dict {claim: user field}")
        return ""
    written = set(WRITTEN_CLAIMS) | {value for value in claim_settings if value}
    pairs = []
    for claim, name in declared.items():
        where = "ORG_TOKEN_EDGE['CLAIMS'][%r]" % (claim,)
        if not isinstance(claim, str) or not re.fullmatch(r"[^\s:,]+", claim):
            refused.append("%s: a claim's name is one word without ':' or ','" % where)
            continue
        if claim in written:
            refused.append("%s: %s is a claim simplejwt or the edge writes itself" % (where, claim))
            continue
        try:
            found = User._meta.get_field(name) if isinstance(name, str) else None
        except Exception:
            found = None
        if found is None or getattr(found, "is_relation", False) or not getattr(found, "concrete", False):
            refused.append("%s = %r: %s has no such field (a plain column)" % (where, name, User._meta.label))
            continue
        if found.get_internal_type() not in JSON_FIELDS:
            kind = found.get_internal_type()
            refused.append(
                "%s = %r: %s.%s is a %s, which simplejwt's JSON encoding cannot write (put str() of it in a field of"
                " its own, or leave that claim at the origin)" % (where, name, User._meta.label, name, kind)
            )
            continue
        pairs.append("%s:%s" % (claim, name))
    return ",".join(pairs)


# The URLconf.


def _literal(pattern, leaf):
    """The path a pattern matches (no leading slash), or None when it is not one fixed path."""
    from django.urls.resolvers import RegexPattern, RoutePattern

    if isinstance(pattern, RoutePattern):
        return None if pattern.converters else str(pattern._route)
    if isinstance(pattern, RegexPattern):
        regex = pattern._regex
        regex = regex[1:] if regex.startswith("^") else regex
        if leaf:
            if not regex.endswith("$") or regex.endswith("\\$"):
                return None
            regex = regex[:-1]
        if re.search(r"[\\^$.*+?{}\[\]|()]", re.sub(r"\\[/.\-_~]", "", regex)):
            return None  # a regular expression, not one path
        return re.sub(r"\\([/.\-_~])", r"\1", regex)
    return None  # a language prefix (i18n_patterns) or a pattern class of its own


def _walk(patterns, known, shown, found):
    """(view class, path or None, where it is shown, as_view's kwargs) of each class-based view;
    `known` is the literal prefix so far (None once a pattern is not literal)."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            part = _literal(entry.pattern, leaf=False)
            inner = None if known is None or part is None else known + part
            _walk(entry.url_patterns, inner, shown + str(entry.pattern), found)
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)
            if not isinstance(view, type):
                continue
            part = None if known is None else _literal(entry.pattern, leaf=True)
            path = None if part is None else known + part
            where = path if path is not None else shown + str(entry.pattern)
            found.append((view, path, where, getattr(entry.callback, "initkwargs", None) or {}))


def _paths(refused, notes):
    from rest_framework_simplejwt import views as stock

    classes = {getattr(stock, name): key for name, key in VIEWS if hasattr(stock, name)}
    base = getattr(stock, "TokenViewBase", None)
    found = []
    _walk(get_resolver().url_patterns, "/", "/", found)
    paths = {key: [] for _, key in VIEWS}
    for view, path, where, initkwargs in found:
        dotted = "%s.%s" % (view.__module__, view.__qualname__)
        key = classes.get(view)
        if key is None:
            stock_parent = next((cls for cls in classes if issubclass(view, cls)), None)
            if stock_parent is not None:
                refused.append(
                    "%s at %s is not served by the edge: a subclass of %s is a custom view; mount %s itself,"
                    " or keep that path at the origin" % (dotted, where, stock_parent.__name__, stock_parent.__name__)
                )
            elif base is not None and issubclass(view, base):
                notes.append("%s at %s is not served by the edge (the origin keeps answering it)" % (dotted, where))
            continue
        if initkwargs:
            refused.append(
                "%s at %s is not served by the edge: as_view(%s) customizes it"
                % (view.__name__, where, ", ".join(sorted(initkwargs)))
            )
            continue
        if path is None:
            refused.append(
                "%s at %s is not served by the edge: its path has converters or regular expression groups;"
                " the edge serves a view at one fixed path" % (view.__name__, where)
            )
            continue
        paths[key].append(path)
    values = {}
    for name, key in VIEWS:
        mounted = sorted(set(paths[key]))
        if len(mounted) > 1:
            refused.append(
                "%s is mounted at %s: the edge serves it at one path" % (name, " and ".join(mounted))
            )
            values[key] = ""
        else:
            values[key] = mounted[0] if mounted else ""
    return values


def _forwarded_hash_algorithms():
    """PASSWORD_HASHERS' algorithms but pbkdf2_sha256: the edge forwards their users' logins here."""
    from django.contrib.auth.hashers import get_hashers

    return [hasher.algorithm for hasher in get_hashers() if hasher.algorithm != "pbkdf2_sha256"]


def _password_iterations(refused, notes):
    """The count the origin hashes pbkdf2_sha256 passwords at: the edge checks those hashes and
    upgrades a weaker one to it. A user whose hash is another algorithm logs in through this
    origin's own view (the edge forwards that login to its ORIGIN_URL)."""
    from django.contrib.auth.hashers import get_hashers

    hashers = get_hashers()
    pbkdf2 = next((hasher for hasher in hashers if hasher.algorithm == "pbkdf2_sha256"), None)
    if pbkdf2 is None:
        refused.append(
            "PASSWORD_HASHERS has no pbkdf2_sha256 hasher: this origin refuses pbkdf2_sha256 hashes, which the"
            " edge checks itself; list django.contrib.auth.hashers.PBKDF2PasswordHasher"
        )
        return ""
    others = _forwarded_hash_algorithms()
    if others:
        notes.append(
            "PASSWORD_HASHERS also checks %s: the edge forwards the login of a user whose hash is one of"
            " these to this origin's view (set the edge's ORIGIN_URL)" % ", ".join(others)
        )
    if hashers[0] is not pbkdf2:
        notes.append(
            "PASSWORD_HASHERS[0] is %s (%s): a login at the edge keeps a pbkdf2_sha256 hash (upgraded to"
            " %s's iterations), where this origin would rehash it as %s"
            % (type(hashers[0]).__name__, hashers[0].algorithm, type(pbkdf2).__name__, hashers[0].algorithm)
        )
    iterations = pbkdf2.iterations
    if not isinstance(iterations, int) or not 1000 <= iterations <= 2000000:
        refused.append(
            "%s.iterations = %r is not served by the edge: 1000 to 2000000" % (type(pbkdf2).__name__, iterations)
        )
        return ""
    return str(iterations)


def _blacklist_app_installed():
    from django.apps import apps

    return apps.is_installed(BLACKLIST_APP)


def read(with_secrets=False):
    """The EdgeConfig, or Refused listing every cause at once."""
    module = _simplejwt()
    api = module.api_settings  # replaced by simplejwt when SIMPLE_JWT changes: read it now
    defaults = module.DEFAULTS
    user_settings = getattr(settings, "SIMPLE_JWT", None) or {}
    refused, notes, warnings = [], [], []
    if not isinstance(user_settings, dict):
        raise Refused(["SIMPLE_JWT must be a dict"])

    def get(name):
        try:
            return getattr(api, name)
        except Exception as error:  # an import string that does not import, a removed setting
            refused.append("SIMPLE_JWT[%r] cannot be read: %s" % (name, error))
            return defaults.get(name)

    for name in sorted(user_settings):
        value = user_settings[name]
        if name in SERVED:
            continue
        if name not in defaults:
            notes.append(
                "SIMPLE_JWT[%r] is not a setting of simplejwt %s: ignored by the origin, and by the edge"
                % (name, installed_version())
            )
            continue
        if _name(value) == _name(defaults[name]) or (
            isinstance(value, (list, tuple)) and tuple(_name(value)) == tuple(_name(defaults[name]))
        ):
            continue
        reason = NOT_SERVED.get(name, "the edge serves simplejwt's default for it only")
        refused.append("SIMPLE_JWT[%r] = %r is not served by the edge: %s" % (name, value, reason))

    values = {"SIMPLE_JWT_VERSION": _version(refused)}
    values.update(_paths(refused, notes))
    values["ACCESS_TOKEN_LIFETIME"] = _seconds("ACCESS_TOKEN_LIFETIME", get("ACCESS_TOKEN_LIFETIME"), refused, 1)
    values["REFRESH_TOKEN_LIFETIME"] = _seconds("REFRESH_TOKEN_LIFETIME", get("REFRESH_TOKEN_LIFETIME"), refused, 1)
    rotate, blacklist = bool(get("ROTATE_REFRESH_TOKENS")), bool(get("BLACKLIST_AFTER_ROTATION"))
    values["ROTATE_REFRESH_TOKENS"] = "true" if rotate else "false"
    values["BLACKLIST_AFTER_ROTATION"] = "true" if blacklist else "false"
    if not _blacklist_app_installed():
        # Without the app simplejwt blacklists nothing (its blacklist() is missing and the
        # AttributeError is swallowed); the edge would blacklist.
        if blacklist:
            refused.append(
                "SIMPLE_JWT['BLACKLIST_AFTER_ROTATION'] = True is not served by the edge without %r in"
                " INSTALLED_APPS: the origin then blacklists nothing, the edge would" % BLACKLIST_APP
            )
        if values["TOKEN_BLACKLIST_PATH"]:
            refused.append(
                "TokenBlacklistView at %s is not served by the edge without %r in INSTALLED_APPS: the origin then"
                " answers 200 and blacklists nothing, the edge would blacklist"
                % (values["TOKEN_BLACKLIST_PATH"], BLACKLIST_APP)
            )
    algorithm = _algorithm(get("ALGORITHM"), refused)
    values["ALGORITHM"] = algorithm
    asymmetric = algorithm in keys.ALGORITHMS
    signing = user_settings.get("SIGNING_KEY", settings.SECRET_KEY)
    pkcs8 = ""
    if asymmetric:
        pkcs8 = _asymmetric(algorithm, signing, user_settings, values, refused, notes, warnings)
    else:
        for name in ("VERIFYING_KEY", "JWK_URL"):
            if user_settings.get(name):
                notes.append(
                    "SIMPLE_JWT[%r] is ignored under %s (simplejwt verifies with the signing key), and by the edge"
                    % (name, algorithm or "HS*")
                )
    User = get_user_model()
    values["USER_ID_FIELD"], values["USER_ID_FIELD_TYPE"] = _user_id_field(User, get("USER_ID_FIELD"), refused)
    for name in ("USER_ID_CLAIM", "TOKEN_TYPE_CLAIM", "JTI_CLAIM", "AUTH_HEADER_NAME"):
        values[name] = _text(name, get(name), refused)
    claim_settings = [values["USER_ID_CLAIM"], values["TOKEN_TYPE_CLAIM"], values["JTI_CLAIM"]]
    declared = conf.option("CLAIMS")
    values["TOKEN_CLAIMS"] = _claims(User, declared, claim_settings, refused)
    # A serializer of the project's own is served once it declares the claims its get_token
    # adds (CLAIMS, {} for none): the edge writes those, and answers as simplejwt's otherwise.
    obtain = user_settings.get("TOKEN_OBTAIN_SERIALIZER")
    custom = obtain is not None and _name(obtain) != _name(defaults["TOKEN_OBTAIN_SERIALIZER"])
    if custom and not isinstance(declared, dict):
        refused.append(
            "SIMPLE_JWT['TOKEN_OBTAIN_SERIALIZER'] = %r is not served by the edge until ORG_TOKEN_EDGE['CLAIMS']"
            " declares the claims its get_token adds ({claim: user field}; {} for none)" % (obtain,)
        )
    values["AUTH_HEADER_TYPES"] = _header_types(get("AUTH_HEADER_TYPES"), refused)
    values["LEEWAY"] = _seconds("LEEWAY", get("LEEWAY"), refused, 0)
    values["AUDIENCE"] = _text("AUDIENCE", get("AUDIENCE"), refused, blank=True)
    values["ISSUER"] = _text("ISSUER", get("ISSUER"), refused, blank=True)
    values["USERNAME_FIELD"] = User.USERNAME_FIELD
    values["PASSWORD_ITERATIONS"] = _password_iterations(refused, notes)

    # The users the edge has are the sync's: they must be the users simplejwt authenticates.
    synced = conf.user_model()
    if synced is not User:
        refused.append(
            "ORG_TOKEN_EDGE['USER_MODEL'] is %s, but simplejwt authenticates AUTH_USER_MODEL (%s): the edge's users"
            " would not be simplejwt's" % (synced._meta.label if synced else "not found", User._meta.label)
        )
    if values["TOKEN_OBTAIN_PAIR_PATH"]:
        backends = list(getattr(settings, "AUTHENTICATION_BACKENDS", STOCK_BACKENDS[:1]))
        for backend in backends:
            if backend not in STOCK_BACKENDS:
                refused.append(
                    "AUTHENTICATION_BACKENDS includes %r, which TokenObtainPairView authenticates through: not served"
                    " by the edge, which checks %s and the password as ModelBackend does"
                    % (backend, User.USERNAME_FIELD)
                )

    secrets = []
    if with_secrets:
        secrets = _secrets(asymmetric, signing, pkcs8, user_settings, refused)
    if refused:
        raise Refused(refused)
    order = KEYS[: KEYS.index("ALGORITHM") + 1] + (ASYMMETRIC_KEYS if asymmetric else ()) + KEYS[
        KEYS.index("ALGORITHM") + 1:
    ]
    return EdgeConfig(
        values=[(key, values[key]) for key in order], secrets=secrets, notes=notes, warnings=warnings
    )


def _secrets(asymmetric, signing, pkcs8, user_settings, refused):
    """JWT_SECRET_KEY (simplejwt's SIGNING_KEY under HS*, else derived from SECRET_KEY), SIGNING_KEY
    (the PKCS#8 PEM, asymmetric only) and SYNC_SECRET."""
    secrets = []
    if asymmetric:
        secrets.append(("JWT_SECRET_KEY", keys.derived_secret(settings.SECRET_KEY)))
        if pkcs8:
            secrets.append(("SIGNING_KEY", pkcs8))
    else:
        key = signing
        if isinstance(key, (bytes, bytearray)):  # PyJWT signs with the bytes; the edge with their UTF-8
            try:
                key = bytes(key).decode("utf-8")
            except UnicodeDecodeError:
                pass
        if not isinstance(key, str) or "\n" in key or "\r" in key:
            refused.append("SIMPLE_JWT['SIGNING_KEY'] is not served by the edge: it takes one line of text")
        elif len(key.encode("utf-8")) < MIN_SIGNING_KEY_BYTES:
            refused.append(
                "%s is %d bytes: the edge's JWT_SECRET_KEY must be at least %d; set a longer signing key"
                % (_signing_key_source(user_settings), len(key.encode("utf-8")), MIN_SIGNING_KEY_BYTES)
            )
        else:
            secrets.append(("JWT_SECRET_KEY", key))
    sync_secret = conf.option("SECRET")
    if not isinstance(sync_secret, str) or not sync_secret:
        refused.append("ORG_TOKEN_EDGE['SECRET'] is not set: it is the edge's SYNC_SECRET")
    elif len(conf.secret_key(sync_secret)) < conf.MIN_SECRET_BYTES or "\n" in sync_secret:
        refused.append("ORG_TOKEN_EDGE['SECRET'] must be one line of at least %d bytes" % conf.MIN_SECRET_BYTES)
    else:
        secrets.append(("SYNC_SECRET", sync_secret))
    return secrets


# Asymmetric algorithms.


def _algorithm(algorithm, refused):
    if algorithm not in SERVED_ALGORITHMS:
        refused.append(
            "SIMPLE_JWT['ALGORITHM'] = %r is not served by the edge: it signs with %s"
            % (algorithm, ", ".join(SERVED_ALGORITHMS))
        )
        return ""
    try:
        allowed = importlib.import_module("rest_framework_simplejwt.backends").ALLOWED_ALGORITHMS
    except (ImportError, AttributeError):
        return algorithm
    if algorithm not in allowed:
        refused.append(
            "SIMPLE_JWT['ALGORITHM'] = %r is not one simplejwt %s signs with (%s): the origin cannot serve it either"
            % (algorithm, installed_version(), ", ".join(sorted(allowed)))
        )
        return ""
    return algorithm


def _signing_key_source(user_settings):
    """Where simplejwt's SIGNING_KEY comes from, for messages: its own setting, or SECRET_KEY."""
    return "SIMPLE_JWT['SIGNING_KEY']" if "SIGNING_KEY" in user_settings else "SECRET_KEY (simplejwt's SIGNING_KEY)"


def _asymmetric(algorithm, signing, user_settings, values, refused, notes, warnings):
    """VERIFYING_KEY (the public key of SIGNING_KEY, which must pair with SIMPLE_JWT's own) and
    JWKS_PATH into `values`; the PKCS#8 PEM of SIGNING_KEY returned ("" when refused)."""
    pkcs8 = public = ""
    source = _signing_key_source(user_settings)
    try:
        pkcs8, public = keys.private_key(signing, algorithm)
    except keys.BadKey as error:
        refused.append("%s is not served by the edge under ALGORITHM %r: %s" % (source, algorithm, error))
    verifying = user_settings.get("VERIFYING_KEY")
    jwk_url = user_settings.get("JWK_URL")
    if verifying:
        try:
            given = keys.public_key(verifying, algorithm)
        except keys.BadKey as error:
            refused.append("SIMPLE_JWT['VERIFYING_KEY'] is not served by the edge under ALGORITHM %r: %s"
                           % (algorithm, error))
        else:
            if public and given != public:
                refused.append(
                    "SIMPLE_JWT['VERIFYING_KEY'] is not the public key of SIMPLE_JWT['SIGNING_KEY']: the origin"
                    " would refuse the tokens it signs, the edge would not"
                )
            public = public or given
    elif not jwk_url:
        refused.append(
            "SIMPLE_JWT sets ALGORITHM %r with neither VERIFYING_KEY nor JWK_URL: the origin verifies no token, the"
            " edge would; set VERIFYING_KEY to the public key, or JWK_URL to the edge's JWKS" % algorithm
        )
    values["VERIFYING_KEY"] = public
    values["JWKS_PATH"] = _jwks_path(jwk_url, notes, warnings, refused)
    if jwk_url:
        _jwk_url_and_forwarded_logins(warnings)
    return pkcs8


def _jwk_url_and_forwarded_logins(warnings):
    """A login the edge forwards (a hash it does not check) gets this origin's tokens, which carry
    no kid; PyJWKClient finds no key for a token without one."""
    others = _forwarded_hash_algorithms()
    if others:
        warnings.append(
            "SIMPLE_JWT['JWK_URL'] with PASSWORD_HASHERS checking %s: the edge forwards those users' logins to"
            " this origin, whose tokens carry no kid, which JWK_URL finds no key for: this origin's own views"
            " refuse them until the edge refreshes them; set VERIFYING_KEY instead of JWK_URL, or have those"
            " users' hashes become pbkdf2_sha256" % ", ".join(others)
        )


def _plain_path(path):
    """A path as the edge takes JWKS_PATH: absolute, no escapes, `//` or dot segments."""
    return (
        re.fullmatch(r"/[A-Za-z0-9._~!$&'()*+,;=:@/-]*", path) is not None
        and "//" not in path
        and not any(segment in (".", "..") for segment in path.split("/"))
    )


def _jwks_path(jwk_url, notes, warnings, refused):
    """Where the edge serves its JWKS: JWK_URL's path when JWK_URL is at the edge (ORG_TOKEN_EDGE['URL']),
    so the origin fetches it there; else the edge's default, and a warning where the two cannot agree."""
    if not jwk_url:
        return DEFAULT_JWKS_PATH
    if not isinstance(jwk_url, str):
        refused.append("SIMPLE_JWT['JWK_URL'] = %r is not served by the edge: it takes a URL" % (jwk_url,))
        return ""
    url = urllib.parse.urlsplit(jwk_url)
    edge = conf.option("URL")
    edge_url = urllib.parse.urlsplit(edge) if isinstance(edge, str) and edge else None
    at_edge = edge_url is not None and (url.scheme, url.netloc.lower()) == (edge_url.scheme, edge_url.netloc.lower())
    if at_edge:
        if not _plain_path(url.path) or url.path == "/" or url.query or url.fragment:
            refused.append(
                "SIMPLE_JWT['JWK_URL'] = %r is not served by the edge: at the edge it takes one path (JWKS_PATH),"
                " such as %s%s" % (jwk_url, edge.rstrip("/"), DEFAULT_JWKS_PATH)
            )
            return ""
        notes.append("SIMPLE_JWT['JWK_URL'] is the edge's JWKS: the edge serves it at JWKS_PATH %s" % url.path)
        return url.path
    where = "%s%s" % (edge.rstrip("/"), DEFAULT_JWKS_PATH) if edge_url is not None else DEFAULT_JWKS_PATH
    if edge_url is not None:
        warnings.append(
            "SIMPLE_JWT['JWK_URL'] = %r is not at the edge (ORG_TOKEN_EDGE['URL'] = %r): the origin accepts the"
            " edge's tokens only if that URL serves the edge's JWKS, which the edge serves at %s"
            % (jwk_url, edge, where)
        )
    elif not url.path.endswith(DEFAULT_JWKS_PATH):
        warnings.append(
            "SIMPLE_JWT['JWK_URL'] = %r does not end with the edge's JWKS_PATH (%s), and ORG_TOKEN_EDGE['URL'] is not"
            " set to compare it with: the origin accepts the edge's tokens only if it serves the edge's JWKS"
            % (jwk_url, DEFAULT_JWKS_PATH)
        )
    return DEFAULT_JWKS_PATH


# Output.

_PLAIN = re.compile(r"[A-Za-z0-9_./:,+@%=-]*")


def env_value(value):
    """A value as .dev.vars (dotenv) reads it back unchanged: bare when plain, else quoted."""
    if _PLAIN.fullmatch(value):
        return value
    if "\n" in value or "\r" in value:  # a PEM: on one line, dotenv turns backslash-n in double quotes into a newline
        if '"' in value or "\\" in value:
            raise ValueError("a value of several lines with a quote or a backslash cannot be written to .dev.vars")
        return '"%s"' % value.replace("\r", "\\r").replace("\n", "\\n")
    if "'" not in value:
        return "'%s'" % value  # dotenv keeps single-quoted text as it is
    if '"' not in value and "\\" not in value:
        return '"%s"' % value  # dotenv turns backslash-n in double quotes into a newline
    if "`" not in value:
        return "`%s`" % value
    raise ValueError("a value with every quote character cannot be written to .dev.vars")


_MULTI_LINE_LITERAL = re.compile(r"[^\x00-\x08\x0b-\x1f\x7f]*\n[^\x00-\x08\x0b-\x1f\x7f]*")


def toml_value(value):
    """A TOML string: a value of several lines (a PEM) as a multi-line literal string, line by
    line as it reads (TOML drops the newline right after the opening quotes); else a basic string."""
    if _MULTI_LINE_LITERAL.fullmatch(value) and "'''" not in value and not value.endswith("'"):
        return "'''\n%s'''" % value
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append("\\u%04x" % ord(char))
        else:
            out.append(char)
    return '"%s"' % "".join(out)
