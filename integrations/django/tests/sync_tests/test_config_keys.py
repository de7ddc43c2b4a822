"""`manage.py org_token_edge_config` under an asymmetric ALGORITHM (org_token_edge/keys.py): the
keys carried to the edge (VERIFYING_KEY always, SIGNING_KEY with --with-secrets) in the forms
the edge takes, each refusal, JWK_URL against the edge's JWKS, both formats read back, and W003
on a new key. Keys are generated here; test/node/simplejwt-asymmetric.test.ts reads the printed
values back through wrangler's own parsers and runs them end to end."""
import hashlib
import hmac
import tomllib
import unittest
from unittest import mock

from django.conf import settings
from django.core import checks
from django.test import SimpleTestCase, override_settings

from org_token_edge import edge_config, keys

from .test_config import DEFAULT_LINES, EDGE, SYNC, refused, run, settings_lines

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
except ImportError:  # pragma: no cover
    serialization = None

SECRET_KEY = "the-django-secret-key-of-the-test-project-0123456789"
JWKS = "https://ps.example.org/.well-known/jwks.json"


def pem(key, private_format=None):
    if private_format is not None:
        return key.private_bytes(
            serialization.Encoding.PEM, private_format, serialization.NoEncryption()
        ).decode("ascii")
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(
        "ascii"
    )


def pkcs8(key):
    return pem(key, serialization.PrivateFormat.PKCS8)


def expected_lines(algorithm, public, jwks_path="/.well-known/jwks.json"):
    at = DEFAULT_LINES.index("ALGORITHM=HS256")
    return (
        DEFAULT_LINES[:at]
        + ["ALGORITHM=%s" % algorithm, "VERIFYING_KEY=%s" % edge_config.env_value(public), "JWKS_PATH=%s" % jwks_path]
        + DEFAULT_LINES[at + 1:]
    )


