"""Demo data: users for each role, a seller account on the Amazon emulator, a back office on its
emulator, and the shipped default mapping tables. Safe to run again: it updates, never duplicates."""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand

from connectors.amazon import emulator
from connectors.choices import BackOfficeKind
from connectors.models import BackOfficeConnection, SellerAccount
from connectors.sql import django_database_url
from mappings.models import ShipLevelMap, SkuLink, StockBuffer

DEFAULTS = Path(settings.BASE_DIR) / "mappings" / "defaults"
DEFAULT_KINDS = ["carriers", "ship-levels", "gl-accounts", "order-statuses", "custom-fields"]
UK = "A1F83G8C2ARO7P"
DEMO_SKUS = 12

# The SQL back offices name ship methods by short codes (SL ShipViaID is char15).
SHIP_METHOD_CODES = {
    "Royal Mail Tracked 24": "RM24", "Royal Mail Tracked 48": "RM48", "DPD Next Day": "DPDNEXT",
    "Evri 48": "EVRI48", "Parcelforce express24": "PF24",
}


def back_office_settings(kind, database_url):
    """How the demo reaches each back-office emulator (see each emulator's command)."""
    if kind == BackOfficeKind.CLARUS:
        return {"endpoint": "http://127.0.0.1:8200", "username": "demo-client", "secret": "demo-secret",
                "webhook_token": "demo-clarus-webhook",
                "options": {"subdomain": "demo", "account_id": 1, "warehouse_id": 1}}
    var = Path(settings.BASE_DIR) / "var"
    if kind == BackOfficeKind.DYNAMICS_SL:  # as `dynamics_sl_emulator` prints them
        return {"endpoint": database_url, "options": {
            "schema": "dynamics_sl", "company_id": "0060", "site_id": "MAIN", "ti_poll_seconds": 1,
            "ti_drop_dir": str(var / "dynamics_sl" / "drop"), "ti_log_dir": str(var / "dynamics_sl" / "log")}}
    return {"endpoint": database_url, "options": {"schema": "sage500", "company_id": "DEM",
                                                  "customer_id": "AMAZON", "warehouse_id": "MAIN"}}


class Command(BaseCommand):
    help = "Load demo users, connections and the default mapping tables (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--back-office", choices=BackOfficeKind.values, default=BackOfficeKind.CLARUS)
        parser.add_argument("--amazon-url", default="http://127.0.0.1:8100")
        parser.add_argument("--password", default="", help="Demo users' password (default: random, printed).")

    def handle(self, *args, back_office, amazon_url, password, **options):
        password = password or secrets.token_urlsafe(12)
        for role in ("ops", "finance", "admin"):
            user, _ = User.objects.get_or_create(username=role, defaults={"is_staff": True})
            user.is_staff = True
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])

        connection, _ = BackOfficeConnection.objects.update_or_create(
            name=f"Demo {BackOfficeKind(back_office).label}",
            defaults={"kind": back_office, **back_office_settings(
                back_office, django_database_url(settings.DATABASES["default"]).render_as_string(hide_password=False))},
        )
        BackOfficeConnection.objects.exclude(pk=connection.pk).update(active=False)
        connection.active = True
        connection.save(update_fields=["active"])
        account, _ = SellerAccount.objects.update_or_create(
            name="Demo UK seller",
            defaults={"seller_id": emulator.SELLER_ID, "region": "eu", "marketplace_ids": [UK],
                      "endpoint": amazon_url, "token_url": f"{amazon_url}/auth/o2/token",
                      "lwa_app_id": emulator.CLIENT_ID, "lwa_client_secret": emulator.CLIENT_SECRET,
                      "refresh_token": emulator.REFRESH_TOKEN, "back_office": connection},
        )

        for kind in DEFAULT_KINDS:
            call_command("import_mappings", kind, str(DEFAULTS / f"{kind}.csv"), stdout=self.stdout)
        if back_office != BackOfficeKind.CLARUS:
            for name, code in SHIP_METHOD_CODES.items():
                ShipLevelMap.objects.filter(warehouse_ship_method=name).update(warehouse_ship_method=code)
        tiers = ["fast", "fast", "medium", "medium", "medium", "slow"]
        for n in range(1, DEMO_SKUS + 1):
            SkuLink.objects.update_or_create(
                account=account, seller_sku=f"DEMO-SKU-{n:03d}",
                defaults={"item_code": f"DEMO-{n:03d}", "velocity_tier": tiers[n % len(tiers)], "handling_days": 1},
            )
        for tier, units, percent in (("fast", 2, 10), ("medium", 1, 5), ("slow", 0, 0)):
            StockBuffer.objects.update_or_create(account=account, seller_sku="", velocity_tier=tier,
                                                 defaults={"fixed_units": units, "percent": percent})
        self.stdout.write(self.style.SUCCESS(
            f"Demo ready: users ops, finance, admin with password {password}; back office {connection}."))
