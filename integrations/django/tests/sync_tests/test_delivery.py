"""Delivery: the signature, batches in version order, retries with backoff on a fake clock,
400/409 parked, entries the origin cannot encode parked unsent, one sender at a time, a clear
refusal of a weak secret, --full (with changes committed while it runs), --status."""
import base64
import hashlib
import hmac
import io
import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

from allauth.socialaccount.models import SocialAccount
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import TestCase, TransactionTestCase, override_settings

from org_token_edge import delivery, full
from org_token_edge.conf import secret_key
from org_token_edge.delivery import Sender, sign
from org_token_edge.models import OutboxEntry, RowVersion, SyncState
from users.models import Membership, OrgAccount, User

from .support import FakeClock, FakeEdge, FakeTransport

SECRET = "delivery-test-secret-that-is-long-enough-42"
SETTINGS = {"URL": "https://edge.example", "SECRET": SECRET, "DELIVER_ON_COMMIT": False}


def verify(request, secret=SECRET):
    headers = request["headers"]
    message = ("%s.%s." % (headers["webhook-id"], headers["webhook-timestamp"])).encode() + request["body"]
    expected = base64.b64encode(hmac.new(secret_key(secret), message, hashlib.sha256).digest()).decode()
    return headers["webhook-signature"] == "v1," + expected


class SignatureTests(TestCase):
    def test_the_standard_webhooks_reference_vector(self):
        key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        self.assertEqual(
            sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        )

    def test_a_plain_secret_is_its_utf8_bytes(self):
        self.assertEqual(secret_key("é" * 16), ("é" * 16).encode("utf-8"))


