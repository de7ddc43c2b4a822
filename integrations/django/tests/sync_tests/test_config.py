"""`manage.py org_token_edge_config` (org_token_edge/edge_config.py): the edge's settings read
from SIMPLE_JWT, AUTH_USER_MODEL and the URLconf, each refusal, both formats, the secrets, and
the W003 check against ORG_TOKEN_EDGE["EDGE_CONFIG"]."""
import datetime
import io
import unittest
from unittest import mock

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models
from django.test import SimpleTestCase, override_settings
from django.test.utils import isolate_apps
from django.urls import include, path, re_path

from org_token_edge import conf, edge_config

if settings.SIMPLEJWT:
    from rest_framework_simplejwt import views as stock
else:  # pragma: no cover
    stock = None

KEY = "a-signing-key-that-is-long-enough-0123456789"
SYNC = "test-sync-secret-that-is-long-enough-0123456789"
EDGE = {"URL": "https://ps.example.org", "SECRET": SYNC}
BASE = {"SIGNING_KEY": KEY}
ALGORITHMS = "HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA"
DEFAULT_LINES = [
    "SIMPLE_JWT_VERSION=5.2.2",
    "TOKEN_OBTAIN_PAIR_PATH=/api/token/",
    "TOKEN_REFRESH_PATH=/api/token/refresh/",
    "TOKEN_VERIFY_PATH=/api/token/verify/",
    "TOKEN_BLACKLIST_PATH=/api/token/blacklist/",
    "ACCESS_TOKEN_LIFETIME=300",
    "REFRESH_TOKEN_LIFETIME=86400",
    "ROTATE_REFRESH_TOKENS=false",
    "BLACKLIST_AFTER_ROTATION=false",
    "ALGORITHM=HS256",
    "USER_ID_FIELD=id",
    "USER_ID_FIELD_TYPE=integer",
    "TOKEN_CLAIMS=",
    "USER_ID_CLAIM=user_id",
    "TOKEN_TYPE_CLAIM=token_type",
    "JTI_CLAIM=jti",
    "AUTH_HEADER_TYPES=Bearer",
    "AUTH_HEADER_NAME=HTTP_AUTHORIZATION",
    "LEEWAY=0",
    "AUDIENCE=",
    "ISSUER=",
    "USERNAME_FIELD=username",
    "PASSWORD_ITERATIONS=260000",
]


class UrlConf:
    """A URLconf to set as ROOT_URLCONF (hashable, as Django's resolver cache needs)."""

    def __init__(self, *patterns):
        self.urlpatterns = list(patterns)


