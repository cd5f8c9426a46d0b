"""The CRM's own tables. Who holds a deal is not a column here: `ownership` keeps it, in the same database."""

from django.conf import settings
from django.db import models


class Department(models.Model):
    """A department and the people in it; in `ownership`, the caretaker group ``dept-<id>`` and its members."""

    name = models.CharField(max_length=100)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="departments", blank=True)

    @property
    def group(self) -> str:
        """The id of the department's caretaker group in `ownership`."""
        return f"dept-{self.pk}"


class Deal(models.Model):
    """A deal; in `ownership`, the record of kind ``deal`` whose id is the deal's number."""

    title = models.CharField(max_length=200)
    amount = models.IntegerField(default=0)
