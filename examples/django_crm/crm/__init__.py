"""A small Django CRM that asks `ownership` who may see and change its deals."""
