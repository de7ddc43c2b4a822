"""A project whose user model is keyed by a UUID (uuidpkproject.settings): org_token_edge tracks
its users only, keys them by the UUID's text (the outbox, the records sent, `--full`), sends that
text as `simplejwt_id` under USER_ID_FIELD "id", and org_token_edge_config prints
USER_ID_FIELD_TYPE=uuid. Run by sync_tests/test_uuid_pk.py in a process of its own."""
import io
import json
import uuid

from allauth.socialaccount.models import SocialAccount
from django.core import checks
from django.core.management import call_command
from django.test import TestCase, override_settings

from org_token_edge import edge_config, full, parked, records
from org_token_edge.delivery import Sender
from org_token_edge.models import OutboxEntry, RowVersion
from sync_tests.support import FakeClock, FakeEdge, FakeTransport
from uuid_users.models import Membership, OrgAccount, User

UPPER = "A3C1E0F2B4D64E8A9C7B5D3E1F2A4B6C"
CANONICAL = "a3c1e0f2-b4d6-4e8a-9c7b-5d3e1f2a4b6c"


def delivered(**script):
    """The records one delivery of what is pending sends."""
    transport = FakeTransport(**script)
    Sender(clock=FakeClock(), transport=transport).deliver()
    return transport.records()


class UuidPrimaryKeyTests(TestCase):
    def test_users_only_and_no_warning(self):
        # ORG_MODEL and MEMBERSHIP_MODEL name models that exist, and allauth's socialaccount is installed.
        self.assertEqual(records.tracked_models(), {records.USER: User})
        self.assertEqual([m.id for m in checks.run_checks() if (m.id or "").startswith("org_token_edge.")], [])

    def test_a_save_records_the_user_by_its_uuid_and_sends_it_as_simplejwt_id(self):
        user = User.objects.create_user("alice", password="pw-alice-0123")
        entry = OutboxEntry.objects.get()
        key = str(user.pk)
        self.assertEqual((entry.kind, entry.key), ("user", key))
        self.assertEqual(
            delivered(),
            [
                {
                    "kind": "user",
                    "key": key,
                    "version": entry.id,
                    "fields": {
                        "username": "alice",
                        "password": user.password,
                        "is_active": True,
                        "simplejwt_id": key,
                    },
                    "password_changed": False,
                }
            ],
        )

    def test_a_uuid_assigned_in_another_form_is_recorded_as_the_database_gives_it_back(self):
        User.objects.create(id=UPPER, username="ed")
        entry = OutboxEntry.objects.get()
        self.assertEqual(entry.key, CANONICAL)
        self.assertEqual(json.loads(entry.record)["fields"]["simplejwt_id"], CANONICAL)
        self.assertEqual(RowVersion.objects.get().key, CANONICAL)

    @override_settings(SIMPLE_JWT={"USER_ID_FIELD": "username"})
    def test_another_user_id_field_is_sent_beside_the_uuid_key(self):
        user = User.objects.create_user("bob", password="pw-bob-0123")
        (record,) = delivered()
        self.assertEqual((record["key"], record["fields"]["simplejwt_id"]), (str(user.pk), "bob"))

    def test_a_delete_records_a_deletion_keyed_by_the_uuid(self):
        user = User.objects.create_user("alice", password="pw-alice-0123")
        key = str(user.pk)
        user.delete()
        deletion = OutboxEntry.objects.order_by("id").last()
        self.assertEqual((deletion.kind, deletion.key, json.loads(deletion.record)), ("user", key, {"deleted": True}))
        self.assertEqual(delivered()[-1], {"kind": "user", "key": key, "version": deletion.id, "deleted": True})

    def test_memberships_organizations_and_social_accounts_are_not_recorded(self):
        user = User.objects.create_user("alice", password="pw-alice-0123")
        org = OrgAccount.objects.create(name="acme")
        Membership.objects.create(user=user, org=org, active=True)
        SocialAccount.objects.create(user=user, provider="github", uid="1", extra_data={"login": "alice"})
        self.assertEqual(list(OutboxEntry.objects.values_list("kind", "key")), [("user", str(user.pk))])

    def test_a_parked_entry_is_retried_by_its_uuid_key(self):
        user = User.objects.create_user("alice", password="pw-alice-0123")
        user.first_name = "Al"  # not a field the edge uses: nothing recorded
        user.save()
        user.set_password("pw-alice-4567")
        user.save()
        first, second = OutboxEntry.objects.order_by("id")
        delivered(script=[(409, '{"record":0}'), (409, '{"record":0}')])
        self.assertEqual(set(OutboxEntry.objects.values_list("status", flat=True)), {OutboxEntry.FAILED})
        ids, added = parked.retry(OutboxEntry.objects.filter(id=first.id))
        self.assertEqual((ids, added), ([first.id, second.id], 1))
        key = str(user.pk)
        self.assertEqual([(r["key"], r["version"]) for r in delivered()], [(key, first.id), (key, second.id)])

    def test_full_sends_users_only_by_their_uuid(self):
        alice = User.objects.create_user("alice", password="pw-alice-0123")
        User.objects.create_user("bob", password="pw-bob-0123", is_active=False)
        User.objects.create(id=UPPER, username="ed")
        org = OrgAccount.objects.create(name="acme")
        Membership.objects.create(user=alice, org=org, active=True)
        SocialAccount.objects.create(user=alice, provider="github", uid="1", extra_data={"login": "alice"})
        versions = dict(RowVersion.objects.values_list("key", "version"))
        edge = FakeEdge()
        summary = full.run(Sender(clock=FakeClock(), transport=edge))
        self.assertEqual(summary["counts"], {"user": 3})
        self.assertEqual(summary["refused"], [])
        self.assertEqual(edge.deliveries[-1]["full"]["counts"], {"user": 3})
        (page,) = [payload["records"] for payload in edge.deliveries if payload.get("records")]
        keys = [record["key"] for record in page]
        self.assertEqual(keys, sorted(str(user.pk) for user in User.objects.all()))  # in key order
        self.assertIn(CANONICAL, keys)
        for record in page:
            self.assertEqual(record["key"], str(uuid.UUID(record["key"])))  # a string, hyphenated, lower case
            self.assertEqual(record["version"], versions[record["key"]])
            self.assertEqual(record["fields"]["simplejwt_id"], record["key"])
        self.assertEqual(
            sorted((row["username"], row["is_active"]) for row in edge.rows.values()),
            [("alice", True), ("bob", False), ("ed", True)],
        )

    def test_the_config_command(self):
        out = io.StringIO()
        call_command("org_token_edge_config", stdout=out)
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
                "USER_ID_FIELD_TYPE=uuid",
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
            ],
        )
