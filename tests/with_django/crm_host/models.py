"""The host's tables: one keyed by text (any kind's records, by id), one by integers (deals), as CRMs key them."""

from django.contrib.auth.models import User
from django.db import models


class Item(models.Model):
    """A row for a record of any kind, keyed by the record's id as `ownership` keeps it (text)."""

    id = models.CharField(primary_key=True, max_length=64)
    title = models.CharField(max_length=100, default="")

    class Meta:
        app_label = "crm_host"


class Deal(models.Model):
    """A deal keyed by an integer, as Django's default primary key is; `ownership` tracks it by its id as text."""

    title = models.CharField(max_length=100, default="")
    amount = models.IntegerField(default=0)
    owner = models.CharField(max_length=64, default="")  # a CRM that keeps its deal's owner in a column

    class Meta:
        app_label = "crm_host"


class Ticket(models.Model):
    """A ticket keyed by a UUID: a key `ownership`'s text ids cannot be matched with on every database."""

    id = models.UUIDField(primary_key=True)

    class Meta:
        app_label = "crm_host"


class Department(models.Model):
    """A department whose members are Django users: in `ownership`, the caretaker group ``dept-<id>``."""

    name = models.CharField(max_length=100)
    members = models.ManyToManyField(User, related_name="departments")

    class Meta:
        app_label = "crm_host"


class StaffUser(User):
    """The host's users seen through a proxy, as an admin site or a manager may: saved as its own sender."""

    class Meta:
        proxy = True
        app_label = "crm_host"


class Card(models.Model):
    """A user's business card: a relation their delete takes with it before `ownership` hears of it."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="card")
    display = models.CharField(max_length=100)

    class Meta:
        app_label = "crm_host"
