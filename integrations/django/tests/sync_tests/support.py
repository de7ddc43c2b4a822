import datetime
import json

from django.utils import timezone

from org_token_edge.delivery import Answer


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
