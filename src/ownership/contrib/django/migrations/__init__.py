"""The migrations of `ownership`'s tables, for Django's ``migrate``."""
