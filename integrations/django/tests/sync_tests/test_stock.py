"""A stock Django project: users only. The stock project itself (auth.User, no ps-web models:
stockproject/, stock_tests/) runs in a process of its own, started here; a custom user signing
in by email (users.EmailUser) is tested here, its email carried as the record's `username`."""
import unittest

from django.conf import settings
from django.test import TestCase, override_settings

from org_token_edge import full, records
from org_token_edge.delivery import Sender
from users.models import EmailUser, TokenUser

from .support import FakeClock, FakeEdge, project_tests

USERS_ONLY = {
    "URL": "https://ps.example.org",
    "SECRET": "test-sync-secret-that-is-long-enough-0123456789",
    "DELIVER_ON_COMMIT": False,
    "USER_MODEL": "users.EmailUser",
    "ORG_MODEL": None,
    "MEMBERSHIP_MODEL": None,
    "SOCIAL_ACCOUNT_MODEL": None,
}


@unittest.skipUnless(settings.SIMPLEJWT, "needs Debian's python3-djangorestframework-simplejwt")
class StockProjectTests(unittest.TestCase):
    def test_the_stock_projects_own_tests_pass(self):
        code, output = project_tests("stockproject.settings", "stock_tests")
        self.assertEqual(code, 0, output)
        self.assertIn("OK", output)


@override_settings(ORG_TOKEN_EDGE=USERS_ONLY)
class EmailUserTests(TestCase):
    def test_the_record_carries_username_fields_value(self):
        user = EmailUser(email="alice@example.org", is_active=True)
        user.set_password("pw-alice-0123")
        self.assertEqual(records.columns(records.USER, EmailUser)[0], ("username", "email"))
        fields = records.fields_of(records.USER, user)
        self.assertEqual(fields["username"], "alice@example.org")
        self.assertEqual(fields["is_active"], True)
        self.assertTrue(fields["password"].startswith("pbkdf2_sha256$"))

    def test_full_sends_users_only_with_their_email(self):
        EmailUser.objects.create(email="alice@example.org", password="x")
        EmailUser.objects.create(email="bob@example.org", password="y", is_active=False)
        edge = FakeEdge()
        summary = full.run(Sender(clock=FakeClock(), transport=edge))
        self.assertEqual(summary["counts"], {"user": 2})
        self.assertEqual(
            sorted((row["username"], row["is_active"]) for row in edge.rows.values()),
            [("alice@example.org", True), ("bob@example.org", False)],
        )


TOKEN_USERS = dict(USERS_ONLY, USER_MODEL="users.TokenUser", CLAIMS={"name": "first_name", "staff": "is_staff"})


@unittest.skipUnless(settings.SIMPLEJWT, "needs Debian's python3-djangorestframework-simplejwt")
@override_settings(ORG_TOKEN_EDGE=TOKEN_USERS, SIMPLE_JWT={"USER_ID_FIELD": "uuid"})
class TokenUserTests(TestCase):
    """simplejwt's USER_ID_FIELD (not the key) as `simplejwt_id`, and the claims' fields under `claims`."""

    def test_the_record_carries_the_uuid_and_the_claims_fields_in_order(self):
        user = TokenUser(username="zoe", first_name="Zoë", is_staff=True)
        fields = records.fields_of(records.USER, user)
        self.assertEqual(fields["simplejwt_id"], str(user.uuid))
        self.assertEqual(list(fields["claims"].items()), [("first_name", "Zoë"), ("is_staff", True)])

    def test_values_as_assigned_are_sent_in_the_form_the_database_gives_back(self):
        # An upper-case, unhyphenated UUID string and a string for a boolean, as a form might assign them.
        user = TokenUser(username="ed", uuid="A3C1E0F2B4D64E8A9C7B5D3E1F2A4B6C", is_staff="1")
        fields = records.fields_of(records.USER, user)
        self.assertEqual(fields["simplejwt_id"], "a3c1e0f2-b4d6-4e8a-9c7b-5d3e1f2a4b6c")
        self.assertIs(fields["claims"]["is_staff"], True)

    @override_settings(SIMPLE_JWT={}, ORG_TOKEN_EDGE=dict(USERS_ONLY, USER_MODEL="users.TokenUser"))
    def test_by_the_primary_key_and_no_claims_the_record_is_as_before(self):
        fields = records.fields_of(records.USER, TokenUser(username="bo"))
        self.assertEqual(sorted(fields), ["is_active", "password", "username"])

    def test_full_sends_them(self):
        user = TokenUser.objects.create(username="ann", first_name="Ann")
        edge = FakeEdge()
        full.run(Sender(clock=FakeClock(), transport=edge))
        (row,) = edge.rows.values()
        self.assertEqual(row["simplejwt_id"], str(user.uuid))
        self.assertEqual(row["claims"], {"first_name": "Ann", "is_staff": False})
