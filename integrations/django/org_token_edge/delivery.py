"""Delivery of the outbox to the edge (docs/sync.md): signed batches of at most 100 entries
in version order, one sender at a time (a lease row), retries with backoff, 400/409 answers
parked as failed, and so are entries the origin cannot encode (never sent). A clock and a
transport are passed in, so tests drive time and answers."""
import base64
import datetime
import hashlib
import hmac
import json
import logging
import os
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from . import conf, records
from .models import OutboxEntry, SyncState

log = logging.getLogger("org_token_edge")

# Sent after the edge accepted a delivery (2xx): `versions` (the entries' ids) and `created_at`
# (each entry's commit time, in the same order), for freshness metrics.
delivered = Signal()

LEASE = datetime.timedelta(seconds=60)  # longer than an attempt: TIMEOUT is 10 s
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 300.0
PROBE_INTERVAL = 1.0  # a new change retries at most this often, whatever the backoff


class Clock:
    def now(self):
        return timezone.now()

    def sleep(self, seconds):
        time.sleep(seconds)


class Answer:
    def __init__(self, status, body):
        self.status = status  # None: no answer (connection refused, timeout)
        self.body = body

    def json(self):
        try:
            value = json.loads(self.body)
        except (TypeError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def describe(self):
        return "%s %s" % (self.status if self.status is not None else "no answer:", (self.body or "")[:500])


class UrllibTransport:
    def post(self, url, body, headers, timeout):
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(response.status, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode("utf-8", "replace"))
        except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as error:
            return Answer(None, str(getattr(error, "reason", error)))


def sign(key, msg_id, timestamp, body):
    """Standard Webhooks' v1 signature of `<id>.<timestamp>.<body>`."""
    message = ("%s.%d." % (msg_id, timestamp)).encode("utf-8") + body
    return "v1," + base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode("ascii")


def backoff(failures):
    return min(FIRST_BACKOFF * 2 ** max(failures - 1, 0), MAX_BACKOFF)


def encode(payload):
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def wire_record(entry):
    record = {"kind": entry.kind, "key": records.wire_key(entry.kind, entry.key), "version": entry.id}
    record.update(json.loads(entry.record))
    return record


def prepare(entry):
    """(the entry's record as sent, None), or (None, why the origin cannot send it): an entry
    that cannot be encoded is parked, never retried, so it cannot stall the entries after it."""
    try:
        record = wire_record(entry)
    except (TypeError, ValueError) as error:
        return None, "its stored record cannot be read (%s)" % error
    found = records.fault(record)
    return (None, found) if found else (record, None)


def refused_record(answer, sent):
    """The index of the one record a 400 or 409 answer names (`{"record": i}`, 0 <= i < `sent`),
    else None (the whole delivery is refused)."""
    if answer.status not in (400, 409):
        return None
    at_fault = (answer.json() or {}).get("record")
    if isinstance(at_fault, int) and not isinstance(at_fault, bool) and 0 <= at_fault < sent:
        return at_fault
    return None


def batch_id(entries):
    """The same for a retry of the same entries, different for any other set."""
    ids = ",".join(str(entry.id) for entry in entries).encode("ascii")
    return "ote_%d_%d_%s" % (entries[0].id, entries[-1].id, hashlib.sha256(ids).hexdigest()[:16])


class Sender:
    def __init__(self, clock=None, transport=None, using="default", owner=None):
        self.clock = clock or Clock()
        self.transport = transport or UrllibTransport()
        self.using = using
        self.owner = owner or "%s:%d:%s" % (socket.gethostname()[:30], os.getpid(), uuid.uuid4().hex[:8])

    # -- the wire ---------------------------------------------------------------------------

    def post(self, msg_id, payload):
        config = conf.delivery()
        body = encode(payload)
        timestamp = int(self.clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(config.key, msg_id, timestamp, body),
        }
        return self.transport.post(config.url, body, headers, config.timeout)

    # -- state --------------------------------------------------------------------------------

    def _state(self):
        SyncState.objects.using(self.using).get_or_create(id=1)
        return SyncState.objects.using(self.using)

    def state(self):
        self._state()
        return SyncState.objects.using(self.using).get(id=1)

    def acquire(self):
        now = self.clock.now()
        free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=self.owner)
        return self._state().filter(free, id=1).update(lease_owner=self.owner, lease_until=now + LEASE) == 1

    def release(self):
        self._state().filter(id=1, lease_owner=self.owner).update(lease_owner="", lease_until=None)

    def pending(self):
        return OutboxEntry.objects.using(self.using).filter(status=OutboxEntry.PENDING).order_by("id")

    # -- delivery -------------------------------------------------------------------------------

    def deliver(self, probe=False, respect_backoff=True):
        """Deliver what is pending. Returns "done" (nothing left), "busy" (another sender holds
        the lease: it delivers), "waiting" (backing off) or "failed" (this attempt failed).
        `probe`: a new change, tried if the last attempt is PROBE_INTERVAL old whatever the
        backoff; its failure starts the backoff schedule but does not advance it."""
        conf.delivery()  # ImproperlyConfigured before anything is touched
        while True:
            if not self.acquire():
                return "busy"
            try:
                outcome = self._deliver_held(probe, respect_backoff)
            finally:
                self.release()
            # An entry committed while the lease was held, whose own attempt found it busy.
            if outcome != "done" or not self.pending().exists():
                return outcome

    def _deliver_held(self, probe, respect_backoff):
        while True:
            state = self.state()
            now = self.clock.now()
            if respect_backoff and state.next_attempt_at and now < state.next_attempt_at:
                recent = state.last_attempt_at and (now - state.last_attempt_at).total_seconds() < PROBE_INTERVAL
                if not probe or recent:
                    return "waiting"
            entries = list(self.pending()[: conf.MAX_BATCH])
            if not entries:
                return "done"
            batch = []
            for entry in entries:
                record, fault = prepare(entry)
                if fault is None:
                    batch.append((entry, record))
                else:
                    self._park([entry], "not sent: the origin cannot encode it: %s" % fault)
            if batch and not self._send(batch, probe and state.failures > 0):
                return "failed"
            self._state().filter(id=1, lease_owner=self.owner).update(lease_until=self.clock.now() + LEASE)

    def _park(self, entries, reason):
        """Marks `entries` failed with `reason`: shown by --status, repaired by --full."""
        OutboxEntry.objects.using(self.using).filter(id__in=[entry.id for entry in entries]).update(
            status=OutboxEntry.FAILED, error=reason
        )
        log.error("org_token_edge: %d entries parked: %s", len(entries), reason)

    def _send(self, batch, off_schedule=False):
        """Posts `batch`, (entry, record) pairs, as one delivery; False if it is to be retried."""
        entries = [entry for entry, _ in batch]
        answer = self.post(batch_id(entries), {"records": [record for _, record in batch]})
        now = self.clock.now()
        states = self._state().filter(id=1)
        if answer.status is not None and 200 <= answer.status < 300:
            with transaction.atomic(using=self.using):
                OutboxEntry.objects.using(self.using).filter(id__in=[entry.id for entry in entries]).delete()
                states.update(failures=0, next_attempt_at=None, last_attempt_at=now, last_success_at=now, last_error="")
            delivered.send(
                Sender, versions=[entry.id for entry in entries], created_at=[entry.created_at for entry in entries]
            )
            return True
        if answer.status in (400, 409):
            # The edge will never take these: parked, shown by --status, repaired by --full. A
            # body naming one record (its index in this delivery) parks that entry alone; the
            # others go again at once, as a delivery of their own.
            at_fault = refused_record(answer, len(entries))
            parked = entries if at_fault is None else [entries[at_fault]]
            self._park(parked, answer.describe())
            states.update(last_attempt_at=now, last_error=answer.describe())
            return True
        if off_schedule:
            # A probe between scheduled retries: it does not push the schedule further out, so
            # the retry after an outage stays where the schedule put it.
            states.update(last_attempt_at=now, last_error=answer.describe())
            log.warning("org_token_edge: delivery failed (%s)", answer.describe())
            return False
        failures = self.state().failures + 1
        delay = backoff(failures)
        states.update(
            failures=failures,
            next_attempt_at=now + datetime.timedelta(seconds=delay),
            last_attempt_at=now,
            last_error=answer.describe(),
        )
        log.warning("org_token_edge: delivery failed (%s); retry in %.0f s", answer.describe(), delay)
        return False

    def watch(self, interval=1.0, stop=None):
        """The long-running worker: deliver, then sleep until the backoff ends or `interval`."""
        while stop is None or not stop():
            try:
                self.deliver()
            except ImproperlyConfigured:
                raise
            except Exception:  # a database hiccup must not end the worker
                log.exception("org_token_edge: delivery attempt raised")
            state = self.state()
            wait = interval
            if state.next_attempt_at:
                wait = min(max((state.next_attempt_at - self.clock.now()).total_seconds(), 0.05), interval)
            self.clock.sleep(wait)


# -- the prompt attempt after a commit ------------------------------------------------------------

_lock = threading.Lock()
_idle = threading.Condition(_lock)
_running = False
_again = False


def wait_idle(timeout=None):
    """Until this process's background attempt (if any) has finished; False on timeout."""
    with _idle:
        return _idle.wait_for(lambda: not _running, timeout)


def kick():
    """After a commit: one background thread per process delivers what is pending now."""
    global _running, _again
    if not conf.deliver_on_commit():
        return
    with _lock:
        if _running:
            _again = True
            return
        _running = True
    threading.Thread(target=_run, name="org_token_edge", daemon=True).start()


def _run():
    global _running, _again
    try:
        while True:
            try:
                Sender().deliver(probe=True)
            except ImproperlyConfigured as error:
                log.error("org_token_edge: %s", error)
            except Exception:
                log.exception("org_token_edge: delivery attempt raised")
            with _lock:
                if not _again:
                    break
                _again = False
    finally:
        connections.close_all()
        with _idle:
            _running = False
            _idle.notify_all()
