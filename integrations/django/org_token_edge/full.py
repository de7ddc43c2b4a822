"""--full: the whole origin as one reconciliation run (docs/sync.md), read from one
snapshot, each row stamped with the version of its last recorded change (0 if none)."""
import uuid

from django.db import connections, transaction

from . import conf, records
from .delivery import backoff, refused_record
from .models import OutboxEntry, RowVersion, SyncState


class FullRunError(Exception):
    pass


def _rows(kind, model, using):
    cols = records.columns(kind, model)
    names = [attname for _, attname in cols]
    queryset = model._base_manager.using(using).order_by("pk")
    if kind == records.MEMBERSHIP:
        # A membership without its user or organization is gone at the edge.
        queryset = queryset.filter(user__isnull=False, org__isnull=False)
    for values in queryset.values_list("pk", *names).iterator(chunk_size=2000):
        row = dict(zip(names, values[1:]))
        yield values[0], records.fields_from(kind, model, row.__getitem__, cols)


def run(sender, max_attempts=12, page_size=conf.MAX_BATCH, out=None):
    """Sends begin, the pages, end; returns a summary with the end's answer. A page that
    fails is retried with backoff under the same id; a record the edge refuses (a 400 or 409
    naming it) is left out of its page and of the counts, so the edge removes that row at the
    end (listed in the summary's "refused"), and so is a row the origin cannot encode (never
    sent); any other 400 or 409 ends the run (FullRunError)."""
    using = sender.using
    run_id = str(uuid.uuid4())
    models = records.tracked_models()
    # The kinds this origin carries: the edge reconciles those only (docs/sync.md).
    counts = {kind: 0 for kind in records.KINDS if kind in models}
    pages = 0
    refused = []

    def post(msg_id, payload):
        attempt = 0
        while True:
            attempt += 1
            answer = sender.post(msg_id, payload)
            if answer.status is not None and 200 <= answer.status < 300:
                return answer.json() or {}
            page = payload.get("records") or []
            at_fault = refused_record(answer, len(page))
            if at_fault is not None:
                # The same id again, mended: a refused delivery records no id at the edge.
                record = page.pop(at_fault)
                counts[record["kind"]] -= 1
                refused.append({"kind": record["kind"], "key": record["key"], "answer": answer.describe()})
                if not page:
                    return {}
                attempt = 0
                continue
            if answer.status in (400, 409) or attempt >= max_attempts:
                raise FullRunError("the edge answered %s to %s" % (answer.describe(), msg_id))
            sender.clock.sleep(backoff(attempt))

    # The run is open at the edge before the snapshot is taken: a row committed after the
    # snapshot is delivered after the begin, so the edge marks it seen by this run, and a row
    # committed before it is in the snapshot. Either way the run's end does not remove it.
    post("full_%s_begin" % run_id, {"full": {"run": run_id, "phase": "begin"}})
    with transaction.atomic(using=using):
        if connections[using].vendor == "postgresql":
            with connections[using].cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        # Entries committed before the snapshot: the run carries their rows as of after them,
        # so the ones parked as failed are repaired by it and cleared at its end.
        covered = list(OutboxEntry.objects.using(using).values_list("id", flat=True))
        rows = RowVersion.objects.using(using).values_list("kind", "key", "version")
        versions = {(kind, key): version for kind, key, version in rows.iterator(chunk_size=5000)}
        page = []

        def flush():
            nonlocal page, pages
            if page:
                pages += 1
                post("full_%s_%d" % (run_id, pages), {"records": page, "full": {"run": run_id, "phase": "page"}})
                if out and pages % 100 == 0:
                    out("  %d pages sent" % pages)
                page = []

        for kind in records.KINDS:
            if kind not in models:
                continue
            for key, fields in _rows(kind, models[kind], using):
                wire = records.wire_key(kind, key)  # the database's own key: always one
                version = versions.get((kind, str(wire)), 0)
                record = {"kind": kind, "key": wire, "version": version, "fields": fields}
                fault = records.fault(record)
                if fault is not None:
                    # Left out like a record the edge refuses: the end removes the row there.
                    reason = "not sent: the origin cannot encode it: %s" % fault
                    refused.append({"kind": kind, "key": record["key"], "answer": reason})
                    continue
                page.append(record)
                counts[kind] += 1
                if len(page) == page_size:
                    flush()
            flush()
        answer = post("full_%s_end" % run_id, {"full": {"run": run_id, "phase": "end", "counts": counts}})
    cleared = 0
    for start in range(0, len(covered), 500):
        cleared += OutboxEntry.objects.using(using).filter(
            status=OutboxEntry.FAILED, id__in=covered[start:start + 500]
        ).delete()[0]
    summary = {
        "run": run_id,
        "counts": counts,
        "pages": pages,
        "removed": answer.get("removed", {}),
        "cleared_failed": cleared,
        "refused": refused,
    }
    now = sender.clock.now()
    SyncState.objects.using(using).get_or_create(id=1)
    SyncState.objects.using(using).filter(id=1).update(last_full_at=now, last_full_summary=str(summary))
    return summary
