import json
import time

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Min

from org_token_edge import full
from org_token_edge.delivery import Sender
from org_token_edge.models import OutboxEntry


class Command(BaseCommand):
    help = (
        "Deliver the org-token-edge outbox: with no flag, what is pending, then exit; --watch keeps "
        "delivering (the production worker); --full sends a full reconciliation; --status shows the backlog."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--watch", action="store_true", help="run until stopped, polling and backing off")
        mode.add_argument(
            "--full", action="store_true", help="send the whole origin; the edge removes what the origin lacks"
        )
        mode.add_argument("--status", action="store_true", help="backlog, oldest pending age, failures, last delivery")
        parser.add_argument("--interval", type=float, default=1.0, help="--watch: seconds between polls (default 1)")
        parser.add_argument("--json", action="store_true", help="--status as JSON")
        parser.add_argument("--database", default="default")

    def handle(self, *args, **options):
        sender = Sender(using=options["database"])
        try:
            if options["status"]:
                return self.status(sender, options["json"])
            if options["full"]:
                return self.full(sender)
            if options["watch"]:
                self.stdout.write("org_token_edge: delivering (Ctrl-C to stop)")
                try:
                    sender.watch(interval=options["interval"])
                except KeyboardInterrupt:
                    return
            outcome = sender.deliver(respect_backoff=False)
        except ImproperlyConfigured as error:
            raise CommandError(str(error))
        state = sender.state()
        left = sender.pending().count()
        if outcome == "failed":
            raise CommandError("delivery failed: %s (%d pending; retried later)" % (state.last_error, left))
        if outcome == "busy":
            self.stdout.write("another sender holds the lease; it is delivering (%d pending)" % left)
        else:
            failed = OutboxEntry.objects.using(sender.using).filter(status=OutboxEntry.FAILED).count()
            self.stdout.write("delivered; %d pending, %d failed" % (left, failed))

    def full(self, sender):
        started = time.monotonic()
        try:
            summary = full.run(sender, out=self.stdout.write)
        except full.FullRunError as error:
            raise CommandError(str(error))
        self.stdout.write(
            "full reconciliation %s: sent %s in %d pages; the edge removed %s;"
            " %d failed entries repaired and cleared (%.1f s)"
            % (
                summary["run"],
                json.dumps(summary["counts"]),
                summary["pages"],
                json.dumps(summary["removed"]),
                summary["cleared_failed"],
                time.monotonic() - started,
            )
        )
        for record in summary["refused"]:
            # The edge's answer, or why the origin could not send the row: removed at the edge either way.
            self.stderr.write("refused, so removed at the edge: %(kind)s %(key)s: %(answer)s" % record)

    def status(self, sender, as_json):
        state = sender.state()
        entries = OutboxEntry.objects.using(sender.using)
        pending = entries.filter(status=OutboxEntry.PENDING)
        oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
        now = sender.clock.now()
        failed = list(entries.filter(status=OutboxEntry.FAILED).order_by("-id")[:10])
        report = {
            "pending": pending.count(),
            "oldest_pending_age_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
            "failed": entries.filter(status=OutboxEntry.FAILED).count(),
            "consecutive_failures": state.failures,
            "next_attempt_at": state.next_attempt_at.isoformat() if state.next_attempt_at else None,
            "last_error": state.last_error or None,
            "last_success_at": state.last_success_at.isoformat() if state.last_success_at else None,
            "last_full_at": state.last_full_at.isoformat() if state.last_full_at else None,
            "recent_failed": [
                {"version": entry.id, "kind": entry.kind, "key": entry.key, "answer": entry.error} for entry in failed
            ],
        }
        if as_json:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write("pending:              %d" % report["pending"])
        age = "%s s" % report["oldest_pending_age_seconds"] if oldest else "-"
        self.stdout.write("oldest pending:       %s" % age)
        self.stdout.write("failed (parked):      %d" % report["failed"])
        retry = " (next attempt %s)" % report["next_attempt_at"] if state.next_attempt_at else ""
        self.stdout.write("consecutive failures: %d%s" % (state.failures, retry))
        self.stdout.write("last error:           %s" % (report["last_error"] or "-"))
        self.stdout.write("last delivery:        %s" % (report["last_success_at"] or "never"))
        self.stdout.write("last full run:        %s" % (report["last_full_at"] or "never"))
        for entry in report["recent_failed"]:
            self.stdout.write(
                "  failed %s %s (version %d): %s" % (entry["kind"], entry["key"], entry["version"], entry["answer"])
            )
