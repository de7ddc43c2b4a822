#!/usr/bin/env python3
"""The test project driven over JSON lines, for the end-to-end test and the sync bench: each
line of stdin is a request, answered by one line on stdout.

  {"op": "exec", "code": "...", "args": {...}}   runs ORM code (its `result` is returned)
  {"op": "settle", "timeout": 10}                 until the outbox is empty (delivered or parked)
  {"op": "deliveries"}                            (version, commit time, accepted time) since the last call

Changes are delivered as in production: after commit, by the app's background attempt."""
import json
import os
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")

import django  # noqa: E402

django.setup()

from allauth.socialaccount.models import SocialAccount  # noqa: E402
from django.db import transaction  # noqa: E402

from org_token_edge import delivery, full  # noqa: E402
from org_token_edge.delivery import Sender  # noqa: E402
from org_token_edge.models import OutboxEntry, RowVersion, SyncState  # noqa: E402
from users.models import Membership, OrgAccount, User  # noqa: E402

_accepted = []
_accepted_lock = threading.Lock()


def _on_delivered(sender, versions, created_at, **kwargs):
    now = time.time()
    with _accepted_lock:
        _accepted.extend((version, created.timestamp(), now) for version, created in zip(versions, created_at))


delivery.delivered.connect(_on_delivered)

SCOPE = {
    "User": User,
    "OrgAccount": OrgAccount,
    "Membership": Membership,
    "SocialAccount": SocialAccount,
    "OutboxEntry": OutboxEntry,
    "SyncState": SyncState,
    "RowVersion": RowVersion,
    "Sender": Sender,
    "transaction": transaction,
    "full": full,
    "delivery": delivery,
    "time": time,
}


def settle(timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery.wait_idle(max(deadline - time.monotonic(), 0))
        if not OutboxEntry.objects.filter(status=OutboxEntry.PENDING).exists():
            return True
        time.sleep(0.02)
    return False


def handle(request):
    op = request["op"]
    if op == "exec":
        scope = dict(SCOPE, args=request.get("args", {}), result=None)
        exec(request["code"], scope)
        return {"result": scope["result"], "at": time.time()}
    if op == "settle":
        return {"result": settle(float(request.get("timeout", 10)))}
    if op == "deliveries":
        with _accepted_lock:
            taken = list(_accepted)
            del _accepted[:]
        return {"result": taken}
    raise ValueError("unknown op %r" % op)


def main():
    out = sys.stdout
    sys.stdout = sys.stderr  # prints in driven code must not corrupt the protocol
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = dict(handle(json.loads(line)), ok=True)
        except Exception:
            answer = {"ok": False, "error": traceback.format_exc()}
        out.write(json.dumps(answer, default=str) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
