"""A small Django CRM's models, the host of the Django tests: its rows are records `ownership` tracks."""
