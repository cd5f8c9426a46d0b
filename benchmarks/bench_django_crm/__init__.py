"""The Django benchmark's CRM: deals keyed by integers, each with its owner and department in its own columns."""
