"""Benchmark: a 1,000,000-line settlement report through parse + categorise + journal.

    .venv/bin/python bench/bench_settlement.py [--lines N] [--import]

Generates the report into a temporary file (not timed), then streams it through the parser and the
journal builder with the UK GL rules held in memory (no database on the measured path). With
--import it also times the full import into DATABASE_URL (COPY of every line, journal, reconciliation)
inside a transaction that is rolled back. Peak memory is the process's peak resident set size.
Ends with one JSON line.
"""

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")
os.environ.setdefault("HUB_DEBUG", "1")

import django  # noqa: E402

django.setup()

from integration_hub.finance.journal import Categoriser, JournalBuilder  # noqa: E402
from integration_hub.finance.parser import SettlementReader  # noqa: E402
from mappings.models import GlAccountMap  # noqa: E402

TARGET_SECONDS = 20
TARGET_MB = 300
COLUMNS = ["settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount",
           "currency", "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id",
           "marketplace-name", "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date",
           "posted-date-time", "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku",
           "quantity-purchased", "promotion-id"]
RULES = [
    ("Order", "ItemPrice", "Principal", "4000", "Amazon sales"),
    ("Order", "ItemPrice", "Shipping", "4010", "Amazon shipping income"),
    ("*", "ItemPrice", "Tax", "2200", "VAT on Amazon sales"),
    ("*", "ItemPrice", "ShippingTax", "2200", "VAT on Amazon sales"),
    ("*", "ItemFees", "*", "6100", "Amazon fees"),
    ("*", "Promotion", "*", "4900", "Amazon promotions"),
    ("Refund", "ItemPrice", "*", "4050", "Amazon refunds"),
    ("ServiceFee", "Cost of Advertising", "*", "6200", "Amazon advertising"),
    ("other-transaction", "other-transaction", "*Reserve*", "1250", "Amazon reserve"),
    ("other-transaction", "other-transaction", "Unavailable balance", "1250", "Amazon reserve"),
    ("other-transaction", "other-transaction", "*", "6400", "Amazon other fees"),
    ("Hub", "Deposit", "*", "1200", "Amazon deposit"),
    ("Hub", "Clearing", "*", "1210", "Amazon settlement clearing"),
]
MARKETPLACES = ["Amazon.co.uk", "Amazon.de", "Amazon.fr"]


def order_rows(n, rng):
    """The rows of one order item, as (transaction type, amount type, description, amount) plus ids."""
    price = Decimal(rng.randint(199, 9999)) / 100
    tax = (price / 6).quantize(Decimal("0.01"))
    fee = -(price * Decimal("0.15")).quantize(Decimal("0.01"))
    rows = [("Order", "ItemPrice", "Principal", price), ("Order", "ItemPrice", "Tax", tax),
            ("Order", "ItemFees", "Commission", fee),
            ("Order", "ItemFees", "FBAPerUnitFulfillmentFee", Decimal("-2.41"))]
    if n % 7 == 0:
        rows.append(("Order", "Promotion", "Principal", Decimal("-1.00")))
    if n % 50 == 0:
        rows += [("Refund", "ItemPrice", "Principal", -price), ("Refund", "ItemFees", "Commission", -fee)]
    return rows


