"""The models that read `ownership`'s tables (unmanaged: the first migration made the tables)."""

from django.db import migrations, models

import ownership.contrib.django.models


class Migration(migrations.Migration):
    """Record the read-only models of `ownership`'s tables in Django's migration state; no table changes."""

    dependencies = [  # noqa: RUF012 - Django's own class attributes
        ("ownership", "0001_initial"),
    ]

    operations = [  # noqa: RUF012
        migrations.CreateModel(
            name="EventRow",
            fields=[
                ("kind", models.TextField(db_column="kind")),
                ("record_id", models.TextField(db_column="record_id")),
                ("position", models.IntegerField(db_column="position")),
                ("body", models.JSONField(db_column="body")),
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "kind", "record_id", "position", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
            ],
            options={
                "db_table": "ownership_events",
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="GroupRow",
            fields=[
                ("id", models.TextField(db_column="id", primary_key=True, serialize=False)),
                ("tenant", models.TextField(db_column="tenant")),
                ("name", models.TextField(db_column="name")),
                ("kind", models.TextField(db_column="kind")),
                ("personal_of", models.TextField(db_column="personal_of", null=True)),
            ],
            options={
                "db_table": "ownership_groups",
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="HoldingRow",
            fields=[
                ("seq", models.BigIntegerField(db_column="seq", primary_key=True, serialize=False)),
                ("kind", models.TextField(db_column="kind")),
                ("record_id", models.TextField(db_column="record_id")),
                ("role", models.TextField(db_column="role")),
                ("tenant", models.TextField(db_column="tenant")),
                ("assignee_kind", models.TextField(db_column="assignee_kind")),
                ("assignee_id", models.TextField(db_column="assignee_id")),
                ("since", models.DateTimeField(db_column="since")),
                ("actor", models.TextField(db_column="actor", null=True)),
            ],
            options={
                "db_table": "ownership_assignments",
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="MembershipRow",
            fields=[
                ("group_id", models.TextField(db_column="group_id")),
                ("user_id", models.TextField(db_column="user_id")),
                ("until", models.DateTimeField(db_column="until", null=True)),
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "group_id", "user_id", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
            ],
            options={
                "db_table": "ownership_memberships",
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="OutboxRow",
            fields=[
                ("seq", models.BigIntegerField(db_column="seq", primary_key=True, serialize=False)),
                ("key", models.TextField(db_column="key")),
                ("kind", models.TextField(db_column="kind")),
                ("record_id", models.TextField(db_column="record_id")),
                ("body", models.JSONField(db_column="body")),
                ("attempts", models.IntegerField(db_column="attempts")),
                ("delivered", models.BooleanField(db_column="delivered")),
                ("dead", models.BooleanField(db_column="dead")),
                ("next_attempt_at", models.DateTimeField(db_column="next_attempt_at", null=True)),
                ("claim_token", models.TextField(db_column="claim_token", null=True)),
                ("claimed_until", models.DateTimeField(db_column="claimed_until", null=True)),
            ],
            options={
                "db_table": "ownership_outbox",
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="RecordRow",
            fields=[
                ("kind", models.TextField(db_column="kind")),
                ("id", models.TextField(db_column="id")),
                ("tenant", models.TextField(db_column="tenant")),
                ("created_at", models.DateTimeField(db_column="created_at")),
                ("shared_with", ownership.contrib.django.models.NamesField(db_column="shared_with")),
                ("offered_to", ownership.contrib.django.models.NamesField(db_column="offered_to")),
                ("name", models.TextField(db_column="name", null=True)),
                ("name_key", models.TextField(db_column="name_key", null=True)),
                ("status", models.TextField(db_column="status", null=True)),
                ("number", models.TextField(db_column="number", null=True)),
                ("labels", ownership.contrib.django.models.NamesField(db_column="labels")),
                ("groups", ownership.contrib.django.models.NamesField(db_column="groups")),
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "kind", "id", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
            ],
            options={
                "db_table": "ownership_records",
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="TenantRow",
            fields=[
                ("id", models.TextField(db_column="id", primary_key=True, serialize=False)),
                ("name", models.TextField(db_column="name")),
                ("plan", models.TextField(db_column="plan", null=True)),
                ("switches", ownership.contrib.django.models.NamesField(db_column="switches")),
            ],
            options={
                "db_table": "ownership_tenants",
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="UserRow",
            fields=[
                ("id", models.TextField(db_column="id", primary_key=True, serialize=False)),
                ("tenant", models.TextField(db_column="tenant")),
                ("name", models.TextField(db_column="name")),
                ("active", models.BooleanField(db_column="active")),
                ("admin", models.BooleanField(db_column="admin")),
                ("restricted", ownership.contrib.django.models.NamesField(db_column="restricted")),
                ("push", models.BooleanField(db_column="push")),
            ],
            options={
                "db_table": "ownership_users",
                "managed": False,
            },
        ),
    ]
