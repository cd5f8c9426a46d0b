"""The ``ownership`` app's management commands."""
