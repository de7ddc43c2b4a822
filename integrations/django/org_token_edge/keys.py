"""simplejwt's asymmetric keys as the edge takes them: the private key as a PKCS#8 PEM
(SIGNING_KEY), the public key as an SPKI PEM (VERIFYING_KEY), each of the kind its algorithm
signs with. simplejwt (PyJWT) takes a PEM as str or bytes, a PKCS#1 or SEC1 private key, a
PKCS#1 or OpenSSH public key, or a `cryptography` key object; each is converted here.
`cryptography` is imported only for an asymmetric algorithm: PyJWT needs it to sign with one,
so it is installed wherever the origin does."""
import hashlib
import hmac

# The edge's asymmetric algorithms and the kind of key each signs with.
ALGORITHMS = {
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "ES256": "EC P-256",
    "ES384": "EC P-384",
    "ES512": "EC P-521",
    "EdDSA": "Ed25519",
}
MIN_RSA_BITS = 2048  # Web Crypto at the edge (jose) refuses smaller RSA keys
CURVES = {"secp256r1": "EC P-256", "secp384r1": "EC P-384", "secp521r1": "EC P-521"}
# JWT_SECRET_KEY under an asymmetric algorithm: the edge derives opaque ids from it and signs
# nothing of simplejwt's with it; it comes from SECRET_KEY without handing SECRET_KEY over.
DERIVATION_LABEL = b"org-token-edge JWT_SECRET_KEY v1"


class BadKey(ValueError):
    """Why a key is not one the edge can take (a sentence, without the key)."""


def _crypto():
    try:
        from cryptography.hazmat.primitives import serialization
    except ImportError:
        raise BadKey("reading it needs the cryptography package, as simplejwt (PyJWT) does to sign with it")
    return serialization


def _kind(key):
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "RSA", key.key_size
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return CURVES.get(key.curve.name, "EC %s" % key.curve.name), None
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "Ed25519", None
    if isinstance(key, (ed448.Ed448PrivateKey, ed448.Ed448PublicKey)):
        return "Ed448", None  # EdDSA's other curve: workerd's Web Crypto has no Ed448
    return type(key).__name__, None


def _check_kind(key, algorithm):
    kind, bits = _kind(key)
    expected = ALGORITHMS[algorithm]
    if kind != expected:
        raise BadKey("it is an %s key, and %s signs with an %s key" % (kind, algorithm, expected))
    if kind == "RSA" and bits < MIN_RSA_BITS:
        raise BadKey("it is a %d-bit RSA key; the edge takes %d bits or more" % (bits, MIN_RSA_BITS))


def _text(value):
    """A PEM (or OpenSSH) key given as str or bytes, as bytes; a key object as it is."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, (bytes, bytearray)):
        return value
    return bytes(value).strip().replace(b"\r\n", b"\n")


def _is_key_object(value, *names):
    return any(hasattr(value, name) for name in names) and not isinstance(value, (bytes, bytearray, str))


def private_key(value, algorithm):
    """(the private key as a PKCS#8 PEM, its public key as an SPKI PEM), both str; BadKey."""
    serialization = _crypto()
    data = _text(value)
    if _is_key_object(data, "private_bytes"):
        key = data
    elif isinstance(data, bytes):
        if not data.startswith(b"-----BEGIN ") or b"PRIVATE KEY-----" not in data:
            raise BadKey("it is not a PEM private key (-----BEGIN PRIVATE KEY-----)")
        if b"ENCRYPTED" in data:  # PKCS#8 "ENCRYPTED PRIVATE KEY", or a legacy Proc-Type header
            raise BadKey("it is an encrypted PEM; simplejwt signs with an unencrypted one")
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as error:
            raise BadKey("it is not a PEM private key that can be read (%s)" % error)
    else:
        raise BadKey("it is a %s, not a PEM private key" % type(value).__name__)
    _check_kind(key, algorithm)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    return pkcs8, _spki(key.public_key())


def public_key(value, algorithm):
    """The public key as an SPKI PEM (str); BadKey."""
    serialization = _crypto()
    data = _text(value)
    if _is_key_object(data, "public_bytes") and not hasattr(data, "private_bytes"):
        key = data
    elif isinstance(data, bytes):
        if data.startswith(b"-----BEGIN ") and b"PUBLIC KEY-----" in data:
            load = serialization.load_pem_public_key
        elif data.startswith((b"ssh-", b"ecdsa-sha2-")):
            load = serialization.load_ssh_public_key
        else:
            raise BadKey("it is not a PEM public key (-----BEGIN PUBLIC KEY-----)")
        try:
            key = load(data)
        except (ValueError, TypeError, NotImplementedError) as error:
            raise BadKey("it is not a public key that can be read (%s)" % error)
    else:
        raise BadKey("it is a %s, not a PEM public key" % type(value).__name__)
    _check_kind(key, algorithm)
    return _spki(key)


def _spki(key):
    serialization = _crypto()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(
        "ascii"
    )


def derived_secret(secret_key):
    """The edge's JWT_SECRET_KEY under an asymmetric algorithm, from Django's SECRET_KEY: the same
    on every run (the edge's opaque ids stay put), and SECRET_KEY itself stays at the origin."""
    key = secret_key.encode("utf-8") if isinstance(secret_key, str) else bytes(secret_key)
    return hmac.new(key, DERIVATION_LABEL, hashlib.sha256).hexdigest()
