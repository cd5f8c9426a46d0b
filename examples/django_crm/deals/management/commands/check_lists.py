"""Seed a CRM of people, departments and deals; then prove what each person is shown is what `can` allows.

Every page of each person's list, and the pages of 10 deals drawn for each: a deal's page opens for a person
exactly when `can` lets them view it, and the list shows each deal's owner as `ownership` holds it.
"""

import logging
import random
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import Client
from django.test.utils import setup_test_environment

from deals import services
from deals.models import Deal
from deals.rules import TENANT
from ownership import RecordRef
from ownership.contrib.django import bound


class Command(BaseCommand):
    """``python manage.py check_lists [--seed N] [--people N] [--deals N]``, on an empty, migrated database."""

    help = "Seed a CRM; then prove each person's deal list, and deal pages, are what can() allows."

    def add_arguments(self, parser: CommandParser) -> None:
        """The world's size, and the seed that draws it."""
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--people", type=int, default=12)
        parser.add_argument("--deals", type=int, default=60)

    def handle(self, *args: Any, **options: Any) -> None:  # noqa: ARG002 - Django's signature
        """Seed, then check every person's pages through the CRM's own views."""
        if User.objects.exists() or Deal.objects.exists():
            raise CommandError("check_lists seeds a CRM of its own: run it on an empty database, after migrate.")
        rng = random.Random(options["seed"])
        own = bound().ownership
        own.add_tenant(TENANT)
        people = [services.add_person(f"p{n}", admin=n == 0) for n in range(options["people"])]
        departments = [services.add_department(f"Department {n}") for n in range(4)]
        for person in people:
            for department in rng.sample(departments, rng.randrange(3)):
                services.join(person, department)
        for n in range(options["deals"]):
            services.open_deal(
                f"Deal {n}",
                rng.randrange(1_000, 50_000, 500),
                owner=rng.choice(people),
                co_owner=rng.choice([None, *people]),
                department=rng.choice([None, *departments]),
            )
        services.leave_the_company(people[-1])  # has left: signs in no more, and ownership lets them see nothing
        deals = list(Deal.objects.order_by("-amount", "id"))
        setup_test_environment()
        logging.getLogger("django.request").setLevel(logging.ERROR)  # a refused page is expected here, not news
        client = Client()
        for person in people:
            allowed = [d.pk for d in deals if own.can(person.get_username(), "view", RecordRef("deal", str(d.pk)))]
            client.force_login(person)
            if not person.is_active:  # has left: Django signs them in no more, and can() allows them nothing
                if allowed or client.get("/deals/").status_code != 302:
                    raise CommandError(f"{person} has left, yet can() allows {allowed} or the list opens")
                continue
            listed = self._listed(client)
            if [pk for pk, _ in listed] != allowed:
                raise CommandError(f"{person}'s list shows {listed}, where can() allows {allowed}")
            for pk, owner in listed:
                [holder] = own.holders(RecordRef("deal", str(pk)), "owner")
                if owner != holder.id:
                    raise CommandError(f"{person}'s list shows deal {pk} as {owner}'s; it is {holder.id}'s")
            for deal in rng.sample(deals, min(10, len(deals))):
                status = client.get(f"/deals/{deal.pk}/").status_code
                if status != (200 if deal.pk in allowed else 404):
                    raise CommandError(f"{person} got {status} for deal {deal.pk}; can() says {deal.pk in allowed}")
        self.stdout.write(f"{len(people)} people, {len(deals)} deals: every list and every page is what can() allows")

    def _listed(self, client: Client) -> list[tuple[int, str]]:
        """The deals the list shows the signed-in person, page after page, each with the owner it shows."""
        listed: list[tuple[int, str]] = []
        page = 1
        while True:
            response = client.get(f"/deals/?page={page}")
            if response.status_code != 200:
                raise CommandError(f"the list's page {page} answered {response.status_code}")
            listed += [(d.pk, d.owner) for d in response.context["deals"]]
            if not response.context["page_obj"].has_next():
                return listed
            page += 1
