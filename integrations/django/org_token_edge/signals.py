"""Every committed change of a field the edge uses, written to the outbox in the saving
transaction. Saves that change none of them record nothing; deletes are recorded, and so are
the NULLs Django writes for SET_NULL (an UPDATE with no signal), caught on pre_delete of the
row they referenced."""
import json

from django.db import models, transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from . import records
from .models import OutboxEntry, RowVersion

_UID = "org_token_edge"


def connect():
    for kind, model in records.tracked_models().items():
        post_save.connect(_post_save, sender=model, dispatch_uid="%s.post_save.%s" % (_UID, kind))
        pre_save.connect(_pre_save, sender=model, dispatch_uid="%s.pre_save.%s" % (_UID, kind))
        post_delete.connect(_post_delete, sender=model, dispatch_uid="%s.post_delete.%s" % (_UID, kind))
        pre_delete.connect(_pre_delete, sender=model, dispatch_uid="%s.pre_delete.%s" % (_UID, kind))


def _pre_save(sender, instance, raw=False, using=None, **kwargs):
    kind = records.kind_of(sender)
    if kind is None or instance._state.adding or instance.pk is None:
        return
    # A row never recorded yet (it predates the app): what it held before this save, so an
    # unchanged save records nothing and a new password hash is seen as one.
    if RowVersion.objects.using(using).filter(kind=kind, key=records.key_text(kind, instance.pk)).exists():
        return
    before = sender._base_manager.using(using).filter(pk=instance.pk).first()
    if before is not None:
        instance._org_token_edge_before = records.fields_of(kind, before)


def _post_save(sender, instance, created=False, raw=False, using=None, **kwargs):
    kind = records.kind_of(sender)
    if kind is not None:
        before = None if created else getattr(instance, "_org_token_edge_before", None)
        instance.__dict__.pop("_org_token_edge_before", None)
        record_change(kind, instance.pk, records.fields_of(kind, instance), using, created=created, before=before)


def _post_delete(sender, instance, using=None, **kwargs):
    kind = records.kind_of(sender)
    if kind is not None:
        record_change(kind, instance.pk, None, using)


def _pre_delete(sender, instance, using=None, **kwargs):
    """The rows whose SET_NULL foreign key points at `instance`, as they will be."""
    for kind, model in records.tracked_models().items():
        for field in model._meta.concrete_fields:
            if (
                isinstance(field, models.ForeignKey)
                and field.remote_field.on_delete is models.SET_NULL
                and issubclass(sender, field.related_model)
            ):
                for row in model._base_manager.using(using).filter(**{field.name: instance.pk}):
                    setattr(row, field.attname, None)
                    record_change(kind, row.pk, records.fields_of(kind, row), using)


def record_change(kind, key, fields, using=None, created=False, before=None):
    """One outbox entry and the row's version, unless `fields` are what was last recorded."""
    using = using or "default"
    key = records.key_text(kind, key)
    digest = records.digest(fields)
    kept = RowVersion.objects.using(using).filter(kind=kind, key=key).first()
    if kept is not None and kept.digest == digest:
        return None
    if kept is None and before is not None and records.digest(before) == digest:
        return None
    record = {"fields": fields} if fields is not None else {"deleted": True}
    password_digest = ""
    if kind == records.USER and fields is not None:
        password_digest = records.secret_digest(fields["password"])
        if created:
            changed = False
        elif kept is not None and kept.password_digest:
            changed = kept.password_digest != password_digest
        elif before is not None:
            changed = before["password"] != fields["password"]
        else:
            changed = False
        record["password_changed"] = changed
    entry = OutboxEntry.objects.using(using).create(
        kind=kind, key=key, record=json.dumps(record, separators=(",", ":")), created_at=timezone.now()
    )
    RowVersion.objects.using(using).update_or_create(
        kind=kind, key=key, defaults={"version": entry.id, "digest": digest, "password_digest": password_digest}
    )
    transaction.on_commit(_kick, using=using)
    return entry


def _kick():
    from . import delivery

    delivery.kick()
