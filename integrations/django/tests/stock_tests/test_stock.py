"""A stock project (stockproject.settings): org_token_edge tracks AUTH_USER_MODEL's users only,
reports no missing ps-web model, `--full` sends users only, and org_token_edge_config reads
simplejwt's mounted views. Run by sync_tests/test_stock.py in a process of its own."""
import io

from django.contrib.auth.models import User
from django.core import checks
from django.core.management import call_command
from django.test import TestCase, override_settings

from org_token_edge import edge_config, full, records
from org_token_edge.delivery import Sender
from org_token_edge.models import OutboxEntry
from sync_tests.support import FakeClock, FakeEdge


class StockProjectTests(TestCase):
    def test_users_only_and_no_w002(self):
        self.assertEqual(records.tracked_models(), {records.USER: User})
        self.assertEqual([m.id for m in checks.run_checks() if (m.id or "").startswith("org_token_edge.")], [])

    @override_settings(ORG_TOKEN_EDGE={"URL": "https://ps.example.org", "SECRET": "x" * 32, "ORG_MODEL": "users.Org"})
    def test_a_model_named_and_not_found_is_still_w002(self):
        self.assertEqual(
            [(m.id, m.msg) for m in checks.run_checks() if (m.id or "").startswith("org_token_edge.")],
            [("org_token_edge.W002", "org_token_edge: no organization model found; its changes are not recorded")],
        )

    def test_a_save_records_the_user(self):
        user = User.objects.create_user("alice", password="pw-alice-0123")
        entry = OutboxEntry.objects.get()
        self.assertEqual((entry.kind, entry.key), ("user", str(user.pk)))
        self.assertIn('"username":"alice"', entry.record)

    def test_full_sends_users_only(self):
        User.objects.create_user("alice", password="pw-alice-0123")
        User.objects.create_user("bob", password="pw-bob-0123", is_active=False)
        edge = FakeEdge()
        summary = full.run(Sender(clock=FakeClock(), transport=edge))
        self.assertEqual(summary["counts"], {"user": 2})
        self.assertEqual(edge.deliveries[-1]["full"]["counts"], {"user": 2})
        self.assertEqual(
            sorted((row["username"], row["is_active"]) for row in edge.rows.values()),
            [("alice", True), ("bob", False)],
        )

    def test_the_config_command(self):
        out = io.StringIO()
        call_command("org_token_edge_config", "--with-secrets", stdout=out)
        lines = [line for line in out.getvalue().splitlines() if not line.startswith("#")]
        self.assertEqual(
            lines,
            [
                "SIMPLE_JWT_VERSION=%s" % edge_config.installed_version(),
                "TOKEN_OBTAIN_PAIR_PATH=/api/token/",
                "TOKEN_REFRESH_PATH=/api/token/refresh/",
                "TOKEN_VERIFY_PATH=/api/token/verify/",
                "TOKEN_BLACKLIST_PATH=",
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
                "JWT_SECRET_KEY=stock-project-signing-key-that-is-long-enough-0123",
                "SYNC_SECRET=stock-sync-secret-that-is-long-enough-0123456789",
            ],
        )