def generate(path, lines):
    """Write a settlement of about `lines` detail rows spanning a month end; returns its total."""
    rng = random.Random(42)
    width = len(COLUMNS)
    position = {name: i for i, name in enumerate(COLUMNS)}
    total = Decimal("0")
    with open(path, "wb") as out:
        out.write(("\t".join(COLUMNS) + "\n").encode())
        # The total is known only at the end: leave it blank-padded and fill it in afterwards.
        total_at = out.tell() + len("\t".join(["98765432101", "2026-10-25 00:00:00 UTC", "2026-11-08 00:00:00 UTC",
                                                "2026-11-10 00:00:00 UTC"])) + 1
        summary = ["98765432101", "2026-10-25 00:00:00 UTC", "2026-11-08 00:00:00 UTC", "2026-11-10 00:00:00 UTC",
                   " " * 20, "GBP"] + [""] * (width - 6)
        out.write(("\t".join(summary) + "\n").encode())
        written, n = 0, 0
        while written < lines:
            n += 1
            day = 25 + n * 14 // (lines // 4 + 1)  # Oct 25 .. Nov 7
            posted = f"2026-10-{day:02d}" if day <= 31 else f"2026-11-{day - 31:02d}"
            order_id = f"202-{n % 10**7:07d}-{n * 7919 % 10**7:07d}"
            for tt, at, ad, amount in order_rows(n, rng):
                cells = [""] * width
                cells[position["transaction-type"]] = tt
                cells[position["order-id"]] = order_id
                cells[position["marketplace-name"]] = MARKETPLACES[n % 3]
                cells[position["amount-type"]] = at
                cells[position["amount-description"]] = ad
                cells[position["amount"]] = str(amount)
                cells[position["fulfillment-id"]] = "MFN"
                cells[position["posted-date"]] = posted
                cells[position["order-item-code"]] = f"{n:014d}"
                cells[position["sku"]] = f"SKU-{n % 5000}"
                cells[position["quantity-purchased"]] = "1" if ad == "Principal" else ""
                out.write(("\t".join(cells) + "\n").encode())
                total += amount
                written += 1
        out.seek(total_at)
        out.write(str(total).rjust(20).encode())
    return total


def parse_and_journal(path):
    categoriser = Categoriser([GlAccountMap(transaction_type=tt, amount_type=at, amount_description=ad,
                                            gl_account=gl, description=text) for tt, at, ad, gl, text in RULES])
    with open(path, "rb") as stream:
        reader = SettlementReader(stream)
        builder = JournalBuilder(reader.summary, categoriser)
        for row in reader.rows():
            builder.add(row)
        reader.check_total()
    return reader, builder.build()


def full_import(path):
    from django.db import transaction

    from connectors.models import SellerAccount
    from integration_hub.finance.importer import import_settlement

    with transaction.atomic():
        account = SellerAccount.objects.create(name="bench-settlement", seller_id="BENCHSETTLEMENT")
        for tt, at, ad, gl, text in RULES:
            GlAccountMap.objects.get_or_create(transaction_type=tt, amount_type=at, amount_description=ad,
                                               defaults={"gl_account": gl, "description": text})
        started = time.perf_counter()
        with open(path, "rb") as stream:
            result = import_settlement(account, stream, source_name="bench", check_back_office=False)
        seconds = time.perf_counter() - started
        lines = result.settlement.line_count
        transaction.set_rollback(True)
    return seconds, lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--import", dest="full", action="store_true", help="also time the import into the DB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "settlement.txt"
        started = time.perf_counter()
        generate(path, args.lines)
        generated = time.perf_counter() - started
        size_mb = path.stat().st_size / 2**20
        print(f"generated {args.lines} lines ({size_mb:.0f} MB) in {generated:.1f} s")
        baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        reader, draft = parse_and_journal(path)
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        balanced = all(journal.totals()[0] == journal.totals()[1] for journal in draft.journals)
        print(f"parse+categorise+journal: {reader.count} lines in {seconds:.1f} s "
              f"({reader.count / seconds:,.0f} lines/s), peak RSS {peak_mb:.0f} MB "
              f"(before: {baseline_mb:.0f} MB), {len(draft.journals)} journals, balanced={balanced}")
        result = {"bench": "settlement", "lines": reader.count, "file_mb": round(size_mb, 1),
                  "seconds": round(seconds, 2), "peak_rss_mb": round(peak_mb), "journals": len(draft.journals),
                  "balanced": balanced, "targets": {"seconds": TARGET_SECONDS, "peak_rss_mb": TARGET_MB}}
        if args.full:
            import_seconds, stored = full_import(path)
            print(f"full import (COPY + journal + reconciliation, rolled back): {stored} lines "
                  f"in {import_seconds:.1f} s")
            result["import_seconds"] = round(import_seconds, 2)
            result["import_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result["ok"] = balanced and seconds < TARGET_SECONDS and peak_mb < TARGET_MB
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
