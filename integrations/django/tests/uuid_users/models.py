"""A custom user keyed by a UUID, Django's common pattern, beside an organization and a
membership of ps-web's shape (users.OrgAccount, users.Membership) referring to it."""
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)


class OrgAccount(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)


class Membership(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    org = models.ForeignKey(OrgAccount, null=True, on_delete=models.SET_NULL)
    active = models.BooleanField(default=False)
