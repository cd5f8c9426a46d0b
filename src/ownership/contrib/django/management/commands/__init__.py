"""``manage.py ownership``: the ``ownership`` command line, on the `Ownership` the host bound."""
