"""The example CRM's deals: each has an owner, maybe a co-owner, maybe a department that cares for it."""
