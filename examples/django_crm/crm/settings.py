"""The example CRM's settings: a SQLite file beside it, or the database ``CRM_DATABASE_URL`` names.

``CRM_DATABASE_URL`` takes ``sqlite:///path/crm.db`` or ``postgresql://user@host:port/name``.
"""

import os
from pathlib import Path

from sqlalchemy.engine import make_url

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "an example's key, never a real one"
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
ROOT_URLCONF = "crm.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGIN_URL = "/admin/login/"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "ownership.contrib.django",  # ownership's tables, made by `migrate`
    "deals",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
# Django's own backend for model-wide permissions, ownership's for each deal.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "ownership.contrib.django.OwnershipBackend",
]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]


def _database(url: str) -> dict[str, str]:
    parts = make_url(url)
    if parts.get_backend_name() == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": parts.database or str(BASE_DIR / "crm.db")}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.database or "",
        "USER": parts.username or "",
        "PASSWORD": parts.password or "",
        "HOST": parts.host or "",
        "PORT": str(parts.port or ""),
    }


DATABASES = {"default": _database(os.environ.get("CRM_DATABASE_URL", f"sqlite:///{BASE_DIR / 'crm.db'}"))}
