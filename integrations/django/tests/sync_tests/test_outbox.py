"""What the signals write to the outbox: every committed change of a field the edge uses, in
the saving transaction, and nothing for saves that change none of them."""
import json

from allauth.socialaccount.models import SocialAccount
from django.db import transaction
from django.test import TestCase, override_settings

from org_token_edge.models import OutboxEntry, RowVersion
from users.models import Membership, OrgAccount, User

QUIET = {"URL": "http://127.0.0.1:9", "SECRET": "x" * 40, "DELIVER_ON_COMMIT": False}


def entries():
    return [
        dict({"kind": entry.kind, "key": entry.key, "version": entry.id}, **json.loads(entry.record))
        for entry in OutboxEntry.objects.order_by("id")
    ]


def last():
    return entries()[-1]


@override_settings(ORG_TOKEN_EDGE=QUIET)
class OutboxTests(TestCase):
    def make_member(self):
        user = User.objects.create_user("ana", password="first-password")
        org = OrgAccount.objects.create(name="UofMDTest", owner=user)
        membership = Membership.objects.create(user=user, org=org, active=True)
        return user, org, membership

    def test_a_new_user_organization_and_membership_are_recorded_with_their_fields(self):
        user, org, membership = self.make_member()
        got = entries()
        self.assertEqual([entry["kind"] for entry in got], ["user", "organization", "membership"])
        self.assertEqual(got[0]["key"], str(user.pk))
        self.assertEqual(got[0]["fields"], {"username": "ana", "password": user.password, "is_active": True})
        self.assertIs(got[0]["password_changed"], False)
        self.assertEqual(got[1]["fields"], {"name": "UofMDTest"})
        self.assertEqual(got[2]["key"], str(membership.pk))
        self.assertEqual(got[2]["fields"], {"user": user.pk, "org": str(org.pk), "active": True})
        self.assertEqual(len({entry["version"] for entry in got}), 3)
        self.assertEqual(RowVersion.objects.get(kind="membership", key=str(membership.pk)).version, got[2]["version"])

    def test_the_entry_is_written_in_the_saving_transaction_and_rolled_back_with_it(self):
        class Abort(Exception):
            pass

        with self.assertRaises(Abort):
            with transaction.atomic():
                User.objects.create_user("rolled-back", password="whatever-password")
                self.assertEqual(OutboxEntry.objects.count(), 1)  # visible inside, same transaction
                raise Abort()
        self.assertEqual(OutboxEntry.objects.count(), 0)
        self.assertEqual(RowVersion.objects.count(), 0)

    def test_each_change_of_a_field_the_edge_uses_is_one_entry(self):
        user, org, membership = self.make_member()
        start = OutboxEntry.objects.count()
        membership.active = False
        membership.save()
        self.assertEqual(last()["fields"]["active"], False)
        user.username = "ana2"
        user.save()
        self.assertEqual(last()["fields"]["username"], "ana2")
        self.assertIs(last()["password_changed"], False)
        user.is_active = False
        user.save()
        self.assertEqual(last()["fields"]["is_active"], False)
        org.name = "Renamed"
        org.save()
        self.assertEqual(last(), dict(last(), kind="organization", fields={"name": "Renamed"}))
        self.assertEqual(OutboxEntry.objects.count(), start + 4)

    def test_a_new_password_hash_is_a_password_change(self):
        user, _, _ = self.make_member()
        user.set_password("second-password")
        user.save()
        self.assertEqual(last()["fields"]["password"], user.password)
        self.assertIs(last()["password_changed"], True)
        user.set_unusable_password()
        user.save()
        self.assertIs(last()["password_changed"], True)
        self.assertTrue(last()["fields"]["password"].startswith("!"))

    def test_saves_that_change_no_field_the_edge_uses_record_nothing(self):
        user, org, membership = self.make_member()
        start = OutboxEntry.objects.count()
        user.save()
        user.first_name = "Ana"
        user.email = "ana@example.com"
        user.save()
        User.objects.get(pk=user.pk).save()
        org.balance = 12
        org.save()
        membership.delete_requested = True
        membership.save()
        self.assertEqual(OutboxEntry.objects.count(), start)

    def test_a_row_that_predates_the_app_is_compared_with_the_database(self):
        user, _, _ = self.make_member()
        RowVersion.objects.all().delete()
        OutboxEntry.objects.all().delete()
        user = User.objects.get(pk=user.pk)
        user.last_name = "Only"
        user.save()
        self.assertEqual(OutboxEntry.objects.count(), 0)
        user.set_password("a-new-one-please")
        user.save()
        self.assertIs(last()["password_changed"], True)

    def test_deletes_are_recorded(self):
        user, org, membership = self.make_member()
        key = str(membership.pk)
        membership.delete()
        self.assertEqual(last(), {"kind": "membership", "key": key, "version": last()["version"], "deleted": True})
        other = OrgAccount.objects.create(name="Second")
        key = str(other.pk)
        other.delete()
        self.assertEqual((last()["kind"], last()["key"], last().get("deleted")), ("organization", key, True))

    def test_set_null_on_deleting_a_user_is_recorded_as_the_membership_without_its_user(self):
        user, org, membership = self.make_member()
        keeper = User.objects.create_user("owner", password="owner-password")
        org.owner = keeper
        org.save()
        before = OutboxEntry.objects.count()
        user.delete()
        self.assertIsNone(Membership.objects.get(pk=membership.pk).user_id)  # Django's UPDATE, no signal
        got = entries()[before:]
        self.assertEqual(
            [(entry["kind"], entry.get("fields"), entry.get("deleted")) for entry in got],
            [("membership", {"user": None, "org": str(org.pk), "active": True}, None), ("user", None, True)],
        )

    def test_set_null_on_deleting_an_organization_and_the_owners_cascade(self):
        user, org, membership = self.make_member()
        org.delete()
        self.assertEqual(last()["kind"], "organization")
        nulled = [entry for entry in entries() if entry["kind"] == "membership"][-1]
        self.assertEqual(nulled["fields"], {"user": user.pk, "org": None, "active": True})
        # The owner's delete cascades to the orgs they own (signals fire for each).
        org2 = OrgAccount.objects.create(name="Owned", owner=user)
        Membership.objects.create(user=user, org=org2, active=True)
        user.delete()
        kinds = [(entry["kind"], entry.get("deleted", False)) for entry in entries()[-4:]]
        self.assertIn(("organization", True), kinds)
        self.assertIn(("user", True), kinds)

    def test_queryset_delete_records_each_row(self):
        user, org, _ = self.make_member()
        Membership.objects.create(user=user, org=org)
        before = OutboxEntry.objects.count()
        Membership.objects.filter(org=org).delete()
        self.assertEqual(OutboxEntry.objects.count(), before + 2)

    def test_social_accounts_carry_user_provider_uid_and_login(self):
        user, _, _ = self.make_member()
        account = SocialAccount.objects.create(
            user=user, provider="github", uid="583231", extra_data={"login": "octocat", "id": 583231}
        )
        self.assertEqual(last()["fields"], {"user": user.pk, "provider": "github", "uid": "583231", "login": "octocat"})
        account.extra_data = {"login": "octocat", "id": 583231, "bio": "changed"}
        account.save()
        self.assertEqual(last()["kind"], "social_account")  # unchanged: nothing new
        self.assertEqual(OutboxEntry.objects.filter(kind="social_account").count(), 1)
        account.extra_data = {"login": "renamed"}
        account.save()
        self.assertEqual(last()["fields"]["login"], "renamed")
        key = str(account.pk)
        user.delete()  # CASCADE: the account's own delete signal
        self.assertIn(("social_account", key, True), [(e["kind"], e["key"], e.get("deleted")) for e in entries()])
