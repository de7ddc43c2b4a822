from django.apps import AppConfig


class OrgTokenEdgeConfig(AppConfig):
    name = "org_token_edge"
    label = "org_token_edge"
    verbose_name = "org-token-edge sync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks, signals  # noqa: F401  (registers the check)

        signals.connect()
