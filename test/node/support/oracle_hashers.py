"""Django's PBKDF2 at 1000 iterations, for the oracle test's origin: the same format the edge
checks (pbkdf2_sha256$<iterations>$<salt>$<hash>), at a fraction of the cost."""
from django.contrib.auth.hashers import PBKDF2PasswordHasher


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1000
