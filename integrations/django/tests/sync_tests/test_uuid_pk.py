"""A user model keyed by a UUID: the UUID-keyed project (uuidpkproject/, a custom user whose `id`
is a UUIDField primary key, and uuidpk_tests/) runs in a process of its own, started here."""
import unittest

from django.conf import settings

from .support import project_tests


@unittest.skipUnless(settings.SIMPLEJWT, "needs Debian's python3-djangorestframework-simplejwt")
class UuidPrimaryKeyProjectTests(unittest.TestCase):
    def test_the_uuid_pk_projects_own_tests_pass(self):
        code, output = project_tests("uuidpkproject.settings", "uuidpk_tests")
        self.assertEqual(code, 0, output)
        self.assertIn("OK", output)
