"""What can be done with entries parked as failed (the edge refused them, or the origin could
not encode them): retry or discard. The admin's actions (admin.py) call these.

Retry puts entries back to pending; the sender always takes pending entries oldest version
first, so a retried entry goes before every later pending entry, and after the later
entries already delivered. That is safe because of the edge's versions (docs/sync.md,
"Version"): it keeps, per row, the highest version it applied (deletes as tombstones), and a
change record whose version is not greater changes nothing (`stale`, not even checked). So a
retried entry that a later change of its row has outgrown at the edge is harmless, and one
the edge has no later version of is applied, then overtaken by the later pending ones in
order. What versions cannot order is a later change of the same row that is parked too: the
edge would take the older state, and with it any unique name (a username) that state held,
from the row that holds it now. So retrying an entry retries the later parked entries of
its row with it, and they go in version order.

Discard deletes entries: the edge misses those changes until the next `--full`, which sends
each row as it is now, stamped with its last recorded version."""
from django.db import transaction

from .models import OutboxEntry

CHUNK = 500  # ids per IN (...): below every database's bound-parameter limit


def _chunks(ids):
    ids = sorted(ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def retry(queryset):
    """Puts the parked entries of `queryset`, and the later parked entries of their rows, back
    to pending. Returns (the ids put back, how many of them were not in `queryset`)."""
    using = queryset.db
    entries = OutboxEntry.objects.using(using)
    with transaction.atomic(using=using):
        selected = list(queryset.filter(status=OutboxEntry.FAILED).values_list("id", "kind", "key"))
        first = {}
        for version, kind, key in selected:
            first[(kind, key)] = min(version, first.get((kind, key), version))
        ids = set()
        for (kind, key), version in first.items():
            later = entries.filter(status=OutboxEntry.FAILED, kind=kind, key=key, id__gte=version)
            ids.update(later.values_list("id", flat=True))
        for chunk in _chunks(ids):
            entries.filter(status=OutboxEntry.FAILED, id__in=chunk).update(status=OutboxEntry.PENDING, error="")
        if ids:
            transaction.on_commit(_kick, using=using)
    return sorted(ids), len(ids) - len(selected)


def discard(queryset):
    """Deletes the parked entries of `queryset`; returns how many."""
    using = queryset.db
    ids = list(queryset.filter(status=OutboxEntry.FAILED).values_list("id", flat=True))
    discarded = 0
    with transaction.atomic(using=using):
        for chunk in _chunks(ids):
            discarded += OutboxEntry.objects.using(using).filter(status=OutboxEntry.FAILED, id__in=chunk).delete()[0]
    return discarded


def _kick():
    # A prompt delivery attempt, as after any commit that records a change (DELIVER_ON_COMMIT).
    from . import delivery

    delivery.kick()
