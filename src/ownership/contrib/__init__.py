"""What `ownership` offers the frameworks its hosts are built on, each imported only by a host that uses it.

- `django`: a viewer's filter as a condition of a Django queryset (the ``django`` extra).
"""