@override_settings(ORG_TOKEN_EDGE=SETTINGS)
class DeliveryTests(TestCase):
    def setUp(self):
        self.clock = FakeClock()
        self.transport = FakeTransport()
        self.sender = Sender(clock=self.clock, transport=self.transport)

    def make_users(self, n):
        return [User.objects.create_user("user%03d" % i, password=None) for i in range(n)]

    def test_pending_entries_go_in_version_order_in_signed_batches_of_at_most_100(self):
        self.make_users(250)
        self.assertEqual(self.sender.deliver(), "done")
        self.assertEqual([len(request["json"]["records"]) for request in self.transport.requests], [100, 100, 50])
        versions = [record["version"] for request in self.transport.requests for record in request["json"]["records"]]
        self.assertEqual(versions, sorted(versions))
        self.assertEqual(len(set(versions)), 250)
        request = self.transport.requests[0]
        self.assertEqual(request["url"], "https://edge.example/api/org_token/sync/")
        self.assertTrue(all(verify(r) for r in self.transport.requests))
        self.assertFalse(verify(request, "another-secret-that-is-long-enough-000"))
        self.assertEqual(request["headers"]["webhook-timestamp"], str(int(self.clock.now().timestamp())))
        self.assertEqual(request["json"]["records"][0]["kind"], "user")
        self.assertIsInstance(request["json"]["records"][0]["key"], int)
        self.assertEqual(OutboxEntry.objects.count(), 0)
        self.assertEqual(self.sender.state().last_success_at, self.clock.now())

    def test_a_failure_backs_off_from_1_s_doubling_to_5_min_and_retries_the_same_delivery(self):
        self.make_users(3)
        self.transport.script = [(None, "connection refused")] * 12 + [(503, "{}")]
        delays = []
        self.assertEqual(self.sender.deliver(), "failed")
        for _ in range(12):
            state = self.sender.state()
            delays.append((state.next_attempt_at - self.clock.now()).total_seconds())
            self.assertEqual(self.sender.deliver(), "waiting")  # not before its time
            self.clock.advance(delays[-1])
            self.sender.deliver()
        self.assertEqual(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300])
        self.clock.advance(300)
        self.assertEqual(self.sender.deliver(), "done")
        self.assertEqual(self.sender.state().failures, 0)  # the 14th attempt succeeded
        ids = {request["headers"]["webhook-id"] for request in self.transport.requests}
        bodies = {request["body"] for request in self.transport.requests}
        self.assertEqual((len(ids), len(bodies), len(self.transport.requests)), (1, 1, 14))
        self.assertEqual(OutboxEntry.objects.count(), 0)

    def test_a_new_change_probes_once_a_second_during_a_backoff(self):
        self.make_users(1)
        self.transport.script = [(None, "down")] * 5
        for _ in range(5):
            self.clock.current = self.sender.state().next_attempt_at or self.clock.current
            self.assertEqual(self.sender.deliver(), "failed")
        self.assertEqual(self.sender.state().failures, 5)
        self.clock.advance(1)  # 15 s of its 16 s backoff left
        self.assertEqual(self.sender.deliver(), "waiting")
        self.assertEqual(self.sender.deliver(probe=True), "done")
        self.clock.advance(0.5)
        User.objects.create_user("late", password=None)
        self.transport.script = [(None, "down again")] * 3
        self.assertEqual(self.sender.deliver(probe=True), "failed")  # starts the schedule: 1 s
        self.assertEqual(self.sender.state().failures, 1)
        self.clock.advance(1)
        self.assertEqual(self.sender.deliver(), "failed")  # the scheduled retry: then 2 s
        scheduled = self.sender.state().next_attempt_at
        self.clock.advance(1)
        self.assertEqual(self.sender.deliver(probe=True), "failed")  # a probe between: schedule unchanged
        self.assertEqual((self.sender.state().failures, self.sender.state().next_attempt_at), (2, scheduled))
        self.clock.advance(0.5)
        self.assertEqual(self.sender.deliver(probe=True), "waiting")  # probed under a second ago

    def test_a_400_or_409_naming_a_record_parks_that_entry_and_the_rest_are_delivered_at_once(self):
        for status in (400, 409):
            with self.subTest(status=status):
                self.transport.requests.clear()
                bad = User.objects.create_user("bad%d" % status, password=None)
                other = User.objects.create_user("other%d" % status, password="first-password")
                other.set_password("a-new-password")
                other.save()  # another user's password change, in the same batch after the refused one
                bad_entry = OutboxEntry.objects.get(key=str(bad.pk))
                self.transport.script = [(status, '{"detail":"username refused","record":0}')]
                self.assertEqual(self.sender.deliver(), "done")  # no backoff, no second call
                self.assertEqual(len(self.transport.requests), 2)
                first, rest = self.transport.records(0), self.transport.records(1)
                self.assertEqual(first[0]["version"], bad_entry.id)
                self.assertEqual([r["version"] for r in rest], [r["version"] for r in first[1:]])
                self.assertEqual(rest[-1], dict(rest[-1], key=other.pk, password_changed=True))
                ids = [request["headers"]["webhook-id"] for request in self.transport.requests]
                self.assertNotEqual(ids[0], ids[1])
                parked = OutboxEntry.objects.get()
                self.assertEqual((parked.id, parked.status), (bad_entry.id, OutboxEntry.FAILED))
                self.assertIn("username", parked.error)
                state = self.sender.state()
                self.assertEqual((state.failures, state.next_attempt_at, self.clock.slept), (0, None, []))
                parked.delete()

    def test_an_entry_the_origin_cannot_encode_is_parked_with_its_reason_and_the_entries_after_it_go(self):
        ana, bob = self.make_users(2)
        self.sender.deliver()
        # A lone surrogate in allauth's extra_data (its JSON text keeps it as \ud800), a NUL
        # in a username (SQLite keeps it): the origin saves both, the edge can take neither.
        account = SocialAccount.objects.create(
            user=ana, provider="github", uid="7", extra_data={"login": "oct\ud800cat"}
        )
        nul = User.objects.create_user("nul\x00name", password=None)
        bob.set_password("a-new-password")
        bob.save()
        self.assertEqual(self.sender.deliver(), "done")
        self.assertEqual([(r["key"], r["password_changed"]) for r in self.transport.records()], [(bob.pk, True)])
        self.assertFalse(OutboxEntry.objects.filter(status=OutboxEntry.PENDING).exists())
        failed = OutboxEntry.objects.filter(status=OutboxEntry.FAILED)
        parked = {(entry.kind, entry.key): entry.error for entry in failed}
        reason = "not sent: the origin cannot encode it: "
        self.assertEqual(
            parked,
            {
                ("social_account", str(account.pk)): reason + "fields.login holds a lone surrogate",
                ("user", str(nul.pk)): reason + "fields.username holds a NUL character",
            },
        )
        sent = len(self.transport.requests)
        self.clock.advance(3600)
        self.assertEqual(self.sender.deliver(), "done")  # never retried
        self.assertEqual(len(self.transport.requests), sent)
        out = io.StringIO()
        call_command("org_token_edge_sync", "--status", "--json", stdout=out)
        report = json.loads(out.getvalue())
        self.assertEqual((report["pending"], report["failed"]), (0, 2))
        self.assertEqual({entry["answer"] for entry in report["recent_failed"]}, set(parked.values()))

    def test_a_400_or_409_without_a_record_parks_the_whole_batch(self):
        self.make_users(2)
        self.transport.script = [(409, '{"detail":"no"}')]
        self.assertEqual(self.sender.deliver(), "done")
        self.assertEqual(OutboxEntry.objects.filter(status=OutboxEntry.FAILED).count(), 2)
        self.make_users(0)
        User.objects.create_user("after", password=None)
        self.sender.deliver()
        self.assertEqual(self.transport.records()[0]["fields"]["username"], "after")

    def test_one_sender_at_a_time_and_a_crashed_senders_lease_expires(self):
        self.make_users(1)
        crashed = Sender(clock=self.clock, transport=self.transport, owner="crashed")
        self.assertTrue(crashed.acquire())  # and then it died
        self.assertEqual(self.sender.deliver(), "busy")
        self.assertEqual(self.transport.requests, [])
        self.clock.advance(61)
        self.assertEqual(self.sender.deliver(), "done")
        self.assertEqual(len(self.transport.requests), 1)

    def test_an_unchanged_retry_after_an_answer_was_lost_has_the_same_id_and_other_entries_another(self):
        self.make_users(2)
        self.transport.script = [(None, "timeout")]
        self.sender.deliver()
        User.objects.create_user("third", password=None)
        self.clock.advance(1)
        self.sender.deliver()
        first, second = self.transport.requests
        self.assertNotEqual(first["headers"]["webhook-id"], second["headers"]["webhook-id"])
        self.assertEqual(len(second["json"]["records"]), 3)

    def test_a_weak_or_missing_secret_refuses_to_deliver_with_a_clear_error_and_keeps_the_entries(self):
        self.make_users(1)
        weak = ({"URL": "https://edge.example", "SECRET": "short"}, {"URL": "https://edge.example"}, {"SECRET": SECRET})
        for options in weak:
            with override_settings(ORG_TOKEN_EDGE=dict(options, DELIVER_ON_COMMIT=False)):
                with self.assertRaisesRegex(ImproperlyConfigured, r"ORG_TOKEN_EDGE\['(SECRET|URL)'\]"):
                    self.sender.deliver()
        self.assertEqual(self.transport.requests, [])
        self.assertEqual(OutboxEntry.objects.count(), 1)


