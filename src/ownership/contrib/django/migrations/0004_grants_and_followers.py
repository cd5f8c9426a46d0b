"""Schema version 6: the tables of records shared with users and groups, and of the users who follow records.

The tables are made in place, data kept; their read-only models are recorded in Django's migration state.
"""

from django.db import migrations, models

from ownership.contrib.django.repository import create_tables


class Migration(migrations.Migration):
    """Bring `ownership`'s tables made by an earlier version to the current schema, in the migration's transaction."""

    dependencies = [("ownership", "0003_managers_and_traits")]  # noqa: RUF012 - Django's own class attributes
    operations = [  # noqa: RUF012
        migrations.RunPython(create_tables, migrations.RunPython.noop),
        migrations.CreateModel(
            name="FollowerRow",
            fields=[
                ("kind", models.TextField(db_column="kind")),
                ("record_id", models.TextField(db_column="record_id")),
                ("user_id", models.TextField(db_column="user_id")),
                ("tenant", models.TextField(db_column="tenant")),
                ("since", models.DateTimeField(db_column="since")),
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "kind", "record_id", "user_id", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
            ],
            options={"db_table": "ownership_followers", "managed": False},
        ),
        migrations.CreateModel(
            name="GrantRow",
            fields=[
                ("kind", models.TextField(db_column="kind")),
                ("record_id", models.TextField(db_column="record_id")),
                ("assignee_kind", models.TextField(db_column="assignee_kind")),
                ("assignee_id", models.TextField(db_column="assignee_id")),
                ("tenant", models.TextField(db_column="tenant")),
                ("level", models.TextField(db_column="level")),
                ("since", models.DateTimeField(db_column="since")),
                ("until", models.DateTimeField(db_column="until", null=True)),
                ("actor", models.TextField(db_column="actor", null=True)),
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "kind",
                        "record_id",
                        "assignee_kind",
                        "assignee_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
            ],
            options={"db_table": "ownership_grants", "managed": False},
        ),
    ]
