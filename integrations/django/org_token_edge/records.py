"""The rows the edge copies, as docs/sync.md's records: which models, which fields, and how
each value is written, for the signal path (instances) and --full (value rows) alike."""
import hashlib
import json
import math
import uuid

from . import conf

USER, ORGANIZATION, MEMBERSHIP, SOCIAL_ACCOUNT = "user", "organization", "membership", "social_account"
# The edge applies kinds in this order; --full sends them in it so references resolve.
KINDS = (USER, ORGANIZATION, MEMBERSHIP, SOCIAL_ACCOUNT)
DELETED_DIGEST = "deleted"


def tracked_models():
    """{kind: model} for the models found (a missing one is reported by the system check).
    Users only when they are keyed by a UUID: organizations, memberships and social accounts
    serve the edge's org-token API only (its memberships and social accounts refer to an integer
    user key), which such an origin is not given."""
    user = conf.user_model()
    if uuid_keyed(user):
        return {USER: user}
    found = {
        USER: user,
        ORGANIZATION: conf.org_model(),
        MEMBERSHIP: conf.membership_model(),
        SOCIAL_ACCOUNT: conf.social_account_model(),
    }
    return {kind: model for kind, model in found.items() if model is not None}


def uuid_keyed(model):
    """Whether `model` (the user model) has a UUIDField primary key: its users go by the UUID's
    text (the record's key, the outbox's, the row versions'), not an integer."""
    return model is not None and model._meta.pk.get_internal_type() == "UUIDField"


def kind_of(model):
    for kind, tracked in tracked_models().items():
        if tracked is model or (model._meta.proxy and model._meta.concrete_model is tracked):
            return kind
    return None


def columns(kind, model):
    """(field name in the record, model attribute) pairs."""
    if kind == USER:
        username = model._meta.get_field(model.USERNAME_FIELD).attname
        pairs = [("username", username), ("password", "password"), ("is_active", "is_active")]
        # simplejwt's user id field unless it is an integer primary key, and the claims' fields
        # (a field the model lacks is left out: org_token_edge_config refuses it).
        id_field = _simplejwt_id(model)
        if id_field is not None:
            pairs.append(("simplejwt_id", id_field))
        for name in conf.claim_fields():
            attname = _attname(model, name)
            if attname is not None:
                pairs.append((CLAIMS_PREFIX + name, attname))
        return pairs
    if kind == ORGANIZATION:
        return [("name", "name")]
    if kind == MEMBERSHIP:
        return [("user", "user_id"), ("org", "org_id"), ("active", "active")]
    return [("user", "user_id"), ("provider", "provider"), ("uid", "uid"), ("login", "extra_data")]


CLAIMS_PREFIX = "claims."


def _simplejwt_id(model):
    """The attribute sent as `simplejwt_id`: USER_ID_FIELD's, but none for an integer primary
    key (`id`, `pk`), which the record's key already is; a UUID primary key is sent (its text)."""
    name = conf.simplejwt_user_id_field()
    if name in ("id", "pk"):
        return model._meta.pk.attname if uuid_keyed(model) else None
    return _attname(model, name)


def _attname(model, name):
    if name is None:
        return None
    try:
        return model._meta.get_field(name).attname
    except Exception:
        return None


def wire_key(kind, key):
    """Integers for users and social accounts, UUID strings (hyphenated, lower case) for the
    others, and for users too when the user model is keyed by a UUID. ValueError or TypeError
    for a key that is not one."""
    if key is None:
        return None
    if kind == SOCIAL_ACCOUNT or (kind == USER and not uuid_keyed(conf.user_model())):
        return int(key)
    return str(key if isinstance(key, uuid.UUID) else uuid.UUID(str(key)))


def key_text(kind, key):
    """A row's key as the outbox and the row versions hold it: its wire key's text, so a saved
    instance (whose key is what was assigned, "007" or an upper-case UUID) and --full's row (what
    the database gives back) name the row alike. A key that is no such key is kept as it is:
    recording never fails the save, and delivery parks that entry."""
    try:
        return str(wire_key(kind, key))
    except (TypeError, ValueError):
        return str(key)


def _value(kind, name, value):
    if kind == USER and name == "simplejwt_id":
        # Django's lookup form, as the edge compares it: a UUID hyphenated, an int in decimal.
        return None if value is None else str(value)
    if name.startswith(CLAIMS_PREFIX):
        return value
    if name == "password":
        return value or None  # "" is no password, like an unusable one
    if name in ("is_active", "active"):
        return bool(value)
    if kind in (MEMBERSHIP, SOCIAL_ACCOUNT) and name == "user":
        return wire_key(USER, value)
    if kind == MEMBERSHIP and name == "org":
        return wire_key(ORGANIZATION, value)
    if name == "login":
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        login = value.get("login") if isinstance(value, dict) else None
        return login if isinstance(login, str) else None
    return value


def fields_from(kind, model, get, cols=None):
    """The record's fields; `get(attname)` reads one attribute of the row, `cols` are
    columns(kind, model) when the caller has them. The claims' fields go under "claims" as
    {field: value}, in their order."""
    fields = {}
    for name, attname in columns(kind, model) if cols is None else cols:
        value = _value(kind, name, get(attname))
        if name.startswith(CLAIMS_PREFIX):
            fields.setdefault("claims", {})[name[len(CLAIMS_PREFIX):]] = value
        else:
            fields[name] = value
    return fields


def fields_of(kind, instance):
    """An instance's fields as the database gives them back: an instance holds what was
    assigned ("007" to an IntegerField, an upper-case UUID string), which the edge, comparing
    Django's lookup form, would not find. A value the field refuses is sent as it is (saving it
    fails anyway)."""
    by_attname = {field.attname: field for field in type(instance)._meta.concrete_fields}

    def get(attname):
        value = getattr(instance, attname)
        field = by_attname.get(attname)
        if field is None or value is None:
            return value
        try:
            return field.to_python(value)
        except Exception:
            return value

    return fields_from(kind, type(instance), get)


def fault(value, at=""):
    """Why `value` (a record as it would be sent, or a part of it) cannot be put in a delivery,
    or None: one rule for the outbox and --full alike. A string must be UTF-8 (no lone
    surrogate, which a JSONField such as allauth's extra_data can hold) and hold no NUL (the
    edge refuses both: docs/sync.md, "Body"); anything else must be a JSON value."""
    if isinstance(value, str):
        if "\0" in value:
            return "%s holds a NUL character" % (at or "a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "%s holds a lone surrogate" % (at or "a string")
        return None
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "%s is not a finite number" % (at or "a number")
    if isinstance(value, dict):
        for name, item in value.items():
            if not isinstance(name, str):
                return "%s has a key that is not a string" % (at or "the record")
            where = "%s.%s" % (at, name) if at else name
            found = fault(name, "a key of %s" % (at or "the record")) or fault(item, where)
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = fault(item, "%s[%d]" % (at, index))
            if found:
                return found
        return None
    return "%s is not a JSON value (%s)" % (at or "the record", type(value).__name__)


def digest(fields):
    if fields is None:
        return DELETED_DIGEST
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def secret_digest(password):
    # surrogatepass: the signal runs in the saving transaction and must not fail on any string.
    return hashlib.sha256((password or "").encode("utf-8", "surrogatepass")).hexdigest()
