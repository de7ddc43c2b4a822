"""ps-web's users app, reduced to the fields the sync reads (and the foreign keys that
decide what a delete does): users.User, OrgAccount keyed by UUID, Membership with SET_NULL."""
import uuid

from django.contrib.auth.models import AbstractBaseUser, AbstractUser
from django.db import models


class User(AbstractUser):
    pass


class OrgAccount(models.Model):
    id = models.UUIDField(default=uuid.uuid4, unique=True, primary_key=True, editable=False)
    owner = models.ForeignKey(User, on_delete=models.CASCADE, null=True)
    name = models.CharField(max_length=200, unique=True, default="uninitialized")
    balance = models.DecimalField(max_digits=8, decimal_places=2, default=0)  # a field the edge ignores


class Membership(models.Model):
    id = models.UUIDField(default=uuid.uuid4, unique=True, primary_key=True, editable=False)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="fk_user")
    org = models.ForeignKey(OrgAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="fk_org")
    active = models.BooleanField(default=False)
    modified_date = models.DateTimeField(auto_now=True)
    delete_requested = models.BooleanField(default=False)


class EmailUser(AbstractBaseUser):
    """A custom user signing in by email (USERNAME_FIELD = "email"), integer-keyed: the sync's
    user record carries its email as `username` (sync_tests/test_stock.py)."""

    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)

    USERNAME_FIELD = "email"


class UuidKeyUser(AbstractBaseUser):
    """A custom user keyed by a UUID: the edge refuses it (org_token_edge_config)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)

    USERNAME_FIELD = "email"


class TokenUser(AbstractBaseUser):
    """An integer-keyed custom user named in tokens by its UUID field (USER_ID_FIELD = "uuid"),
    with fields custom claims are written from (ORG_TOKEN_EDGE["CLAIMS"])."""

    username = models.CharField(max_length=150, unique=True)
    uuid = models.UUIDField(unique=True, default=uuid.uuid4)
    first_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False)
    nickname = models.CharField(max_length=50, null=True, unique=True)
    joined = models.DateField(null=True)
    is_active = models.BooleanField(default=True)

    USERNAME_FIELD = "username"
