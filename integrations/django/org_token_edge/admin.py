"""The outbox's parked entries in Django's admin (django-axes style): each with its kind, key,
version, when it was recorded and the edge's answer (or why the origin could not send it),
read-only, with two actions: retry (back to pending: the sender delivers it in version order)
and discard (deleted: the next `--full` repairs the row). Pending entries are not listed:
they are the backlog, gone once delivered (`manage.py org_token_edge_sync --status`)."""
from django.contrib import admin, messages
from django.db.models import F, OuterRef, Q, Subquery

from . import parked
from .models import OutboxEntry, RowVersion


class SupersededFilter(admin.SimpleListFilter):
    title = "superseded by a later change of its row"
    parameter_name = "superseded"

    def lookups(self, request, model_admin):
        return (("yes", "Yes (a retry is stale at the edge)"), ("no", "No (its row's last change)"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(latest_version__gt=F("id"))
        if self.value() == "no":
            return queryset.filter(Q(latest_version__isnull=True) | Q(latest_version__lte=F("id")))
        return queryset


@admin.register(OutboxEntry)
class OutboxEntryAdmin(admin.ModelAdmin):
    list_display = ("version", "kind", "key", "created_at", "answer", "superseded")
    list_display_links = ("version",)
    list_filter = ("kind", SupersededFilter, "created_at")
    search_fields = ("=key", "error")
    ordering = ("-id",)
    list_per_page = 100
    fields = ("id", "kind", "key", "created_at", "status", "error", "record")
    readonly_fields = fields
    actions = ("retry", "discard")

    def get_queryset(self, request):
        latest = RowVersion.objects.filter(kind=OuterRef("kind"), key=OuterRef("key")).values("version")[:1]
        return (
            super()
            .get_queryset(request)
            .filter(status=OutboxEntry.FAILED)
            .annotate(latest_version=Subquery(latest))
        )

    def changelist_view(self, request, extra_context=None):
        title = "Parked outbox entries (refused by the edge, or not sendable)"
        extra_context = {"title": title, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    # Read-only: entries are written by the app's signals only; an entry's page shows it.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The model-wide permission lets its holders run "retry"; no entry can be edited.
        return obj is None and super().has_change_permission(request)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # "discard" says what deleting one means
        return actions

    @admin.display(description="version", ordering="id")
    def version(self, entry):
        return entry.id

    @admin.display(description="the edge's answer, or why it was not sent")
    def answer(self, entry):
        return entry.error[:300]

    @admin.display(description="superseded", boolean=True)
    def superseded(self, entry):
        return entry.latest_version is not None and entry.latest_version > entry.id

    @admin.action(
        description="Retry: back to pending, with later parked entries of the same rows (delivered in version order)",
        permissions=["change"],
    )
    def retry(self, request, queryset):
        ids, later = parked.retry(queryset)
        for entry in OutboxEntry.objects.using(queryset.db).filter(id__in=ids[:1000]):
            self.log_change(request, entry, "Retried: back to pending")
        if not ids:
            self.message_user(request, "Nothing to retry: those entries are no longer parked.", messages.WARNING)
            return
        also = " (%d of them a later parked change of the same row)" % later if later else ""
        if len(ids) == 1:
            text = "1 parked entry put back to pending%s; the sender delivers it in version order." % also
        else:
            text = "%d parked entries put back to pending%s; the sender delivers them in version order." % (
                len(ids),
                also,
            )
        self.message_user(request, text, messages.SUCCESS)

    @admin.action(
        description="Discard: delete (the next --full repairs their rows at the edge)", permissions=["delete"]
    )
    def discard(self, request, queryset):
        entries = queryset.filter(status=OutboxEntry.FAILED)
        log_deletions = getattr(self, "log_deletions", None)  # Django 5.1+; log_deletion is deprecated there
        if log_deletions is not None:
            log_deletions(request, entries)
        else:
            for entry in entries:
                self.log_deletion(request, entry, str(entry))
        count = parked.discard(entries)
        if count == 1:
            text = (
                "1 parked entry discarded; the next `manage.py org_token_edge_sync --full` repairs its row at the edge."
            )
        else:
            text = (
                "%d parked entries discarded; the next `manage.py org_token_edge_sync --full` repairs their rows"
                " at the edge." % count
            )
        self.message_user(request, text, messages.SUCCESS if count else messages.WARNING)
