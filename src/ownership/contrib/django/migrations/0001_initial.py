"""`ownership`'s tables and indexes at the current schema version, or an older version's migrated in place."""

from django.db import migrations

from ownership.contrib.django.repository import create_tables, drop_tables


class Migration(migrations.Migration):
    """Make `ownership`'s tables in the database being migrated, in the migration's transaction."""

    initial = True
    dependencies = []  # noqa: RUF012 - Django's own class attributes
    operations = [migrations.RunPython(create_tables, drop_tables)]  # noqa: RUF012
