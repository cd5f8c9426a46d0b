"""The rooms `Ownership` is assembled from: one module per area of use cases, over a few shared bases.

Hosts use `ownership.Ownership`; nothing here is imported by them. Each room is
a class whose bases are what it may use, so mypy refuses a room that reaches
into another it does not name (see docs/design.md):

- `_unit.Units`: the state `Ownership` is built with, units of work, retried use cases;
- `_lookups.Lookups`: reading one tenant, user, group or record, or refusing;
- `_viewing.Viewing`: what a viewer may see, resolved once and reused;
- `_writer.Writer`: the one writer of holders, their events and the notices they cause;
- `_settings`: the tenant settings, the only code that knows their keys and JSON.
"""
