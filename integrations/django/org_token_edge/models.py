from django.db import models


class OutboxEntry(models.Model):
    """One committed change of a row the edge copies. Its id is the record's version
    (docs/sync.md): one sequence across the origin, greater for a later change."""

    PENDING = "pending"
    FAILED = "failed"

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=20)
    key = models.CharField(max_length=64)
    # The record without its version: {"fields": {...}} or {"deleted": true}, plus
    # "password_changed" for users; JSON text so every database stores it the same way.
    record = models.TextField()
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, default=PENDING)
    # The edge's answer when it was parked (400/409); shown by --status.
    error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["status", "id"], name="ote_outbox_status_id")]
        verbose_name_plural = "outbox entries"


class RowVersion(models.Model):
    """The last recorded version of each row (--full stamps rows with it) and a digest of
    the fields it carried (a save that changes none of them records nothing)."""

    kind = models.CharField(max_length=20)
    key = models.CharField(max_length=64)
    version = models.BigIntegerField()
    digest = models.CharField(max_length=64)
    password_digest = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="ote_rowversion_kind_key")]


class SyncState(models.Model):
    """One row (id 1): the delivery lease, the backoff and the last success."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    lease_until = models.DateTimeField(null=True)
    failures = models.PositiveIntegerField(default=0)  # consecutive failed attempts
    next_attempt_at = models.DateTimeField(null=True)
    last_attempt_at = models.DateTimeField(null=True)
    last_error = models.TextField(blank=True, default="")
    last_success_at = models.DateTimeField(null=True)
    last_full_at = models.DateTimeField(null=True)
    last_full_summary = models.TextField(blank=True, default="")