@override_settings(ORG_TOKEN_EDGE=SETTINGS)
class FullTests(TestCase):
    def test_a_full_run_sends_begin_pages_and_end_with_each_rows_last_version(self):
        users = [User.objects.create_user("u%03d" % i, password=None) for i in range(150)]
        org = OrgAccount.objects.create(name="Org", owner=users[0])
        members = [
            Membership.objects.create(user=user, org=org, active=i % 2 == 0) for i, user in enumerate(users[:60])
        ]
        Membership.objects.filter(pk=members[0].pk).update(user=None)  # gone at the edge: not sent
        RowVersion.objects.filter(kind="user", key=str(users[5].pk)).delete()  # predates the app: version 0

        def answer(body):
            if body.get("full", {}).get("phase") == "end":
                return json.dumps({"applied": 1, "stale": 0, "duplicate": False, "removed": {"user": 2}})
            return json.dumps({"applied": 1})

        transport = FakeTransport(default=(200, answer))
        summary = full.run(Sender(clock=FakeClock(), transport=transport))
        phases = [request["json"]["full"]["phase"] for request in transport.requests]
        self.assertEqual(phases[0], "begin")
        self.assertEqual(phases[-1], "end")
        self.assertEqual(set(phases[1:-1]), {"page"})
        self.assertEqual(len({request["json"]["full"]["run"] for request in transport.requests}), 1)
        records = [record for request in transport.requests[1:-1] for record in request["json"]["records"]]
        self.assertTrue(all(len(request["json"]["records"]) <= 100 for request in transport.requests[1:-1]))
        self.assertEqual([r["kind"] for r in records], ["user"] * 150 + ["organization"] + ["membership"] * 59)
        by_key = {(r["kind"], str(r["key"])): r for r in records}
        self.assertEqual(by_key[("user", str(users[5].pk))]["version"], 0)
        kept = RowVersion.objects.get(kind="user", key=str(users[6].pk)).version
        self.assertEqual(by_key[("user", str(users[6].pk))]["version"], kept)
        self.assertNotIn(("membership", str(members[0].pk)), by_key)
        member = by_key[("membership", str(members[1].pk))]
        self.assertEqual(member["fields"], {"user": users[1].pk, "org": str(org.pk), "active": False})
        counts = transport.requests[-1]["json"]["full"]["counts"]
        self.assertEqual(counts, {"user": 150, "organization": 1, "membership": 59, "social_account": 0})
        self.assertEqual(summary["removed"], {"user": 2})
        self.assertTrue(all(verify(request) for request in transport.requests))

    def test_a_record_the_edge_refuses_is_left_out_of_its_page_and_the_counts(self):
        users = [User.objects.create_user("r%d" % i, password=None) for i in range(3)]
        transport = FakeTransport(script=[(200, "{}"), (400, '{"detail":"bad username","record":1}')])
        summary = full.run(Sender(clock=FakeClock(), transport=transport))
        first, mended = transport.requests[1], transport.requests[2]
        self.assertEqual(first["headers"]["webhook-id"], mended["headers"]["webhook-id"])
        self.assertEqual([r["key"] for r in mended["json"]["records"]], [users[0].pk, users[2].pk])
        self.assertEqual(transport.requests[-1]["json"]["full"]["counts"]["user"], 2)
        self.assertEqual([(r["kind"], r["key"]) for r in summary["refused"]], [("user", users[1].pk)])

    def test_a_409_naming_a_record_leaves_it_out_like_a_400(self):
        users = [User.objects.create_user("c%d" % i, password=None) for i in range(3)]
        refusal = '{"detail":"username taken twice in this delivery","record":2}'
        transport = FakeTransport(script=[(200, "{}"), (409, refusal)])
        summary = full.run(Sender(clock=FakeClock(), transport=transport))
        first, mended = transport.requests[1], transport.requests[2]
        self.assertEqual(first["headers"]["webhook-id"], mended["headers"]["webhook-id"])
        self.assertEqual([r["key"] for r in mended["json"]["records"]], [users[0].pk, users[1].pk])
        self.assertEqual(transport.requests[-1]["json"]["full"]["counts"]["user"], 2)
        self.assertEqual([(r["kind"], r["key"]) for r in summary["refused"]], [("user", users[2].pk)])
        self.assertIn("username taken twice", summary["refused"][0]["answer"])

    def test_a_row_the_origin_cannot_encode_is_left_out_and_listed_as_refused(self):
        ana = User.objects.create_user("ana", password=None)
        nul = User.objects.create_user("nul\x00name", password=None)
        account = SocialAccount.objects.create(
            user=ana, provider="github", uid="7", extra_data={"login": "oct\ud800cat"}
        )
        transport = FakeTransport()
        out, err = io.StringIO(), io.StringIO()
        with mock.patch("org_token_edge.delivery.UrllibTransport", lambda: transport):
            call_command("org_token_edge_sync", "--full", stdout=out, stderr=err)
        sent = [(r["kind"], r["key"]) for request in transport.requests for r in request["json"].get("records", [])]
        self.assertEqual(sent, [("user", ana.pk)])
        counts = transport.requests[-1]["json"]["full"]["counts"]
        self.assertEqual(counts, {"user": 1, "organization": 0, "membership": 0, "social_account": 0})
        reason = "not sent: the origin cannot encode it: "
        self.assertIn("user %d: %sfields.username holds a NUL character" % (nul.pk, reason), err.getvalue())
        self.assertIn("social_account %d: %sfields.login holds a lone surrogate" % (account.pk, reason), err.getvalue())
        self.assertIn("full reconciliation", out.getvalue())

    @override_settings(ORG_TOKEN_EDGE=dict(SETTINGS, SOCIAL_ACCOUNT_MODEL=None))
    def test_the_counts_name_only_the_kinds_this_origin_carries(self):
        transport = FakeTransport()
        full.run(Sender(clock=FakeClock(), transport=transport))
        self.assertEqual(set(transport.requests[-1]["json"]["full"]["counts"]), {"user", "organization", "membership"})

    def test_entries_parked_as_failed_are_cleared_by_the_run_that_repaired_them(self):
        User.objects.create_user("parked", password=None)
        User.objects.create_user("pending", password=None)
        first = OutboxEntry.objects.order_by("id").first()
        OutboxEntry.objects.filter(id=first.id).update(status=OutboxEntry.FAILED, error="400")
        summary = full.run(Sender(clock=FakeClock(), transport=FakeTransport()))
        self.assertEqual(summary["cleared_failed"], 1)
        self.assertEqual(list(OutboxEntry.objects.values_list("status", flat=True)), [OutboxEntry.PENDING])

    def test_a_page_that_fails_is_retried_under_its_id_and_a_409_ends_the_run(self):
        User.objects.create_user("solo", password=None)
        clock = FakeClock()
        transport = FakeTransport(script=[(200, "{}"), (503, "{}"), (None, "down")])
        full.run(Sender(clock=clock, transport=transport))
        self.assertEqual(clock.slept, [1, 2])
        self.assertEqual(len({r["headers"]["webhook-id"] for r in transport.requests[1:4]}), 1)
        with self.assertRaisesRegex(full.FullRunError, "409"):
            refusal = FakeTransport(script=[(200, "{}"), (409, '{"detail":"not the open run"}')])
            full.run(Sender(clock=clock, transport=refusal))


