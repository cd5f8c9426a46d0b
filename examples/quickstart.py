"""Quickstart: a deal's responsible person, handed over, with its history (TL2, LD5, X2).

Run it: ``python examples/quickstart.py``.
"""

from ownership import MandatoryRoleError, Ownership, presets
from ownership.adapters.memory import MemoryRepository

own = Ownership(presets.account_managers(), MemoryRepository())
own.add_tenant("acme", name="Acme Ltd", plan="go")
anna = own.add_user("acme", "Anna", id="anna")
bob = own.add_user("acme", "Bob", id="bob")

deal = own.create("deal", actor=anna, id="D-1")
print("responsible after creation:", [a.id for a in own.holders(deal, "responsible")])

own.assign(deal, "responsible", bob, actor=anna)
print("responsible after hand-over:", [a.id for a in own.holders(deal, "responsible")])

try:
    own.unassign(deal, "responsible", bob, actor=anna)
except MandatoryRoleError as error:
    print("refused:", error)

for event in own.history(deal):
    print(f"{event.at:%H:%M:%S}", type(event).__name__, getattr(event, "assignee", ""), "by", event.actor)
