#!/usr/bin/env python3
"""The test project: ps-web's shapes (users.User, users.OrgAccount, users.Membership,
allauth's social accounts) with org_token_edge installed. `python3 manage.py test`."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]  # the project, and org_token_edge uninstalled

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