def run(*args):
    """(stdout lines, stderr lines) of a successful run; CommandError propagates."""
    out, err = io.StringIO(), io.StringIO()
    call_command("org_token_edge_config", *args, stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue().splitlines()


def settings_lines(lines):
    return [line for line in lines if line and not line.startswith("#")]


def refused(*args):
    """The lines a refusing run writes to stderr."""
    err = io.StringIO()
    try:
        call_command("org_token_edge_config", *args, stdout=io.StringIO(), stderr=err)
    except CommandError as error:
        assert str(error).startswith("the edge cannot serve this origin's simplejwt as configured"), error
        return err.getvalue().splitlines()
    raise AssertionError("not refused")


def values(**simple_jwt):
    """{edge setting: value} for SIMPLE_JWT = BASE + simple_jwt."""
    with override_settings(SIMPLE_JWT=dict(BASE, **simple_jwt)):
        return dict(edge_config.read().values)


@unittest.skipUnless(settings.SIMPLEJWT, "needs Debian's python3-djangorestframework-simplejwt")
@override_settings(SIMPLE_JWT=BASE, ORG_TOKEN_EDGE=EDGE)
class ConfigCommandTests(SimpleTestCase):
    def test_the_defaults_and_the_test_projects_paths(self):
        lines, err = run()
        self.assertEqual(settings_lines(lines), DEFAULT_LINES)
        self.assertEqual(err, [])
        self.assertIn(
            "# secrets, not printed: set JWT_SECRET_KEY (simplejwt's SIGNING_KEY) and SYNC_SECRET"
            " (ORG_TOKEN_EDGE['SECRET']) with `npx wrangler secret put`, or print them here with --with-secrets",
            lines,
        )

    def test_with_secrets_adds_the_signing_key_and_the_sync_secret(self):
        lines, _ = run("--with-secrets")
        self.assertEqual(
            settings_lines(lines), DEFAULT_LINES + ["JWT_SECRET_KEY=%s" % KEY, "SYNC_SECRET=%s" % SYNC]
        )
        self.assertFalse(any("not printed" in line for line in lines))

    @override_settings(SIMPLE_JWT={}, SECRET_KEY="django-insecure-$ecret key with spaces & #hash 0123")
    def test_the_signing_key_defaults_to_secret_key_and_is_quoted_for_dev_vars(self):
        lines, _ = run("--with-secrets")
        self.assertIn("JWT_SECRET_KEY='django-insecure-$ecret key with spaces & #hash 0123'", lines)

    @override_settings(SIMPLE_JWT={}, SECRET_KEY="short-django-key")
    def test_a_signing_key_under_32_bytes_is_refused_with_secrets(self):
        self.assertEqual(
            refused("--with-secrets"),
            [
                "SECRET_KEY (simplejwt's SIGNING_KEY) is 16 bytes: the edge's JWT_SECRET_KEY must be at least 32;"
                " set a longer signing key"
            ],
        )
        self.assertEqual(settings_lines(run()[0]), DEFAULT_LINES)  # without secrets, not read

    @override_settings(SIMPLE_JWT={"SIGNING_KEY": "too-short"})
    def test_a_short_simple_jwt_signing_key_is_named(self):
        self.assertEqual(
            refused("--with-secrets"),
            [
                "SIMPLE_JWT['SIGNING_KEY'] is 9 bytes: the edge's JWT_SECRET_KEY must be at least 32;"
                " set a longer signing key"
            ],
        )

    @override_settings(ORG_TOKEN_EDGE={"URL": "https://ps.example.org"})
    def test_with_secrets_needs_the_sync_secret(self):
        self.assertEqual(
            refused("--with-secrets"), ["ORG_TOKEN_EDGE['SECRET'] is not set: it is the edge's SYNC_SECRET"]
        )

    def test_toml_is_a_vars_block_of_strings(self):
        lines, _ = run("--format", "toml")
        body = settings_lines(lines)
        self.assertEqual(body[0], "[vars]")
        expected = []
        for line in DEFAULT_LINES:
            key, value = line.split("=", 1)
            expected.append('%s = "%s"' % (key, value))
        self.assertEqual(body[1:], expected)
        self.assertFalse(any("JWT_SECRET_KEY=" in line or "SYNC_SECRET=" in line for line in lines))

    def test_toml_with_secrets_is_refused(self):
        with self.assertRaisesMessage(CommandError, "secrets never go in wrangler.toml"):
            run("--format", "toml", "--with-secrets")

    def test_the_fingerprint_is_that_of_the_lines_and_the_same_in_both_formats(self):
        lines, _ = run()
        toml, _ = run("--format", "toml")
        printed, _ = run("--fingerprint")
        expected = edge_config.fingerprint([line.split("=", 1) for line in DEFAULT_LINES])
        self.assertEqual(printed, [expected])
        self.assertEqual(
            lines[-1], "# ORG_TOKEN_EDGE['EDGE_CONFIG'] = %r  (the system check warns when it drifts)" % expected
        )
        self.assertEqual(toml[-1], lines[-1])
        with_secrets, _ = run("--with-secrets")
        self.assertEqual(with_secrets[-1], lines[-1])  # secrets are not in it

    def test_served_settings(self):
        found = values(
            ACCESS_TOKEN_LIFETIME=datetime.timedelta(minutes=10),
            REFRESH_TOKEN_LIFETIME=datetime.timedelta(days=7),
            ROTATE_REFRESH_TOKENS=True,
            BLACKLIST_AFTER_ROTATION=True,
            ALGORITHM="HS512",
            USER_ID_CLAIM="sub",
            TOKEN_TYPE_CLAIM="typ",
            JTI_CLAIM="tid",
            AUTH_HEADER_TYPES=("Bearer", "JWT"),
            AUTH_HEADER_NAME="HTTP_X_ACCESS_TOKEN",
            LEEWAY=datetime.timedelta(seconds=30),
            AUDIENCE="my-api",
            ISSUER="https://issuer.example.org",
        )
        self.assertEqual(
            {key: found[key] for key in found if found[key] != dict(line.split("=", 1) for line in DEFAULT_LINES)[key]},
            {
                "ACCESS_TOKEN_LIFETIME": "600",
                "REFRESH_TOKEN_LIFETIME": "604800",
                "ROTATE_REFRESH_TOKENS": "true",
                "BLACKLIST_AFTER_ROTATION": "true",
                "ALGORITHM": "HS512",
                "USER_ID_CLAIM": "sub",
                "TOKEN_TYPE_CLAIM": "typ",
                "JTI_CLAIM": "tid",
                "AUTH_HEADER_TYPES": "Bearer,JWT",
                "AUTH_HEADER_NAME": "HTTP_X_ACCESS_TOKEN",
                "LEEWAY": "30",
                "AUDIENCE": "my-api",
                "ISSUER": "https://issuer.example.org",
            },
        )

    def test_the_password_iterations_are_the_default_hashers(self):
        with override_settings(PASSWORD_HASHERS=["sync_tests.test_config.Pbkdf2At1000"]):
            self.assertEqual(values()["PASSWORD_ITERATIONS"], "1000")

    def test_a_default_hasher_other_than_pbkdf2_sha256_is_served_its_other_users_logging_in_at_the_origin(self):
        hashers = [
            "django.contrib.auth.hashers.Argon2PasswordHasher",
            "sync_tests.test_config.Pbkdf2At1000",
            "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        ]
        with override_settings(PASSWORD_HASHERS=hashers):
            config = edge_config.read()
            self.assertEqual(dict(config.values)["PASSWORD_ITERATIONS"], "1000")
            self.assertEqual(
                config.notes,
                [
                    "PASSWORD_HASHERS also checks argon2, bcrypt_sha256: the edge forwards the login of a user whose"
                    " hash is one of these to this origin's view (set the edge's ORIGIN_URL)",
                    "PASSWORD_HASHERS[0] is Argon2PasswordHasher (argon2): a login at the edge keeps a"
                    " pbkdf2_sha256 hash (upgraded to Pbkdf2At1000's iterations), where this origin would rehash"
                    " it as argon2",
                ],
            )
            lines, err = run()
            self.assertIn("PASSWORD_ITERATIONS=1000", lines)
            self.assertEqual(err, [])

    def test_no_pbkdf2_sha256_hasher_is_refused(self):
        # The origin would refuse pbkdf2_sha256 hashes; the edge checks them itself.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.SHA1PasswordHasher"]):
            self.assertEqual(
                refused(),
                [
                    "PASSWORD_HASHERS has no pbkdf2_sha256 hasher: this origin refuses pbkdf2_sha256 hashes, which"
                    " the edge checks itself; list django.contrib.auth.hashers.PBKDF2PasswordHasher"
                ],
            )

    def test_a_header_type_given_as_a_string_and_leeway_as_a_number(self):
        found = values(AUTH_HEADER_TYPES="JWT", LEEWAY=5, ALGORITHM="HS384", USER_ID_FIELD="pk")
        self.assertEqual(
            (found["AUTH_HEADER_TYPES"], found["LEEWAY"], found["ALGORITHM"], found["USER_ID_FIELD"]),
            ("JWT", "5", "HS384", "pk"),
        )

    def test_under_hs_the_verifying_key_and_jwk_url_are_ignored_as_simplejwt_does(self):
        with override_settings(SIMPLE_JWT=dict(BASE, VERIFYING_KEY="pem", JWK_URL="https://keys.example.org")):
            lines, _ = run()
        self.assertEqual(settings_lines(lines), DEFAULT_LINES)
        for name in ("VERIFYING_KEY", "JWK_URL"):
            self.assertIn(
                "# SIMPLE_JWT[%r] is ignored under HS256 (simplejwt verifies with the signing key), and by the edge"
                % name,
                lines,
            )

    def test_a_signing_key_given_as_bytes_is_its_utf8_text(self):
        with override_settings(SIMPLE_JWT={"SIGNING_KEY": KEY.encode("utf-8")}):
            self.assertIn("JWT_SECRET_KEY=%s" % KEY, run("--with-secrets")[0])

    def test_defaults_written_out_are_served(self):
        with override_settings(SIMPLE_JWT=dict(BASE, UPDATE_LAST_LOGIN=False, VERIFYING_KEY="", JWK_URL=None,
                                               AUTH_TOKEN_CLASSES=["rest_framework_simplejwt.tokens.AccessToken"],
                                               TOKEN_OBTAIN_SERIALIZER=stock.serializers.TokenObtainPairSerializer)):
            self.assertEqual(settings_lines(run()[0]), DEFAULT_LINES)

    def test_each_unserved_setting_is_refused_on_its_own_line(self):
        cases = {
            "ACCESS_TOKEN_LIFETIME": (
                datetime.timedelta(seconds=1.5),
                "SIMPLE_JWT['ACCESS_TOKEN_LIFETIME'] = datetime.timedelta(seconds=1, microseconds=500000) is not"
                " served by the edge: it takes whole seconds, at least 1",
            ),
            "REFRESH_TOKEN_LIFETIME": (
                datetime.timedelta(0),
                "SIMPLE_JWT['REFRESH_TOKEN_LIFETIME'] = datetime.timedelta(0) is not served by the edge: it takes"
                " whole seconds, at least 1",
            ),
            "LEEWAY": (0.5, "SIMPLE_JWT['LEEWAY'] = 0.5 is not served by the edge: it takes whole seconds"),
            "ALGORITHM": (
                "none",
                "SIMPLE_JWT['ALGORITHM'] = 'none' is not served by the edge: it signs with %s" % ALGORITHMS,
            ),
            "USER_ID_FIELD": (
                "email",
                "SIMPLE_JWT['USER_ID_FIELD'] = 'email' is not served by the edge: users.User.email must be unique and"
                " not null (simplejwt finds one user by it)",
            ),
            "AUDIENCE": (
                ["a", "b"],
                "SIMPLE_JWT['AUDIENCE'] = ['a', 'b'] is not served by the edge: it takes one non-empty string",
            ),
            "AUTH_HEADER_TYPES": (
                ("Bearer", "My Token"),
                "SIMPLE_JWT['AUTH_HEADER_TYPES'] = ('Bearer', 'My Token') is not served by the edge: it takes one"
                " or more words without spaces or commas",
            ),
            "UPDATE_LAST_LOGIN": (
                True,
                "SIMPLE_JWT['UPDATE_LAST_LOGIN'] = True is not served by the edge: the edge does not write the"
                " origin's last_login",
            ),
            "AUTH_TOKEN_CLASSES": (
                ("rest_framework_simplejwt.tokens.SlidingToken",),
                "SIMPLE_JWT['AUTH_TOKEN_CLASSES'] = ('rest_framework_simplejwt.tokens.SlidingToken',) is not served"
                " by the edge: the edge serves simplejwt's AccessToken only",
            ),
            "TOKEN_OBTAIN_SERIALIZER": (
                "myapp.serializers.Obtain",
                "SIMPLE_JWT['TOKEN_OBTAIN_SERIALIZER'] = 'myapp.serializers.Obtain' is not served by the edge until"
                " ORG_TOKEN_EDGE['CLAIMS'] declares the claims its get_token adds ({claim: user field}; {} for none)",
            ),
            "USER_AUTHENTICATION_RULE": (
                "myapp.rules.allow",
                "SIMPLE_JWT['USER_AUTHENTICATION_RULE'] = 'myapp.rules.allow' is not served by the edge: the edge"
                " applies simplejwt's default rule (an active user) only",
            ),
            "SLIDING_TOKEN_LIFETIME": (
                datetime.timedelta(minutes=1),
                "SIMPLE_JWT['SLIDING_TOKEN_LIFETIME'] = datetime.timedelta(seconds=60) is not served by the edge:"
                " sliding tokens are not served",
            ),
            "JSON_ENCODER": (
                "json.JSONEncoder",
                "SIMPLE_JWT['JSON_ENCODER'] = 'json.JSONEncoder' is not served by the edge: the edge writes claims"
                " with its own JSON encoding, not a custom encoder",
            ),
            "TOKEN_USER_CLASS": (
                "myapp.models.TokenUser",
                "SIMPLE_JWT['TOKEN_USER_CLASS'] = 'myapp.models.TokenUser' is not served by the edge: custom token"
                " user classes are not served",
            ),
        }
        for name, (value, message) in cases.items():
            with self.subTest(name=name), override_settings(SIMPLE_JWT=dict(BASE, **{name: value})):
                self.assertEqual(refused(), [message])

    def test_several_refusals_at_once(self):
        unserved = dict(BASE, ALGORITHM="none", UPDATE_LAST_LOGIN=True, SLIDING_TOKEN_REFRESH_EXP_CLAIM="r")
        with override_settings(SIMPLE_JWT=unserved):
            lines = refused()
        self.assertEqual(len(lines), 3)
        self.assertEqual(
            [line.split(" = ")[0] for line in lines],
            [
                "SIMPLE_JWT['SLIDING_TOKEN_REFRESH_EXP_CLAIM']",
                "SIMPLE_JWT['UPDATE_LAST_LOGIN']",
                "SIMPLE_JWT['ALGORITHM']",
            ],
        )

    def test_a_setting_simplejwt_does_not_have_is_a_note(self):
        # 5.2.2 has no CHECK_REVOKE_TOKEN (5.3+): the origin ignores it, so does the edge.
        with override_settings(SIMPLE_JWT=dict(BASE, CHECK_REVOKE_TOKEN=True)):
            lines, _ = run()
        self.assertEqual(settings_lines(lines), DEFAULT_LINES)
        self.assertIn(
            "# SIMPLE_JWT['CHECK_REVOKE_TOKEN'] is not a setting of simplejwt 5.2.2: ignored by the origin, and by"
            " the edge",
            lines,
        )

    def test_5_5_settings_when_present(self):
        defaults = dict(edge_config._simplejwt().DEFAULTS, CHECK_REVOKE_TOKEN=False, CHECK_USER_IS_ACTIVE=True,
                        REVOKE_TOKEN_CLAIM="hash_password")
        with mock.patch.object(edge_config._simplejwt(), "DEFAULTS", defaults):
            with override_settings(SIMPLE_JWT=dict(BASE, CHECK_REVOKE_TOKEN=True, CHECK_USER_IS_ACTIVE=False)):
                self.assertEqual(
                    refused(),
                    [
                        "SIMPLE_JWT['CHECK_REVOKE_TOKEN'] = True is not served by the edge: revoking tokens by the"
                        " password hash claim is not served yet",
                        "SIMPLE_JWT['CHECK_USER_IS_ACTIVE'] = False is not served by the edge: the edge refuses an"
                        " inactive user, as simplejwt's default does",
                    ],
                )
            with override_settings(SIMPLE_JWT=dict(BASE, REVOKE_TOKEN_CLAIM="pw", CHECK_USER_IS_ACTIVE=True)):
                self.assertEqual(settings_lines(run()[0]), DEFAULT_LINES)

    def test_the_installed_version(self):
        for version in ("5.3.1", "5.5.1", "5.2.0"):
            with self.subTest(version=version), mock.patch.object(edge_config, "installed_version", lambda: version):
                self.assertEqual(settings_lines(run()[0])[0], "SIMPLE_JWT_VERSION=%s" % version)
        for version in ("5.6.0", "4.8.0", "5.5.0rc1", None):
            with self.subTest(version=version), mock.patch.object(edge_config, "installed_version", lambda: version):
                self.assertEqual(
                    refused(),
                    [
                        "rest_framework_simplejwt %s is not served by the edge: it answers as simplejwt 5.2.x to 5.5.x"
                        % (version or "(version unknown)")
                    ],
                )

    @override_settings(AUTH_USER_MODEL="users.EmailUser", ORG_TOKEN_EDGE=dict(EDGE, USER_MODEL="users.EmailUser"))
    def test_username_field_is_the_user_models(self):
        self.assertEqual(values()["USERNAME_FIELD"], "email")

    @override_settings(ORG_TOKEN_EDGE=dict(EDGE, USER_MODEL="users.EmailUser"))
    def test_the_synced_user_model_must_be_simplejwts(self):
        self.assertEqual(
            refused(),
            [
                "ORG_TOKEN_EDGE['USER_MODEL'] is users.EmailUser, but simplejwt authenticates AUTH_USER_MODEL"
                " (users.User): the edge's users would not be simplejwt's"
            ],
        )

    @override_settings(AUTHENTICATION_BACKENDS=["allauth.account.auth_backends.AuthenticationBackend"])
    def test_an_authentication_backend_of_its_own_is_refused_where_obtain_is_mounted(self):
        self.assertEqual(
            refused(),
            [
                "AUTHENTICATION_BACKENDS includes 'allauth.account.auth_backends.AuthenticationBackend', which"
                " TokenObtainPairView authenticates through: not served by the edge, which checks username and the"
                " password as ModelBackend does"
            ],
        )
        with override_settings(ROOT_URLCONF=UrlConf(path("api/token/refresh/", stock.TokenRefreshView.as_view()))):
            self.assertEqual(values()["TOKEN_REFRESH_PATH"], "/api/token/refresh/")

    def test_without_the_blacklist_app_blacklisting_is_refused(self):
        with mock.patch.object(edge_config, "_blacklist_app_installed", lambda: False):
            with override_settings(SIMPLE_JWT=dict(BASE, BLACKLIST_AFTER_ROTATION=True)):
                self.assertEqual(
                    refused(),
                    [
                        "SIMPLE_JWT['BLACKLIST_AFTER_ROTATION'] = True is not served by the edge without"
                        " 'rest_framework_simplejwt.token_blacklist' in INSTALLED_APPS: the origin then blacklists"
                        " nothing, the edge would",
                        "TokenBlacklistView at /api/token/blacklist/ is not served by the edge without"
                        " 'rest_framework_simplejwt.token_blacklist' in INSTALLED_APPS: the origin then answers 200"
                        " and blacklists nothing, the edge would blacklist",
                    ],
                )
            urls = UrlConf(path("api/token/", stock.TokenObtainPairView.as_view()))
            with override_settings(ROOT_URLCONF=urls):
                self.assertEqual(values()["TOKEN_BLACKLIST_PATH"], "")


@unittest.skipUnless(settings.SIMPLEJWT, "needs Debian's python3-djangorestframework-simplejwt")
@override_settings(SIMPLE_JWT=BASE, ORG_TOKEN_EDGE=EDGE)
class UrlConfTests(SimpleTestCase):
    def paths(self, *patterns):
        with override_settings(ROOT_URLCONF=UrlConf(*patterns)):
            found = dict(edge_config.read().values)
        return [found[key] for _, key in edge_config.VIEWS]

    def refusals(self, *patterns):
        with override_settings(ROOT_URLCONF=UrlConf(*patterns)):
            return refused()

    def test_a_view_not_mounted_is_empty(self):
        self.assertEqual(self.paths(path("token/", stock.TokenObtainPairView.as_view())), ["/token/", "", "", ""])
        self.assertEqual(self.paths(), ["", "", "", ""])

    def test_through_includes_and_module_level_views(self):
        inner = UrlConf(
            path("pair/", stock.token_obtain_pair),
            path("refresh", stock.token_refresh),
            re_path(r"^verify/$", stock.token_verify),
            re_path(r"^black\-list\.json$", stock.token_blacklist),
        )
        self.assertEqual(
            self.paths(path("v1/", include(([path("auth/", include(inner))], "auth")))),
            ["/v1/auth/pair/", "/v1/auth/refresh", "/v1/auth/verify/", "/v1/auth/black-list.json"],
        )
        self.assertEqual(self.paths(re_path(r"^api/", include(inner)))[0], "/api/pair/")

    def test_a_subclass_is_a_custom_view_refused_by_name(self):
        class MyObtainView(stock.TokenObtainPairView):
            pass

        self.assertEqual(
            self.refusals(path("api/token/", MyObtainView.as_view())),
            [
                "sync_tests.test_config.UrlConfTests.test_a_subclass_is_a_custom_view_refused_by_name.<locals>"
                ".MyObtainView at /api/token/ is not served by the edge: a subclass of TokenObtainPairView is a"
                " custom view; mount TokenObtainPairView itself, or keep that path at the origin"
            ],
        )

    def test_as_view_with_arguments_is_refused(self):
        self.assertEqual(
            self.refusals(path("api/token/", stock.TokenObtainPairView.as_view(serializer_class=None))),
            ["TokenObtainPairView at /api/token/ is not served by the edge: as_view(serializer_class) customizes it"],
        )

    def test_converters_and_regex_groups_are_refused(self):
        self.assertEqual(
            self.refusals(
                path("<slug:tenant>/token/", stock.TokenObtainPairView.as_view()),
                re_path(r"^(?P<v>v[12])/refresh/$", stock.TokenRefreshView.as_view()),
                path("<int:n>/", include(UrlConf(path("verify/", stock.TokenVerifyView.as_view())))),
                re_path(r"^blacklist/", stock.TokenBlacklistView.as_view()),  # no $: a prefix
            ),
            [
                "TokenObtainPairView at /<slug:tenant>/token/ is not served by the edge: its path has converters or"
                " regular expression groups; the edge serves a view at one fixed path",
                "TokenRefreshView at /^(?P<v>v[12])/refresh/$ is not served by the edge: its path has converters or"
                " regular expression groups; the edge serves a view at one fixed path",
                "TokenVerifyView at /<int:n>/verify/ is not served by the edge: its path has converters or regular"
                " expression groups; the edge serves a view at one fixed path",
                "TokenBlacklistView at /^blacklist/ is not served by the edge: its path has converters or regular"
                " expression groups; the edge serves a view at one fixed path",
            ],
        )

    def test_a_view_at_two_paths_is_refused(self):
        self.assertEqual(
            self.refusals(
                path("api/token/", stock.TokenObtainPairView.as_view()),
                path("api/login/", stock.TokenObtainPairView.as_view()),
            ),
            ["TokenObtainPairView is mounted at /api/login/ and /api/token/: the edge serves it at one path"],
        )

    def test_other_simplejwt_views_are_noted_not_served(self):
        urls = UrlConf(
            path("api/token/", stock.TokenObtainPairView.as_view()),
            path("api/sliding/", stock.TokenObtainSlidingView.as_view()),
        )
        with override_settings(ROOT_URLCONF=urls):
            lines, _ = run()
        self.assertIn(
            "# rest_framework_simplejwt.views.TokenObtainSlidingView at /api/sliding/ is not served by the edge"
            " (the origin keeps answering it)",
            lines,
        )


class EnvValueTests(SimpleTestCase):
    def test_plain_values_are_bare_others_quoted_so_dotenv_reads_them_back(self):
        self.assertEqual(edge_config.env_value("/api/token/"), "/api/token/")
        self.assertEqual(edge_config.env_value(""), "")
        self.assertEqual(edge_config.env_value("a b"), "'a b'")
        self.assertEqual(edge_config.env_value("a#b"), "'a#b'")
        self.assertEqual(edge_config.env_value("it's"), '"it\'s"')
        self.assertEqual(edge_config.env_value("it's \"x\""), "`it's \"x\"`")
        with self.assertRaises(ValueError):
            edge_config.env_value("'\"`")

    def test_toml_strings(self):
        self.assertEqual(edge_config.toml_value('a "b" \\ c\t'), '"a \\"b\\" \\\\ c\\u0009"')


@unittest.skipUnless(settings.SIMPLEJWT, "needs Debian's python3-djangorestframework-simplejwt")
@override_settings(SIMPLE_JWT=BASE)
class DriftCheckTests(SimpleTestCase):
    def w003(self):
        return [(m.msg, m.hint) for m in checks.run_checks() if m.id == "org_token_edge.W003"]

    def current(self):
        return edge_config.read().fingerprint()

    def test_no_edge_config_is_not_compared(self):
        with override_settings(ORG_TOKEN_EDGE=EDGE):
            self.assertEqual(self.w003(), [])

    def test_the_fingerprint_printed_matches(self):
        with override_settings(ORG_TOKEN_EDGE=EDGE):
            printed = run("--fingerprint")[0][0]
        with override_settings(ORG_TOKEN_EDGE=dict(EDGE, EDGE_CONFIG=printed)):
            self.assertEqual(self.w003(), [])
        with override_settings(ORG_TOKEN_EDGE=dict(EDGE, EDGE_CONFIG=printed[len("sha256:"):].upper())):
            self.assertEqual(self.w003(), [])  # the bare hex digest, in either case

    def test_a_change_is_w003_naming_the_command(self):
        with override_settings(ORG_TOKEN_EDGE=EDGE):
            printed = self.current()
        with override_settings(
            ORG_TOKEN_EDGE=dict(EDGE, EDGE_CONFIG=printed),
            SIMPLE_JWT=dict(BASE, ACCESS_TOKEN_LIFETIME=datetime.timedelta(minutes=15)),
        ):
            now = self.current()
            self.assertEqual(
                self.w003(),
                [
                    (
                        "org_token_edge: the origin's simplejwt settings, URLconf or version changed since the edge"
                        " was configured (ORG_TOKEN_EDGE['EDGE_CONFIG'] is %r, they read %r now)" % (printed, now),
                        "Run `python manage.py org_token_edge_config` and set its lines at the edge (`--format toml`"
                        " for wrangler.toml's [vars]), then store the fingerprint it prints in"
                        " ORG_TOKEN_EDGE['EDGE_CONFIG'].",
                    )
                ],
            )
        with override_settings(ORG_TOKEN_EDGE=dict(EDGE, EDGE_CONFIG=printed), ROOT_URLCONF=UrlConf()):
            self.assertEqual(len(self.w003()), 1)  # the views unmounted

    def test_a_setting_now_refused_is_w003(self):
        with override_settings(
            ORG_TOKEN_EDGE=dict(EDGE, EDGE_CONFIG="sha256:0"), SIMPLE_JWT=dict(BASE, ALGORITHM="none")
        ):
            self.assertEqual(
                self.w003(),
                [
                    (
                        "org_token_edge: the edge cannot serve this origin's simplejwt settings any more:"
                        " SIMPLE_JWT['ALGORITHM'] = 'none' is not served by the edge: it signs with %s" % ALGORITHMS,
                        "`python manage.py org_token_edge_config` lists what it refuses.",
                    )
                ],
            )


class Pbkdf2At1000(PBKDF2PasswordHasher):
    iterations = 1000


TOKEN_USER = "users.TokenUser"


@unittest.skipUnless(settings.SIMPLEJWT, "needs Debian's python3-djangorestframework-simplejwt")
@override_settings(SIMPLE_JWT=BASE, ORG_TOKEN_EDGE=EDGE)
class UserIdFieldAndClaimsTests(SimpleTestCase):
    """USER_ID_FIELD of another field than the key (USER_ID_FIELD_TYPE), and ORG_TOKEN_EDGE["CLAIMS"]."""

    def test_a_unique_field_of_each_type(self):
        self.assertEqual(
            (values(USER_ID_FIELD="username")["USER_ID_FIELD"], values(USER_ID_FIELD="username")["USER_ID_FIELD_TYPE"]),
            ("username", "string"),
        )
        with override_settings(AUTH_USER_MODEL=TOKEN_USER, ORG_TOKEN_EDGE=dict(EDGE, USER_MODEL=TOKEN_USER)):
            found = values(USER_ID_FIELD="uuid")
            self.assertEqual((found["USER_ID_FIELD"], found["USER_ID_FIELD_TYPE"]), ("uuid", "uuid"))
            self.assertEqual(values()["USER_ID_FIELD_TYPE"], "integer")

    def test_a_uuid_primary_key_is_served(self):
        label = "users.UuidKeyUser"
        with override_settings(AUTH_USER_MODEL=label, ORG_TOKEN_EDGE=dict(EDGE, USER_MODEL=label)):
            for name, expected in (("id", "uuid"), ("pk", "uuid"), ("email", "string")):
                found = values(USER_ID_FIELD=name)
                self.assertEqual((found["USER_ID_FIELD"], found["USER_ID_FIELD_TYPE"]), (name, expected))

    def test_a_primary_key_neither_integer_nor_uuid_is_refused(self):
        with isolate_apps("users"):

            class CharKeyUser(AbstractBaseUser):
                id = models.CharField(primary_key=True, max_length=40)
                email = models.EmailField(unique=True)
                USERNAME_FIELD = "email"

                class Meta:
                    app_label = "users"

        # The command reads the user model through both: an unregistered model stands in for it.
        with mock.patch.object(edge_config, "get_user_model", return_value=CharKeyUser), mock.patch.object(
            conf, "user_model", return_value=CharKeyUser
        ):
            self.assertEqual(
                refused(),
                [
                    "users.CharKeyUser's primary key id is a CharField: not served by the edge, which keys users (and"
                    " the sync sends them) by an integer or UUID primary key"
                ],
            )

    @override_settings(AUTH_USER_MODEL=TOKEN_USER, ORG_TOKEN_EDGE=dict(EDGE, USER_MODEL=TOKEN_USER))
    def test_a_nullable_field_or_another_type_is_refused(self):
        with override_settings(SIMPLE_JWT=dict(BASE, USER_ID_FIELD="nickname")):
            self.assertEqual(
                refused(),
                [
                    "SIMPLE_JWT['USER_ID_FIELD'] = 'nickname' is not served by the edge: users.TokenUser.nickname must"
                    " be unique and not null (simplejwt finds one user by it)"
                ],
            )
        with override_settings(SIMPLE_JWT=dict(BASE, USER_ID_FIELD="joined")):
            self.assertEqual(
                refused(),
                [
                    "SIMPLE_JWT['USER_ID_FIELD'] = 'joined' is not served by the edge: users.TokenUser.joined is a"
                    " DateField; the edge looks users up by an integer, UUID or text field"
                ],
            )

    @override_settings(
        AUTH_USER_MODEL=TOKEN_USER,
        ORG_TOKEN_EDGE=dict(EDGE, USER_MODEL=TOKEN_USER, CLAIMS={"name": "first_name", "staff": "is_staff"}),
        SIMPLE_JWT=dict(BASE, TOKEN_OBTAIN_SERIALIZER="myapp.serializers.Obtain"),
    )
    def test_claims_are_printed_in_order_and_a_custom_serializer_is_served_with_them(self):
        lines = settings_lines(run()[0])
        self.assertIn("TOKEN_CLAIMS=name:first_name,staff:is_staff", lines)
        self.assertEqual(lines.index("TOKEN_CLAIMS=name:first_name,staff:is_staff"), 12)

    @override_settings(
        SIMPLE_JWT=dict(BASE, TOKEN_OBTAIN_SERIALIZER="myapp.serializers.Obtain"),
        ORG_TOKEN_EDGE=dict(EDGE, CLAIMS={}),
    )
    def test_no_claims_declared_serves_a_custom_serializer_adding_none(self):
        self.assertIn("TOKEN_CLAIMS=", settings_lines(run()[0]))

    @override_settings(AUTH_USER_MODEL=TOKEN_USER)
    def test_bad_claims_are_refused_each_on_its_line(self):
        claims = {
            "user_id": "first_name",
            "fam": "first_name",
            "a b": "first_name",
            "when": "joined",
            "who": "nobody",
            "uuid": "uuid",
        }
        with override_settings(ORG_TOKEN_EDGE=dict(EDGE, USER_MODEL=TOKEN_USER, CLAIMS=claims)):
            self.assertEqual(
                refused(),
                [
                    "ORG_TOKEN_EDGE['CLAIMS']['user_id']: user_id is a claim simplejwt or the edge writes itself",
                    "ORG_TOKEN_EDGE['CLAIMS']['fam']: fam is a claim simplejwt or the edge writes itself",
                    "ORG_TOKEN_EDGE['CLAIMS']['a b']: a claim's name is one word without ':' or ','",
                    "ORG_TOKEN_EDGE['CLAIMS']['when'] = 'joined': users.TokenUser.joined is a DateField, which"
                    " simplejwt's JSON encoding cannot write (put str() of it in a field of its own, or leave that"
                    " claim at the origin)",
                    "ORG_TOKEN_EDGE['CLAIMS']['who'] = 'nobody': users.TokenUser has no such field (a plain column)",
                    "ORG_TOKEN_EDGE['CLAIMS']['uuid'] = 'uuid': users.TokenUser.uuid is a UUIDField, which"
                    " simplejwt's JSON encoding cannot write (put str() of it in a field of its own, or leave that"
                    " claim at the origin)",
                ],
            )
