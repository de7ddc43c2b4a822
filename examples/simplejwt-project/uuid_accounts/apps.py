from django.apps import AppConfig


class UuidAccountsConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'uuid_accounts'