@unittest.skipUnless(settings.SIMPLEJWT and serialization, "needs simplejwt and python3-cryptography")
@override_settings(ORG_TOKEN_EDGE=EDGE, SECRET_KEY=SECRET_KEY)
class AsymmetricConfigTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.rsa_other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.p256 = ec.generate_private_key(ec.SECP256R1())
        cls.p384 = ec.generate_private_key(ec.SECP384R1())
        cls.ed25519 = ed25519.Ed25519PrivateKey.generate()

    def rs256(self, **simple_jwt):
        return override_settings(
            SIMPLE_JWT=dict(
                {"ALGORITHM": "RS256", "SIGNING_KEY": pkcs8(self.rsa), "VERIFYING_KEY": pem(self.rsa.public_key())},
                **simple_jwt,
            )
        )

    def test_rs256_prints_the_public_key_and_the_jwks_path_after_the_algorithm(self):
        with self.rs256():
            lines, err = run()
        public = pem(self.rsa.public_key())
        self.assertEqual(settings_lines(lines), expected_lines("RS256", public))
        self.assertEqual(err, [])
        self.assertTrue(edge_config.env_value(public).startswith('"-----BEGIN PUBLIC KEY-----\\n'))
        self.assertIn(
            "# secrets, not printed: set SIGNING_KEY (simplejwt's SIGNING_KEY, a PKCS#8 PEM), JWT_SECRET_KEY (derived"
            " from SECRET_KEY) and SYNC_SECRET (ORG_TOKEN_EDGE['SECRET']) with `npx wrangler secret put`, or print"
            " them here with --with-secrets",
            lines,
        )

    def test_with_secrets_the_private_key_and_a_jwt_secret_key_derived_from_secret_key(self):
        with self.rs256():
            lines, _ = run("--with-secrets")
        body = settings_lines(lines)
        derived = hmac.new(SECRET_KEY.encode(), b"org-token-edge JWT_SECRET_KEY v1", hashlib.sha256).hexdigest()
        self.assertEqual(
            body[len(DEFAULT_LINES) + 2:],
            [
                "JWT_SECRET_KEY=%s" % derived,
                "SIGNING_KEY=%s" % edge_config.env_value(pkcs8(self.rsa)),
                "SYNC_SECRET=%s" % SYNC,
            ],
        )
        self.assertNotIn(SECRET_KEY, "\n".join(lines))

    def test_pkcs1_sec1_bytes_and_key_objects_are_converted(self):
        traditional = serialization.PrivateFormat.TraditionalOpenSSL
        rsa_public_pkcs1 = self.rsa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        )
        ssh = self.rsa.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        cases = [
            ("RS256", pem(self.rsa, traditional).encode("ascii"), rsa_public_pkcs1, self.rsa),
            ("RS256", "\r\n" + pem(self.rsa, traditional).replace("\n", "\r\n"), ssh, self.rsa),
            ("RS512", self.rsa, self.rsa.public_key(), self.rsa),
            ("ES256", pem(self.p256, traditional), pem(self.p256.public_key()).encode(), self.p256),
            ("ES384", pkcs8(self.p384).encode(), None, self.p384),
        ]
        for algorithm, signing, verifying, key in cases:
            simple_jwt = {"ALGORITHM": algorithm, "SIGNING_KEY": signing, "JWK_URL": JWKS}
            if verifying is not None:
                simple_jwt["VERIFYING_KEY"] = verifying
            with self.subTest(algorithm=algorithm, signing=type(signing).__name__), override_settings(
                SIMPLE_JWT=simple_jwt
            ):
                found = dict(edge_config.read(with_secrets=True).secrets)
                values = dict(edge_config.read().values)
                self.assertEqual(found["SIGNING_KEY"], pkcs8(key))
                self.assertEqual(values["VERIFYING_KEY"], pem(key.public_key()))
                self.assertEqual(values["ALGORITHM"], algorithm)

    def test_eddsa_and_ps256_where_simplejwt_signs_with_them(self):
        from rest_framework_simplejwt import backends

        allowed = backends.ALLOWED_ALGORITHMS
        for algorithm, key in (("PS256", self.rsa), ("EdDSA", self.ed25519)):
            simple_jwt = {"ALGORITHM": algorithm, "SIGNING_KEY": pkcs8(key), "VERIFYING_KEY": pem(key.public_key())}
            with self.subTest(algorithm=algorithm), override_settings(SIMPLE_JWT=simple_jwt):
                if algorithm not in backends.ALLOWED_ALGORITHMS:  # 5.2.2: RS and ES only
                    self.assertEqual(
                        refused(),
                        [
                            "SIMPLE_JWT['ALGORITHM'] = %r is not one simplejwt %s signs with (%s): the origin cannot"
                            " serve it either"
                            % (algorithm, edge_config.installed_version(), ", ".join(sorted(allowed)))
                        ],
                    )
                with mock.patch.object(backends, "ALLOWED_ALGORITHMS", set(backends.ALLOWED_ALGORITHMS) | {algorithm}):
                    self.assertEqual(settings_lines(run()[0]), expected_lines(algorithm, pem(key.public_key())))
        ed448_key = ed448.Ed448PrivateKey.generate()
        simple_jwt = {"ALGORITHM": "EdDSA", "SIGNING_KEY": pkcs8(ed448_key), "JWK_URL": JWKS}
        with override_settings(SIMPLE_JWT=simple_jwt), mock.patch.object(
            backends, "ALLOWED_ALGORITHMS", set(backends.ALLOWED_ALGORITHMS) | {"EdDSA"}
        ):
            self.assertEqual(
                refused(),
                [
                    "SIMPLE_JWT['SIGNING_KEY'] is not served by the edge under ALGORITHM 'EdDSA': it is an Ed448 key,"
                    " and EdDSA signs with an Ed25519 key"
                ],
            )

    def test_each_key_the_edge_cannot_take_is_refused(self):
        small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        encrypted = self.rsa.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
        source = "SIMPLE_JWT['SIGNING_KEY'] is not served by the edge under ALGORITHM"
        cases = [
            (
                {"ALGORITHM": "RS256", "VERIFYING_KEY": pem(self.rsa.public_key())},
                "SECRET_KEY (simplejwt's SIGNING_KEY) is not served by the edge under ALGORITHM 'RS256': it is not"
                " a PEM private key (-----BEGIN PRIVATE KEY-----)",
            ),
            (
                {"ALGORITHM": "RS256", "SIGNING_KEY": pem(self.rsa.public_key()), "JWK_URL": JWKS},
                "%s 'RS256': it is not a PEM private key (-----BEGIN PRIVATE KEY-----)" % source,
            ),
            (
                {"ALGORITHM": "RS256", "SIGNING_KEY": 42, "JWK_URL": JWKS},
                "%s 'RS256': it is a int, not a PEM private key" % source,
            ),
            (
                {"ALGORITHM": "RS256", "SIGNING_KEY": encrypted, "JWK_URL": JWKS},
                "%s 'RS256': it is an encrypted PEM; simplejwt signs with an unencrypted one" % source,
            ),
            (
                {"ALGORITHM": "RS256", "SIGNING_KEY": pkcs8(self.p256), "JWK_URL": JWKS},
                "%s 'RS256': it is an EC P-256 key, and RS256 signs with an RSA key" % source,
            ),
            (
                {"ALGORITHM": "ES256", "SIGNING_KEY": pkcs8(self.p384), "JWK_URL": JWKS},
                "%s 'ES256': it is an EC P-384 key, and ES256 signs with an EC P-256 key" % source,
            ),
            (
                {"ALGORITHM": "RS256", "SIGNING_KEY": pkcs8(small), "JWK_URL": JWKS},
                "%s 'RS256': it is a 1024-bit RSA key; the edge takes 2048 bits or more" % source,
            ),
            (
                {"ALGORITHM": "RS256", "SIGNING_KEY": pkcs8(self.rsa),
                 "VERIFYING_KEY": pem(self.rsa_other.public_key())},
                "SIMPLE_JWT['VERIFYING_KEY'] is not the public key of SIMPLE_JWT['SIGNING_KEY']: the origin would"
                " refuse the tokens it signs, the edge would not",
            ),
            (
                {"ALGORITHM": "RS256", "SIGNING_KEY": pkcs8(self.rsa), "VERIFYING_KEY": "not a key"},
                "SIMPLE_JWT['VERIFYING_KEY'] is not served by the edge under ALGORITHM 'RS256': it is not a PEM public"
                " key (-----BEGIN PUBLIC KEY-----)",
            ),
            (
                {"ALGORITHM": "ES256", "SIGNING_KEY": pkcs8(self.rsa)},
                "SIMPLE_JWT['SIGNING_KEY'] is not served by the edge under ALGORITHM 'ES256': it is an RSA key, and"
                " ES256 signs with an EC P-256 key",
            ),
            (
                {"ALGORITHM": "RS256", "SIGNING_KEY": pkcs8(self.rsa), "JWK_URL": "https://ps.example.org"},
                "SIMPLE_JWT['JWK_URL'] = 'https://ps.example.org' is not served by the edge: at the edge it takes one"
                " path (JWKS_PATH), such as https://ps.example.org/.well-known/jwks.json",
            ),
        ]
        for simple_jwt, message in cases:
            with self.subTest(message=message[:60]), override_settings(SIMPLE_JWT=simple_jwt):
                lines = refused("--with-secrets")
                self.assertIn(message, lines)
                self.assertNotIn("PRIVATE KEY-----\n", "\n".join(lines))  # no key in a message
        with override_settings(SIMPLE_JWT={"ALGORITHM": "ES256", "SIGNING_KEY": pkcs8(self.rsa)}):
            self.assertEqual(
                refused(),
                [
                    "SIMPLE_JWT['SIGNING_KEY'] is not served by the edge under ALGORITHM 'ES256': it is an RSA key,"
                    " and ES256 signs with an EC P-256 key",
                    "SIMPLE_JWT sets ALGORITHM 'ES256' with neither VERIFYING_KEY nor JWK_URL: the origin verifies no"
                    " token, the edge would; set VERIFYING_KEY to the public key, or JWK_URL to the edge's JWKS",
                ],
            )

    def test_jwk_url_at_the_edge_sets_the_jwks_path(self):
        public = pem(self.rsa.public_key())
        with self.rs256(VERIFYING_KEY="", JWK_URL=JWKS):
            lines, err = run()
        self.assertEqual(settings_lines(lines), expected_lines("RS256", public))
        self.assertIn(
            "# SIMPLE_JWT['JWK_URL'] is the edge's JWKS: the edge serves it at JWKS_PATH /.well-known/jwks.json", lines
        )
        self.assertEqual(err, [])
        with self.rs256(JWK_URL="https://PS.example.org/auth/keys.json"):
            self.assertEqual(settings_lines(run()[0]), expected_lines("RS256", public, "/auth/keys.json"))

    def test_jwk_url_with_hashers_whose_logins_the_origin_answers_is_a_warning(self):
        hashers = [
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            "django.contrib.auth.hashers.MD5PasswordHasher",
        ]
        with self.rs256(VERIFYING_KEY="", JWK_URL=JWKS), override_settings(PASSWORD_HASHERS=hashers):
            err = run()[1]
        self.assertEqual(len(err), 1)
        self.assertTrue(err[0].startswith("warning: SIMPLE_JWT['JWK_URL'] with PASSWORD_HASHERS checking md5:"), err)
        with self.rs256(VERIFYING_KEY="", JWK_URL=JWKS), override_settings(PASSWORD_HASHERS=hashers[:1]):
            self.assertEqual(run()[1], [])

    def test_jwk_url_elsewhere_is_a_warning(self):
        with self.rs256(JWK_URL="https://keys.example.com/.well-known/jwks.json"):
            lines, err = run()
        self.assertEqual(settings_lines(lines), expected_lines("RS256", pem(self.rsa.public_key())))
        self.assertEqual(
            err,
            [
                "warning: SIMPLE_JWT['JWK_URL'] = 'https://keys.example.com/.well-known/jwks.json' is not at the edge"
                " (ORG_TOKEN_EDGE['URL'] = 'https://ps.example.org'): the origin accepts the edge's tokens only if that"
                " URL serves the edge's JWKS, which the edge serves at https://ps.example.org/.well-known/jwks.json"
            ],
        )
        with self.rs256(JWK_URL="https://keys.example.com/.well-known/jwks.json"), override_settings(
            ORG_TOKEN_EDGE={"SECRET": SYNC}
        ):
            self.assertEqual(run()[1], [])  # no edge URL to compare with; the path is the edge's
        with self.rs256(JWK_URL="https://keys.example.com/keys"), override_settings(ORG_TOKEN_EDGE={"SECRET": SYNC}):
            self.assertEqual(
                run()[1],
                [
                    "warning: SIMPLE_JWT['JWK_URL'] = 'https://keys.example.com/keys' does not end with the edge's"
                    " JWKS_PATH (/.well-known/jwks.json), and ORG_TOKEN_EDGE['URL'] is not set to compare it with: the"
                    " origin accepts the edge's tokens only if it serves the edge's JWKS"
                ],
            )

    def test_both_formats_read_back_the_keys_exactly(self):
        public = pem(self.rsa.public_key())
        with self.rs256():
            toml_lines, _ = run("--format", "toml")
            env_lines, _ = run("--with-secrets")
        toml = "\n".join(toml_lines)
        self.assertIn("VERIFYING_KEY = '''\n-----BEGIN PUBLIC KEY-----\n", toml)
        read = tomllib.loads(toml)["vars"]
        self.assertEqual(read["VERIFYING_KEY"], public)
        self.assertEqual(read["ALGORITHM"], "RS256")
        self.assertEqual(read["JWKS_PATH"], "/.well-known/jwks.json")
        self.assertEqual(list(read), [line.split("=", 1)[0] for line in expected_lines("RS256", public)])
        # .dev.vars: one line each, a PEM's newlines as backslash-n in double quotes (dotenv's rule).
        signing = next(line for line in env_lines if line.startswith("SIGNING_KEY="))
        self.assertEqual(signing, 'SIGNING_KEY="%s"' % pkcs8(self.rsa).replace("\n", "\\n"))

    def test_pem_values_in_both_formats(self):
        value = "-----BEGIN PUBLIC KEY-----\nAB+/=\n-----END PUBLIC KEY-----\n"
        self.assertEqual(
            edge_config.env_value(value), '"-----BEGIN PUBLIC KEY-----\\nAB+/=\\n-----END PUBLIC KEY-----\\n"'
        )
        self.assertEqual(edge_config.toml_value(value), "'''\n%s'''" % value)
        self.assertEqual(tomllib.loads("v = %s" % edge_config.toml_value(value))["v"], value)
        for awkward in ("a\nb'", "a'''\nb", "a\r\nb", "a\n\x01"):
            self.assertEqual(tomllib.loads("v = %s" % edge_config.toml_value(awkward))["v"], awkward)
        with self.assertRaises(ValueError):
            edge_config.env_value('a\n"b"')
        with self.assertRaises(ValueError):
            edge_config.env_value("a\n\\nb")

    def test_a_new_key_is_w003(self):
        with self.rs256():
            printed = edge_config.read().fingerprint()
        rotated = {"ALGORITHM": "RS256", "SIGNING_KEY": pkcs8(self.rsa_other), "JWK_URL": JWKS}
        with override_settings(ORG_TOKEN_EDGE=dict(EDGE, EDGE_CONFIG=printed), SIMPLE_JWT=rotated):
            found = [m for m in checks.run_checks() if m.id == "org_token_edge.W003"]
            self.assertEqual(len(found), 1)
            self.assertIn("changed since the edge was configured", found[0].msg)
        unchanged = self.rs256(VERIFYING_KEY="", JWK_URL=JWKS)  # the same key, given by JWK_URL only
        with override_settings(ORG_TOKEN_EDGE=dict(EDGE, EDGE_CONFIG=printed)), unchanged:
            self.assertEqual([m for m in checks.run_checks() if m.id == "org_token_edge.W003"], [])

    def test_without_cryptography_it_says_so(self):
        with self.rs256(), mock.patch.dict("sys.modules", {"cryptography.hazmat.primitives": None}):
            self.assertIn(
                "SIMPLE_JWT['SIGNING_KEY'] is not served by the edge under ALGORITHM 'RS256': reading it needs the"
                " cryptography package, as simplejwt (PyJWT) does to sign with it",
                refused(),
            )


class DerivedSecretTests(SimpleTestCase):
    def test_the_same_for_the_same_secret_key_and_not_the_secret_key(self):
        self.assertEqual(keys.derived_secret("a"), keys.derived_secret(b"a"))
        self.assertNotEqual(keys.derived_secret("a"), keys.derived_secret("b"))
        self.assertRegex(keys.derived_secret("a"), r"^[0-9a-f]{64}$")
