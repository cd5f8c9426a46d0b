"""The audit room (src/ownership/usecases/audit.py): what an admin must fix (CG2, CG4, X3, X5, LD7)."""

from collections.abc import Callable
from datetime import timedelta

import pytest

from conftest import make, seen
from ownership import (
    Assignee,
    AutoAssign,
    Finding,
    GroupKind,
    Ownership,
    Policy,
    Profile,
    Role,
    Rulebook,
    Trigger,
    UnknownTenantError,
    presets,
)
from ownership.testing import FakeClock

ANNA, BOB, DORA, RITA = (Assignee.user(name) for name in ("anna", "bob", "dora", "rita"))


# --- audit: what an admin must fix ------------------------------------------------------------


def findings(own: Ownership, tenant: str) -> list[tuple[str, str]]:
    found = own.audit(tenant)
    for finding in found:
        assert finding.message.endswith("."), f"not a sentence: {finding.message!r}"
    return [(f.kind, f.subject) for f in found]


def test_cg2_cg4_x5_audit_finds_unseen_records_empty_groups_non_admins_without_group_and_expired_deputies(
    build: Callable[[Rulebook], Ownership], clock: FakeClock
) -> None:
    own = build(presets.caretaker_groups())
    own.add_tenant("meier-gmbh")
    own.add_user("meier-gmbh", "Anna", id="anna", admin=True)
    own.add_user("meier-gmbh", "Meier", id="meier", personal_caretaker_group=True)
    own.add_user("meier-gmbh", "Mueller", id="mueller", personal_caretaker_group=True)
    own.add_user("meier-gmbh", "Bob", id="bob")
    own.add_group("meier-gmbh", "Region South", GroupKind.CARETAKER, id="south")
    own.add_group("meier-gmbh", "Support", GroupKind.TEAM, id="support")
    own.add_member("support", "bob")
    meiers, muellers = own.personal_group("meier"), own.personal_group("mueller")
    assert meiers is not None
    assert muellers is not None
    own.create("customer", actor="anna", id="K-1", holders={"caretaker_group": meiers})
    own.create("customer", actor="anna", id="K-2")
    own.create("customer", actor="anna", id="K-3", holders={"caretaker_group": Assignee.group("south")})
    own.create("customer", actor="anna", id="K-4", holders={"caretaker_group": muellers})
    own.add_member(meiers, "mueller", until=clock.now + timedelta(days=7))
    assert findings(own, "meier-gmbh") == [
        ("group_without_members", "south"),
        ("no_caretaker_group", "bob"),
        ("unseen_record", "customer K-2"),
        ("unseen_record", "customer K-3"),
    ]

    clock.advance(days=7)

    assert findings(own, "meier-gmbh") == [
        ("expired_deputy", f"{meiers.id}/mueller"),
        ("group_without_members", "south"),
        ("no_caretaker_group", "bob"),
        ("unseen_record", "customer K-2"),
        ("unseen_record", "customer K-3"),
    ]
    assert own.audit("meier-gmbh")[0].message == (
        "Mueller's cover in group 'Meier' ended 2026-01-12 09:00; remove the membership."
    )


def test_cg4_audit_reports_a_group_whose_only_membership_expired(
    build: Callable[[Rulebook], Ownership], clock: FakeClock
) -> None:
    own = build(presets.caretaker_groups())
    own.add_tenant("meier-gmbh")
    own.add_user("meier-gmbh", "Meier", id="meier", personal_caretaker_group=True)
    own.add_group("meier-gmbh", "Region North", GroupKind.CARETAKER, id="north")
    own.add_member("north", "meier", until=clock.now + timedelta(hours=1))
    own.create("customer", actor="meier", id="K-1", holders={"caretaker_group": Assignee.group("north")})
    assert findings(own, "meier-gmbh") == []

    clock.advance(hours=1)

    assert findings(own, "meier-gmbh") == [
        ("expired_deputy", "north/meier"),
        ("group_without_members", "north"),
        ("unseen_record", "customer K-1"),
    ]


def test_x3_audit_finds_a_mandatory_role_held_by_an_inactive_user(acme: Ownership) -> None:
    acme.update_user("bob", active=False)

    assert acme.audit("acme") == (
        Finding(
            "inactive_holder",
            "deal D-3",
            "The responsible of deal D-3 is Bob, who is inactive; hand it to someone active.",
        ),
    )  # Bob still manages company C-1, but that role is optional


def test_cg2_audit_finds_records_that_only_admins_see(acme: Ownership) -> None:
    acme.update_user("anna", profile=Profile(restricted={"company"}))
    acme.update_user("rita", profile=Profile(restricted={"company", "deal"}))

    assert findings(acme, "acme") == [("unseen_record", "company C-3")]
    assert findings(acme, "globex") == []


def test_cg2_audit_does_not_report_a_record_a_non_admin_sees_when_the_tenant_also_holds_shared_records(
    build: Callable[[Rulebook], Ownership],
) -> None:
    own = build(presets.lead_exchange())
    own.add_tenant("acme")
    own.add_tenant("globex")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("globex", "Paul", id="paul")
    forwarded = own.create("lead", actor="anna", id="L-1")
    own.share(forwarded, "globex", actor="anna")
    own.accept(forwarded, actor="paul")
    own.create("lead", actor="paul", id="L-2")

    assert seen(own, "paul", "lead") == ["L-1", "L-2"]
    assert findings(own, "globex") == []


def test_audit_of_an_unknown_tenant_is_refused(acme: Ownership) -> None:
    with pytest.raises(UnknownTenantError, match="There is no tenant 'initech'"):
        acme.audit("initech")


def private_mandatory_leads() -> Rulebook:
    colleague = Role("colleague", min=1, private=True)
    auto = (AutoAssign(Trigger.CREATED, "colleague"), AutoAssign(Trigger.ACCEPTED, "colleague"))
    return Rulebook((Policy("lead", (colleague,), auto_assign=auto),))


def test_ld7_audit_speaks_of_its_own_tenants_holders_only(clock: FakeClock) -> None:
    own = make(private_mandatory_leads(), clock)
    own.add_tenant("acme")
    own.add_tenant("globex")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("globex", "Quentin", id="quentin")
    lead = own.create("lead", actor="anna", id="L-1")
    own.share(lead, "globex", actor="anna")
    own.accept(lead, actor="quentin")
    own.update_user("quentin", active=False)

    assert [f.message for f in own.audit("acme")] == []
