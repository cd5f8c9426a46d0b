"""Schema version 5: a user gains whom they report to, and the traits a rule reads; made in place, data kept."""

from django.db import migrations

from ownership.contrib.django.repository import create_tables


class Migration(migrations.Migration):
    """Bring `ownership`'s tables made by an earlier version to the current schema, in the migration's transaction."""

    dependencies = [("ownership", "0002_rows")]  # noqa: RUF012 - Django's own class attributes
    operations = [migrations.RunPython(create_tables, migrations.RunPython.noop)]  # noqa: RUF012
