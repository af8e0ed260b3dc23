"""Pages at a million rows: 1,000,000 exchange-log rows and 100,000 orders (with their lines, shipments
and work), then the render time of the pages ops live in: the home page, the exchange log (first page,
a filtered page, a page deep in history) and the exceptions page. Each is requested in this process
through Django's test client (the full middleware and template stack, the real Postgres), signed in as
ops, after one warm-up request; p50 and p95 over `--requests` each. Target p95 < 300 ms each.

Rows are seeded with set-based SQL (generate_series) under one bench account and removed at the end.

    DATABASE_URL=... python bench/bench_pages.py [--exchanges 1000000] [--orders 100000] [--requests 20]
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")
os.environ.setdefault("HUB_DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from connectors.models import BackOfficeConnection, SellerAccount  # noqa: E402
from integration_hub.exchanges.models import Exchange  # noqa: E402

NAME = "bench-pages"
TARGET_P95_MS = 300


def seed(exchanges, orders):
    connection_row = BackOfficeConnection.objects.create(name=NAME, kind="clarus", endpoint="http://127.0.0.1:1",
                                                         username="bench", secret="bench-not-a-secret")
    account = SellerAccount.objects.create(
        name=NAME, region="eu", seller_id="A2BENCHPAGES01", marketplace_ids=["A1F83G8C2ARO7P"], lwa_app_id="bench",
        lwa_client_secret="bench", refresh_token="bench", back_office=connection_row)
    with connection.cursor() as cursor:
        # Orders over the last 40 days: most sent and shipped, some held, some due soon and unconfirmed.
        cursor.execute("""
            INSERT INTO orders_order (account_id, amazon_order_id, marketplace_id, status, amazon_status, hub_state,
                hold_reason, held_at, held_for_mapping, back_office_ref, back_office_status, fulfillment_channel,
                ship_service_level, ship_method, is_prime, is_business, purchase_date, last_update_date,
                latest_ship_date, currency, order_total, buyer_name, buyer_email, buyer_cancel_reason,
                cancel_refused, created_at, updated_at)
            SELECT %(account)s, '9' || lpad(n::text, 2, '0') || '-' || lpad(n::text, 7, '0') || '-0000000',
                'A1F83G8C2ARO7P',
                CASE WHEN n %% 50 = 0 THEN 'unshipped' ELSE 'shipped' END, 'Shipped',
                CASE WHEN n %% 400 = 0 THEN 'held' ELSE 'sent' END,
                CASE WHEN n %% 400 = 0 THEN 'SKU ''BENCH-' || (n %% 37) || ''' has no active SKU link' ELSE '' END,
                CASE WHEN n %% 400 = 0 THEN now() - interval '1 hour' END, n %% 400 = 0,
                'SO' || n, '', 'MFN', 'STANDARD', 'RM24', n %% 3 = 0, false,
                now() - (n * interval '35 seconds'), now() - (n * interval '35 seconds'),
                now() - (n * interval '35 seconds') + interval '2 days', 'GBP', 19.99, '', '', '', '',
                now() - (n * interval '35 seconds'), now()
            FROM generate_series(1, %(orders)s) AS n""", {"account": account.pk, "orders": orders})
        cursor.execute("""
            INSERT INTO orders_orderline (order_id, order_item_id, sku, asin, title, quantity_ordered,
                quantity_shipped, item_price, item_tax, shipping_price, shipping_tax, promotion_discount,
                item_code, pack_multiplier)
            SELECT o.id, '1' || lpad(o.id::text, 13, '0'), 'BENCH-' || (o.id %% 37), 'B000000000', 'Bench item', 1,
                CASE WHEN o.status = 'shipped' THEN 1 ELSE 0 END, 16.66, 3.33, 0, 0, 0, 'ITEM-' || (o.id %% 37), 1
            FROM orders_order o WHERE o.account_id = %(account)s""", {"account": account.pk})
        cursor.execute("""
            INSERT INTO shipments_shipment (order_id, dispatch_ref, package_reference_id, package_ref, carrier,
                ship_method, tracking_number, shipped_at, confirmation_state, confirmed_at, last_error, created_at)
            SELECT o.id, 'D' || o.id, 1, '', 'Royal Mail', 'RM24', 'JB' || lpad(o.id::text, 9, '0') || 'GB',
                o.purchase_date + interval '6 hours',
                CASE WHEN o.id %% 500 = 0 THEN 'pending' ELSE 'confirmed' END,
                CASE WHEN o.id %% 500 = 0 THEN NULL ELSE o.purchase_date + interval '6 hours 2 minutes' END,
                '', o.purchase_date + interval '6 hours'
            FROM orders_order o WHERE o.account_id = %(account)s AND o.status = 'shipped'""", {"account": account.pk})
        cursor.execute("""
            INSERT INTO exchanges_exchange (system, operation, direction, account_id, correlation_id,
                request_summary, response_summary, http_status, latency_ms, attempt, outcome, error, quota_limit,
                started_at, finished_at)
            SELECT 'amazon', (ARRAY['getOrder','searchOrders','confirmShipment','patchListingsItem','createFeed'])
                    [1 + n %% 5], 'out', %(account)s, '2' || lpad((n %% 100000)::text, 2, '0') || '-' || n,
                '{"bench": true}', '{"ok": true}', CASE WHEN n %% 97 = 0 THEN 429 ELSE 200 END, 50 + n %% 400, 1,
                CASE WHEN n %% 97 = 0 THEN 'transient' ELSE 'ok' END,
                CASE WHEN n %% 97 = 0 THEN 'throttled (429)' ELSE '' END, '',
                now() - (n * interval '2 seconds'), now() - (n * interval '2 seconds') + interval '80 milliseconds'
            FROM generate_series(1, %(exchanges)s) AS n""", {"account": account.pk, "exchanges": exchanges})
        cursor.execute("ANALYZE orders_order; ANALYZE orders_orderline; ANALYZE shipments_shipment; "
                       "ANALYZE exchanges_exchange")
    return account


def cleanup():
    accounts = list(SellerAccount.objects.filter(name=NAME).values_list("pk", flat=True))
    if accounts:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM exchanges_exchange WHERE account_id = ANY(%s)", [accounts])
            cursor.execute("DELETE FROM shipments_shipment WHERE order_id IN (SELECT id FROM orders_order "
                           "WHERE account_id = ANY(%s))", [accounts])
            cursor.execute("DELETE FROM orders_orderline WHERE order_id IN (SELECT id FROM orders_order "
                           "WHERE account_id = ANY(%s))", [accounts])
            cursor.execute("DELETE FROM orders_order WHERE account_id = ANY(%s)", [accounts])
        SellerAccount.objects.filter(pk__in=accounts).delete()
    BackOfficeConnection.objects.filter(name=NAME).delete()
    User.objects.filter(username=NAME).delete()


def timings(client, url, requests):
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    spent = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        spent.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    spent.sort()
    return {"p50_ms": round(statistics.median(spent), 1),
            "p95_ms": round(spent[min(len(spent) - 1, int(0.95 * len(spent)))], 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    cleanup()
    started = time.monotonic()
    account = seed(args.exchanges, args.orders)
    seeded = time.monotonic() - started
    user = User.objects.create_user(NAME, password="bench-pages-password-1", is_staff=True)
    user.groups.add(Group.objects.get(name="ops"))
    client = Client()
    client.force_login(user)
    deep = (Exchange.objects.filter(account=account).order_by("-started_at", "-pk")
            .values_list("started_at", "pk")[args.exchanges * 9 // 10])
    pages = {
        "home": "/",
        "exchanges_first": "/exchanges/",
        "exchanges_filtered": "/exchanges/?system=amazon&operation=confirmShipment&http_status=429",
        "exchanges_deep": f"/exchanges/?before={deep[0].isoformat().replace('+', '%2B')}_{deep[1]}",
        "exceptions": "/exceptions/",
    }
    try:
        results = {name: timings(client, url, args.requests) for name, url in pages.items()}
    finally:
        cleanup()
    for name, figures in results.items():
        print(f"  {name:20s} p50 {figures['p50_ms']:7.1f} ms   p95 {figures['p95_ms']:7.1f} ms")
    print(f"  (seeded {args.exchanges:,} exchange rows and {args.orders:,} orders in {seeded:.0f}s)")
    ok = all(figures["p95_ms"] < TARGET_P95_MS for figures in results.values())
    print(json.dumps({"bench": "pages", "exchanges": args.exchanges, "orders": args.orders, **results,
                      "targets": {"p95_ms_max": TARGET_P95_MS}, "ok": ok}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
