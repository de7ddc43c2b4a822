"""A custom user for the example's EXAMPLE_CUSTOM_USER=uuid-pk variant: Django's user keyed by a
UUID (`id` a UUIDField primary key), which simplejwt names users by (its default USER_ID_FIELD,
"id"). An app of its own: two AbstractUser subclasses in one app would clash."""
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
