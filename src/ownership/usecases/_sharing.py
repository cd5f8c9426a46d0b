"""Reaching the grants and followers a repository keeps, through its optional ports, or saying it keeps none."""

from collections.abc import Sequence
from typing import cast

from ownership.errors import UnsupportedError
from ownership.model import Follower, Grant, RecordRef
from ownership.ports import KeepsFollowers, KeepsGrants, Transaction
from ownership.usecases._unit import offers


def keeping_grants(tx: Transaction) -> KeepsGrants:
    """The unit, as one that keeps grants; refused for a repository whose units do not."""
    return cast(KeepsGrants, _keeping(tx, "put_grant", "grants", KeepsGrants))


def keeping_followers(tx: Transaction) -> KeepsFollowers:
    """The unit, as one that keeps followers; refused for a repository whose units do not."""
    return cast(KeepsFollowers, _keeping(tx, "put_follower", "followers", KeepsFollowers))


def _keeping(tx: Transaction, method: str, what: str, port: type) -> Transaction:
    if not offers(type(tx), method):
        raise UnsupportedError(
            f"The repository keeps no {what}: its units ({type(tx).__name__}) lack the methods of "
            f"ownership.ports.{port.__name__}; add them, or use a repository of ownership's own."
        )
    return tx


def tenant_grants(tx: Transaction, tenant: str) -> Sequence[Grant]:
    """Every grant to `tenant`'s people and groups; none where the repository keeps no grants."""
    return keeping_grants(tx).grants_in(tenant) if offers(type(tx), "grants_in") else ()


def tenant_followers(tx: Transaction, tenant: str) -> Sequence[Follower]:
    """Every follower of `tenant`; none where the repository keeps no followers."""
    return keeping_followers(tx).followers_in(tenant) if offers(type(tx), "followers_in") else ()


def record_grants(tx: Transaction, ref: RecordRef) -> Sequence[Grant]:
    """The grants of one record, live or not, by assignee; none where the repository keeps no grants."""
    return keeping_grants(tx).grants(ref) if offers(type(tx), "grants") else ()


def record_followers(tx: Transaction, ref: RecordRef) -> Sequence[Follower]:
    """The followers of one record, by user id; none where the repository keeps no followers."""
    return keeping_followers(tx).followers(ref) if offers(type(tx), "followers") else ()
