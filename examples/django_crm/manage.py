"""The example CRM's command line: ``python manage.py migrate``, ``runserver``, ``check_lists``."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
