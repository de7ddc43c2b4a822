"""The admin page for parked entries (org_token_edge/admin.py), through Django's test client
as a logged-in superuser: the list of parked entries (kind, key, version, when, the edge's
answer or the origin's reason), retry (back to pending, delivered in version order; a retried
entry the row has outgrown is stale at the edge, so harmless) and discard (deleted; --full
repairs the row)."""
import json
from urllib.parse import urlencode

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import TestCase, override_settings

from org_token_edge import full
from org_token_edge.delivery import Sender
from org_token_edge.models import OutboxEntry
from users.models import Membership, OrgAccount, User

from .support import FakeClock, FakeEdge, FakeTransport

SETTINGS = {
    "URL": "https://edge.example",
    "SECRET": "admin-test-secret-that-is-long-enough-0123",
    "DELIVER_ON_COMMIT": False,
}
CHANGELIST = "/admin/org_token_edge/outboxentry/"
REFUSED = '{"detail":"membership names a user the edge does not have","record":0}'


@override_settings(ORG_TOKEN_EDGE=SETTINGS, PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class ParkedEntriesAdminTests(TestCase):
    def setUp(self):
        self.clock = FakeClock()
        self.edge = FakeEdge()
        self.admin = User.objects.create_superuser("admin", "admin@example.com", "admin-password")
        self.deliver()  # the superuser's own entry
        self.assertTrue(self.client.login(username="admin", password="admin-password"))

    def deliver(self, transport=None):
        return Sender(clock=self.clock, transport=transport or self.edge).deliver(respect_backoff=False)

    def park_next(self, answer=REFUSED):
        """Delivers what is pending with the edge refusing the first record (it is parked)."""
        self.deliver(FakeTransport(script=[(400, answer)]))
        return OutboxEntry.objects.filter(status=OutboxEntry.FAILED).order_by("-id").first()

    def act(self, action, *entries):
        return self.client.post(
            CHANGELIST, {"action": action, "_selected_action": [entry.id for entry in entries]}, follow=True
        )

    def messages(self, response):
        return [str(message) for message in response.context["messages"]]

    def test_a_superuser_sees_the_parked_entries_with_kind_key_version_when_and_the_answer(self):
        alice = User.objects.create_user("alice", password=None)
        parked = self.park_next()
        org = OrgAccount.objects.create(name="Org With A Very Distinct Name")  # delivered: not listed
        self.deliver()
        User.objects.create_user("bob", password=None)  # pending: not listed (that is --status's backlog)
        response = self.client.get(CHANGELIST)
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        self.assertIn("<h1>Parked outbox entries", page)
        self.assertIn("1 outbox entry", page)
        self.assertIn('%s%d/change/">%d</a></th>' % (CHANGELIST, parked.id, parked.id), page)  # the version
        self.assertIn('<td class="field-kind">user</td>', page)
        self.assertIn('<td class="field-key">%s</td>' % alice.pk, page)
        self.assertIn('<td class="field-created_at nowrap">', page)  # when it was recorded
        self.assertIn("membership names a user the edge does not have", page)  # the edge's answer
        self.assertNotIn(str(org.pk), page)
        self.assertEqual(page.count('class="field-key"'), 1)  # not bob's pending entry
        # Filters: kind, superseded by a later change, when.
        since = urlencode({"created_at__gte": "2000-01-01 00:00:00+00:00"})
        for query in ("kind__exact=user", "superseded=no", since):
            self.assertContains(self.client.get(CHANGELIST + "?" + query), "1 outbox entry")
        self.assertContains(self.client.get(CHANGELIST + "?kind__exact=organization"), "0 outbox entries")
        self.assertContains(self.client.get(CHANGELIST + "?superseded=yes"), "0 outbox entries")
        # Its page shows the record, read-only: nothing to add, nothing to save.
        detail = self.client.get("%s%d/change/" % (CHANGELIST, parked.id))
        self.assertContains(detail, "password_changed")
        self.assertNotContains(detail, 'name="_save"')
        self.assertEqual(self.client.get(CHANGELIST + "add/").status_code, 403)
        self.assertEqual(self.client.post("%s%d/change/" % (CHANGELIST, parked.id), {"kind": "x"}).status_code, 403)
        self.assertEqual(OutboxEntry.objects.get(id=parked.id).kind, "user")
        actions = [value for value, _ in response.context["action_form"].fields["action"].choices]
        self.assertEqual(actions, ["", "retry", "discard"])

    def test_an_entry_the_origin_cannot_encode_shows_its_reason(self):
        user = User.objects.create_user("carol", password=None)
        entry = OutboxEntry.objects.get(kind="user", key=str(user.pk))
        record = json.loads(entry.record)
        record["fields"]["username"] = "x\0y"
        OutboxEntry.objects.filter(id=entry.id).update(record=json.dumps(record))
        self.deliver()
        self.assertContains(
            self.client.get(CHANGELIST), "not sent: the origin cannot encode it: fields.username holds a NUL"
        )

    def test_retry_puts_it_back_to_pending_and_it_is_delivered_before_the_later_entries(self):
        alice = User.objects.create_user("alice", password=None)
        org = OrgAccount.objects.create(name="uofm")
        self.deliver()
        membership = Membership.objects.create(user=alice, org=org, active=True)
        parked = self.park_next()
        membership.active = False
        membership.save()  # a later change of the same row, still pending
        later = OutboxEntry.objects.get(status=OutboxEntry.PENDING)
        response = self.act("retry", parked)
        self.assertIn(
            "1 parked entry put back to pending; the sender delivers it in version order.", self.messages(response)
        )
        entry = OutboxEntry.objects.get(id=parked.id)
        self.assertEqual((entry.status, entry.error), (OutboxEntry.PENDING, ""))
        logged = LogEntry.objects.get(object_id=str(parked.id))
        self.assertEqual(logged.get_change_message(), "Retried: back to pending")
        self.assertEqual(self.deliver(), "done")
        self.assertEqual([r["version"] for r in self.edge.deliveries[-1]["records"]], [parked.id, later.id])
        self.assertEqual(self.edge.rows[("membership", str(membership.pk))]["active"], False)
        self.assertEqual(self.edge.versions[("membership", str(membership.pk))], later.id)
        self.assertFalse(OutboxEntry.objects.exists())

    def test_a_retried_entry_that_a_later_delivered_change_outgrew_is_stale_at_the_edge(self):
        alice = User.objects.create_user("alice", password=None)
        parked = self.park_next()
        alice.username = "alice2"
        alice.save()
        self.deliver()  # the later change reaches the edge first
        self.assertContains(self.client.get(CHANGELIST + "?superseded=yes"), "1 outbox entry")
        self.act("retry", parked)
        self.assertEqual(self.deliver(), "done")
        self.assertEqual(self.edge.deliveries[-1]["records"][0]["version"], parked.id)
        # The edge kept the later version: the retried one changed nothing.
        self.assertEqual(self.edge.rows[("user", str(alice.pk))]["username"], "alice2")
        self.assertGreater(self.edge.versions[("user", str(alice.pk))], parked.id)

    def test_retrying_an_entry_takes_the_later_parked_entries_of_its_row_with_it(self):
        alice = User.objects.create_user("alice", password=None)
        first = self.park_next()
        alice.username = "alice2"
        alice.save()
        second = self.park_next()
        bob = User.objects.create_user("bob", password=None)
        other = self.park_next()
        response = self.act("retry", first)
        self.assertIn(
            "2 parked entries put back to pending (1 of them a later parked change of the same row);"
            " the sender delivers them in version order.",
            self.messages(response),
        )
        pending = OutboxEntry.objects.filter(status=OutboxEntry.PENDING)
        self.assertEqual(set(pending.values_list("id", flat=True)), {first.id, second.id})
        self.assertEqual(OutboxEntry.objects.get(id=other.id).status, OutboxEntry.FAILED)
        self.deliver()
        self.assertEqual([r["version"] for r in self.edge.deliveries[-1]["records"]], [first.id, second.id])
        self.assertEqual(self.edge.rows[("user", str(alice.pk))]["username"], "alice2")
        self.assertNotIn(("user", str(bob.pk)), self.edge.rows)

    def test_discard_deletes_it_and_the_next_full_run_repairs_the_row(self):
        alice = User.objects.create_user("alice", password=None)
        parked = self.park_next()
        response = self.act("discard", parked)
        self.assertIn(
            "1 parked entry discarded; the next `manage.py org_token_edge_sync --full` repairs its row at the edge.",
            self.messages(response),
        )
        self.assertFalse(OutboxEntry.objects.filter(id=parked.id).exists())
        self.assertTrue(LogEntry.objects.filter(object_id=str(parked.id)).exists())
        self.assertNotIn(("user", str(alice.pk)), self.edge.rows)
        full.run(Sender(clock=self.clock, transport=self.edge))
        self.assertEqual(self.edge.rows[("user", str(alice.pk))]["username"], "alice")
        self.assertEqual(self.edge.versions[("user", str(alice.pk))], parked.id)

    def test_a_staff_user_without_the_change_and_delete_permissions_can_do_neither(self):
        User.objects.create_user("alice", password=None)
        parked = self.park_next()
        staff = User.objects.create_user("staff", password="staff-password", is_staff=True)
        staff.user_permissions.set(Permission.objects.filter(codename="view_outboxentry"))
        self.deliver()
        self.client.logout()
        self.assertTrue(self.client.login(username="staff", password="staff-password"))
        response = self.client.get(CHANGELIST)
        self.assertContains(response, '<td class="field-key">%s</td>' % parked.key)
        self.assertIsNone(response.context["action_form"])
        self.act("retry", parked)
        self.act("discard", parked)
        self.assertEqual(OutboxEntry.objects.get(id=parked.id).status, OutboxEntry.FAILED)
