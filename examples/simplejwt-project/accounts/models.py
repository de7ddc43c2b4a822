"""A custom user for the example's EXAMPLE_CUSTOM_USER variant: Django's user with a UUID that
tokens name it by (SIMPLE_JWT's USER_ID_FIELD = "uuid"); its primary key stays an integer."""
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
