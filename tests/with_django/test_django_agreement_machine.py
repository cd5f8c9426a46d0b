"""The agreement state machine (X8) on `DjangoRepository`: every read agrees with the in-memory repository's,
whatever the steps, on Django's own connection to SQLite and to PostgreSQL.
"""

from django_host import HostDatabase
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from ownership.contrib.django import DjangoRepository
from ownership.ports import Repository
from ownership.testing.machine import agreement

pytest_plugins = ("django_host",)

SHORT = settings(max_examples=4, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_x8_the_django_repository_agrees_with_the_in_memory_one(host: HostDatabase) -> None:
    def empty() -> Repository:
        host.empty()
        return DjangoRepository(host.alias)

    run_state_machine_as_test(agreement(empty), settings=SHORT)