@contextmanager
def snapshot_like_postgresql():
    """The test backend's transactions begin IMMEDIATE (the write lock: no other connection
    commits while --full runs). A deferred BEGIN instead: in WAL mode a transaction's reads
    keep the snapshot of its first read while other connections commit, as REPEATABLE READ
    does on ps-web's PostgreSQL."""
    deferred = lambda: connection.cursor().execute("BEGIN")  # noqa: E731
    with mock.patch.object(connection, "_start_transaction_under_autocommit", deferred):
        yield


@override_settings(ORG_TOKEN_EDGE=SETTINGS)
class FullWhileChangesCommitTests(TransactionTestCase):
    def test_a_row_created_and_delivered_at_any_step_of_a_run_survives_its_end(self):
        clock = FakeClock()
        edge = FakeEdge()
        User.objects.create_user("before", password=None)
        Sender(clock=clock, transport=edge).deliver()
        made = []

        def meanwhile(payload):
            """Before the edge takes each delivery of the run: another process commits a new
            user and delivers it (its change delivery gets here too, and passes)."""
            phase = (payload.get("full") or {}).get("phase")
            if phase is None:
                return

            def other_process():
                try:
                    made.append((phase, User.objects.create_user("made-at-%s" % phase, password=None).pk))
                    Sender(clock=clock, transport=edge, owner="other").deliver()
                finally:
                    connection.close()

            thread = threading.Thread(target=other_process)
            thread.start()
            thread.join()

        edge.before = meanwhile
        with snapshot_like_postgresql():
            summary = full.run(Sender(clock=clock, transport=edge))
        self.assertEqual([phase for phase, _ in made], ["begin", "page", "end"])
        self.assertEqual(summary["removed"], {})
        self.assertEqual(edge.keys("user"), {str(pk) for pk in User.objects.values_list("pk", flat=True)})
        self.assertEqual(len(edge.keys("user")), 4)


