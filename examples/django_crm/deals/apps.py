"""The deals app: once Django is ready, `ownership` answers for its deals."""

from django.apps import AppConfig


class DealsConfig(AppConfig):
    """Bind the CRM's `Ownership` to its deals, so permissions, lists and views ask it."""

    name = "deals"

    def ready(self) -> None:
        """Bind: a deal is a record of kind ``deal``; a Django user is the `ownership` user of their username."""
        from deals.models import Deal  # noqa: PLC0415
        from deals.rules import TENANT, ownership, person  # noqa: PLC0415
        from ownership.contrib.django import bind, track_users  # noqa: PLC0415 - the app registry is ready only now

        bind(ownership(), kinds={Deal: "deal"})
        track_users(person, tenant=TENANT, links=["departments"])
