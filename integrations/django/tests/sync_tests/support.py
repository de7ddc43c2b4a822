import datetime
import json
import os
import subprocess
import sys
import threading

from django.utils import timezone

from org_token_edge.delivery import Answer


HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def project_tests(settings_module, label):
    """`manage.py test <label>` under another project's settings, in a process of its own (a
    project swaps AUTH_USER_MODEL and INSTALLED_APPS, which one process cannot do twice): the
    run's exit status and output."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=settings_module)
    run = subprocess.run(
        [sys.executable, "manage.py", "test", "--noinput", label],
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    return run.returncode, run.stdout


class FakeClock:
    """Time that moves only when told to (or when slept through)."""

    def __init__(self, start=None):
        self.current = start or timezone.now()
        self.slept = []

    def now(self):
        return self.current

    def advance(self, seconds):
        self.current += datetime.timedelta(seconds=seconds)

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.advance(seconds)


class FakeTransport:
    """Records each request; answers from `script` (status, body) in turn, then `default`."""

    def __init__(self, script=(), default=(200, '{"applied":0,"stale":0,"duplicate":false}')):
        self.script = list(script)
        self.default = default
        self.requests = []

    def post(self, url, body, headers, timeout):
        self.requests.append({"url": url, "body": body, "headers": dict(headers), "json": json.loads(body)})
        status, text = self.script.pop(0) if self.script else self.default
        if callable(text):
            text = text(json.loads(body))
        return Answer(status, text)

    def records(self, index=-1):
        return self.requests[index]["json"]["records"]


class FakeEdge:
    """A stand-in for the edge's receiver that keeps rows as docs/sync.md's "Full
    reconciliation" says: per (kind, key) the highest version applied (deletes kept as
    tombstones); a change record applied when its version is greater, a full record when it is
    at least the kept one; every row a delivery touches while a run is open is seen by that
    run; a run's end removes, for each kind its counts name, every row the run did not see.
    `before(payload)`, if set, is called with each delivery before it is taken (and outside
    the edge's lock, so it may deliver from another thread)."""

    def __init__(self, before=None):
        self.before = before
        self.lock = threading.Lock()
        self.versions = {}  # (kind, key): the highest version applied
        self.rows = {}  # (kind, key): fields, for the rows the edge has
        self.seen = {}  # (kind, key): the last run that saw it
        self.run = None
        self.deliveries = []  # the payloads taken, in order

    def post(self, url, body, headers, timeout):
        payload = json.loads(body)
        if self.before is not None:
            self.before(payload)
        with self.lock:
            self.deliveries.append(payload)
            status, answer = self.take(payload)
        return Answer(status, json.dumps(answer))

    def take(self, payload):
        full = payload.get("full") or {}
        phase = full.get("phase")
        if phase == "begin":
            self.run = full["run"]
        elif phase in ("page", "end") and full["run"] != self.run:
            return 409, {"detail": "not the open run"}
        applied = stale = 0
        for record in payload.get("records") or []:
            ident = (record["kind"], str(record["key"]))
            kept = self.versions.get(ident)
            if kept is None or record["version"] > kept or (phase is not None and record["version"] >= kept):
                self.versions[ident] = record["version"]
                fields = record.get("fields")
                if record.get("deleted") or (record["kind"] == "membership" and None in fields.values()):
                    self.rows.pop(ident, None)
                else:
                    self.rows[ident] = fields
                applied += 1
            else:
                stale += 1
            if self.run is not None:
                self.seen[ident] = self.run
        answer = {"applied": applied, "stale": stale, "duplicate": False}
        if phase == "end":
            seen = [ident for ident, run in self.seen.items() if run == self.run]
            for kind, sent in full["counts"].items():
                if len([ident for ident in seen if ident[0] == kind]) < sent:
                    return 409, {"detail": "the run saw fewer rows than its counts"}
            removed = {}
            for kind in full["counts"]:
                for ident in [ident for ident in self.rows if ident[0] == kind and self.seen.get(ident) != self.run]:
                    del self.rows[ident]
                    removed[kind] = removed.get(kind, 0) + 1
            answer["removed"] = removed
            self.run = None
        return 200, answer

    def keys(self, kind):
        return {key for row_kind, key in self.rows if row_kind == kind}