@override_settings(ORG_TOKEN_EDGE=SETTINGS)
class StatusTests(TestCase):
    def test_status_shows_the_backlog_its_oldest_age_failures_and_the_last_delivery(self):
        clock = FakeClock()
        User.objects.create_user("one", password=None)
        User.objects.create_user("two", password=None)
        OutboxEntry.objects.update(created_at=clock.now())
        first = OutboxEntry.objects.order_by("id")[0].id
        OutboxEntry.objects.filter(id=first).update(status=OutboxEntry.FAILED, error='400 {"detail":"bad"}')
        Sender(clock=clock, transport=FakeTransport(script=[(None, "refused")])).deliver()
        out = io.StringIO()
        call_command("org_token_edge_sync", "--status", "--json", stdout=out)
        report = json.loads(out.getvalue())
        self.assertEqual((report["pending"], report["failed"], report["consecutive_failures"]), (1, 1, 1))
        self.assertGreaterEqual(report["oldest_pending_age_seconds"], 0)
        self.assertEqual(report["last_error"], "no answer: refused")
        self.assertIsNone(report["last_success_at"])
        self.assertIn('"detail":"bad"', report["recent_failed"][0]["answer"])
        text = io.StringIO()
        call_command("org_token_edge_sync", "--status", stdout=text)
        self.assertIn("pending:              1", text.getvalue())
        self.assertIn("last delivery:        never", text.getvalue())


