"""A CRM that keeps who owns a deal, and which department cares for it, in its own columns, as many do."""

from django.db import models


class Deal(models.Model):
    """A deal, keyed by an integer (Django's default), with its owner's and its department's ids, each indexed."""

    title = models.CharField(max_length=100)
    owner = models.CharField(max_length=20, db_index=True)
    department = models.CharField(max_length=20, db_index=True)

    class Meta:
        """The benchmark's app."""

        app_label = "bench_django_crm"


class Membership(models.Model):
    """A user's place in a department, as the CRM keeps it."""

    user = models.CharField(max_length=20, db_index=True)
    department = models.CharField(max_length=20)

    class Meta:
        """The benchmark's app."""

        app_label = "bench_django_crm"
