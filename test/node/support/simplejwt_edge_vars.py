"""The edge's .dev.vars lines for a Django project with simplejwt's views, as the design of
issue 25 names them (KEY=value, one a line, secrets included): what
`manage.py org_token_edge_config --with-secrets` prints. test/node/simplejwt-oracle.test.ts
uses this only while that command is absent from the project's org_token_edge.

Run with the project's directory as the working directory and its DJANGO_SETTINGS_MODULE set.
It refuses (exit 2, a message on stderr) what the edge would not serve, as the command does.
"""
import importlib.metadata
import os
import sys
from datetime import timedelta

sys.path.insert(0, os.getcwd())

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.urls import URLPattern, URLResolver, get_resolver  # noqa: E402
from rest_framework_simplejwt import views  # noqa: E402
from rest_framework_simplejwt.settings import api_settings  # noqa: E402

VIEWS = {
    "TOKEN_OBTAIN_PAIR_PATH": views.TokenObtainPairView,
    "TOKEN_REFRESH_PATH": views.TokenRefreshView,
    "TOKEN_VERIFY_PATH": views.TokenVerifyView,
    "TOKEN_BLACKLIST_PATH": views.TokenBlacklistView,
}


def refuse(message):
    sys.stderr.write("org_token_edge_config: %s\n" % message)
    sys.exit(2)


def mounted(patterns, prefix=""):
    """(path, view class) of every plain path() in the URLconf."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from mounted(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + str(entry.pattern), getattr(entry.callback, "view_class", None)


def seconds(value):
    total = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if total != int(total):
        refuse("a lifetime of %r is not a whole number of seconds" % (value,))
    return int(total)


def flag(value):
    return "true" if value else "false"


lines = {}
lines["JWT_SECRET_KEY"] = api_settings.SIGNING_KEY
lines["SYNC_SECRET"] = (getattr(settings, "ORG_TOKEN_EDGE", None) or {}).get("SECRET", "")
lines["SIMPLE_JWT_VERSION"] = importlib.metadata.version("djangorestframework-simplejwt")
paths = list(mounted(get_resolver().url_patterns))
for name, view in VIEWS.items():
    found = [path for path, cls in paths if cls is view]
    if found:
        lines[name] = found[0]
lines["ACCESS_TOKEN_LIFETIME"] = str(seconds(api_settings.ACCESS_TOKEN_LIFETIME))
lines["REFRESH_TOKEN_LIFETIME"] = str(seconds(api_settings.REFRESH_TOKEN_LIFETIME))
lines["ROTATE_REFRESH_TOKENS"] = flag(api_settings.ROTATE_REFRESH_TOKENS)
lines["BLACKLIST_AFTER_ROTATION"] = flag(api_settings.BLACKLIST_AFTER_ROTATION)
if api_settings.ALGORITHM not in ("HS256", "HS384", "HS512"):
    refuse("ALGORITHM %r is not served (HS256, HS384, HS512)" % api_settings.ALGORITHM)
lines["ALGORITHM"] = api_settings.ALGORITHM
lines["USER_ID_FIELD"] = api_settings.USER_ID_FIELD
lines["USER_ID_CLAIM"] = api_settings.USER_ID_CLAIM
lines["TOKEN_TYPE_CLAIM"] = api_settings.TOKEN_TYPE_CLAIM
lines["JTI_CLAIM"] = api_settings.JTI_CLAIM
header_types = api_settings.AUTH_HEADER_TYPES
lines["AUTH_HEADER_TYPES"] = ",".join([header_types] if isinstance(header_types, str) else header_types)
lines["AUTH_HEADER_NAME"] = api_settings.AUTH_HEADER_NAME
leeway = api_settings.LEEWAY
lines["LEEWAY"] = str(seconds(leeway) if isinstance(leeway, timedelta) else leeway)
if api_settings.AUDIENCE:
    lines["AUDIENCE"] = api_settings.AUDIENCE
if api_settings.ISSUER:
    lines["ISSUER"] = api_settings.ISSUER

for name, value in lines.items():
    if "\n" in str(value):
        refuse("%s holds a line break" % name)
    sys.stdout.write("%s=%s\n" % (name, value))