class Receiver(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"applied":1,"stale":0,"duplicate":false}')

    def log_message(self, *args):
        pass


class OnCommitTests(TransactionTestCase):
    def test_a_commit_is_delivered_promptly_by_a_background_attempt_and_the_command_delivers_the_rest(self):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        Receiver.received = []
        url = "http://127.0.0.1:%d" % server.server_address[1]
        try:
            with override_settings(ORG_TOKEN_EDGE={"URL": url, "SECRET": SECRET}):
                User.objects.create_user("prompt", password=None)
                self.assertTrue(delivery.wait_idle(10))
                self.assertEqual(len(Receiver.received), 1)
                request = {"headers": Receiver.received[0]["headers"], "body": Receiver.received[0]["body"]}
                self.assertTrue(verify(request))
                self.assertEqual(json.loads(request["body"])["records"][0]["fields"]["username"], "prompt")
            with override_settings(ORG_TOKEN_EDGE={"URL": url, "SECRET": SECRET, "DELIVER_ON_COMMIT": False}):
                User.objects.create_user("later", password=None)
                self.assertEqual(OutboxEntry.objects.count(), 1)
                call_command("org_token_edge_sync", stdout=io.StringIO())
                self.assertEqual(OutboxEntry.objects.count(), 0)
                self.assertEqual(len(Receiver.received), 2)
        finally:
            server.shutdown()
            server.server_close()
        self.assertIsNotNone(SyncState.objects.get().last_success_at)
