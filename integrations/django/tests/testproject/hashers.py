from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """pbkdf2_sha256 with few iterations: the end-to-end test's logins at the edge stay quick."""

    iterations = 1000
