"""The ``ownership`` Django app: listed in ``INSTALLED_APPS``, ``migrate`` makes its tables."""

from django.apps import AppConfig


class OwnershipConfig(AppConfig):
    """`ownership`'s tables in each database ``migrate`` runs on, made by its migration."""

    name = "ownership.contrib.django"
    label = "ownership"
    verbose_name = "Ownership"
