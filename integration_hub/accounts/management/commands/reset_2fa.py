"""Remove a user's second-factor devices (a lost phone): they set up a new one at next sign-in."""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from integration_hub.accounts.twofactor import reset


class Command(BaseCommand):
    help = "Remove a user's authenticator and recovery codes; they set up new ones at their next sign-in."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user named {username!r}") from None
        removed = reset(user)
        self.stdout.write(f"{username}: {removed} second-factor devices removed; "
                          "they will set up a new authenticator at their next sign-in if it is required.")
        self.stdout.write(json.dumps({"reset_2fa": username, "devices_removed": removed}))
