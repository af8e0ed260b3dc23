"""The daily drift check: read Amazon's quantities back and re-push every SKU that differs.

    start_checks()    # ask Amazon for each account's listings report (GET_MERCHANT_LISTINGS_ALL_DATA)
    follow_checks()   # when a report is done: compare, flag and re-push what drifted

Amazon lowers a listing's quantity itself as orders arrive, so a SKU has drifted only when Amazon
shows more than the hub pushed, or less than that minus the units ordered since. SKUs pushed after
the report was asked for, or whose push is in an unfinished feed, are not judged.
"""

import csv
import io
import logging

from django.db.models import Q
from django.utils import timezone

from integration_hub.inventory.models import StockCheck, StockPush
from integration_hub.inventory.services import open_feed_skus, push_tiers_now
from integration_hub.orders import connect

logger = logging.getLogger(__name__)

LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"
FAILED = ("CANCELLED", "FATAL")


def start_checks(accounts):
    """Request a listings report for each account that has pushed stock and has no check under way."""
    connect.for_each(accounts, start_check)


def start_check(account):
    if StockCheck.objects.filter(account=account, done=False).exists():
        return None
    if not StockPush.objects.filter(account=account).exists():
        return None
    requested_at = timezone.now()
    report_id = connect.amazon(account).request_report(LISTINGS_REPORT)
    return StockCheck.objects.create(account=account, report_id=report_id, requested_at=requested_at)


def follow_checks():
    """Move every unfinished check on; an account Amazon does not answer now is tried at the next run."""
    connect.for_each(StockCheck.objects.filter(done=False).select_related("account"), follow_check)


def follow_check(check):
    amazon = connect.amazon(check.account)
    status, document_id = amazon.report_state(check.report_id)
    if status in FAILED:
        _finish(check, status, note=f"Amazon ended the listings report {status}; the next check tries again")
    elif status == "DONE":
        try:
            quantities = read_listings_report(amazon.download_report(document_id))
        except ValueError as exc:
            _finish(check, status, note=str(exc))
        else:
            checked, drifted = compare(check, quantities)
            _finish(check, status, skus_checked=checked, drifted=drifted)
    else:
        StockCheck.objects.filter(pk=check.pk).update(status=status)


def _finish(check, status, **fields):
    StockCheck.objects.filter(pk=check.pk).update(status=status, done=True, finished_at=timezone.now(), **fields)


def listings_rows(content, required=("seller-sku",)):
    """A listings report's rows as dicts by column name (drift check, catalogue onboarding); ValueError
    when a `required` column is missing."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")  # Amazon's EU flat files are often Windows-1252
    rows = csv.DictReader(io.StringIO(text), delimiter="\t")
    missing = set(required) - set(rows.fieldnames or ())
    if missing:
        raise ValueError(f"listings report: no {' or '.join(sorted(missing))} column in its header")
    return rows


def read_listings_report(content):
    """{seller-sku: quantity} of merchant-fulfilled listings; ValueError naming what is wrong."""
    rows = listings_rows(content, required=("seller-sku", "quantity"))
    quantities = {}
    for line, row in enumerate(rows, start=2):
        raw = (row.get("quantity") or "").strip()
        if not raw:
            continue  # fulfilled by Amazon: no merchant quantity
        try:
            quantities[row["seller-sku"]] = int(raw)
        except ValueError:
            raise ValueError(f"listings report line {line}: quantity {raw!r} is not a whole number") from None
    return quantities


def compare(check, quantities):
    """Flag and re-push drifted SKUs; returns (SKUs checked, SKUs drifted)."""
    account = check.account
    waiting = open_feed_skus(account)
    pushes = {push.sku: push for push in StockPush.objects.filter(
        account=account, sku__in=list(quantities), pushed_at__lt=check.requested_at, last_error="")
        if push.sku not in waiting}
    suspects = [sku for sku, push in pushes.items() if quantities[sku] != push.quantity]
    sold = _sold_since(account, {sku: pushes[sku].pushed_at for sku in suspects})
    drifted = [sku for sku in suspects
               if not pushes[sku].quantity - sold.get(sku, 0) <= quantities[sku] <= pushes[sku].quantity]
    for sku in drifted:
        pushes[sku].last_error = (f"drift: Amazon showed {quantities[sku]}, the hub last pushed "
                                  f"{pushes[sku].quantity} (check of {check.requested_at:%Y-%m-%d %H:%M}); sent again")
    StockPush.objects.bulk_update([pushes[sku] for sku in drifted], ["last_error"], batch_size=1000)
    if drifted:
        logger.warning("stock drift on %s: %d SKUs differ from what the hub pushed", account, len(drifted))
        push_tiers_now(account, drifted)
    return len(pushes), len(drifted)


def _sold_since(account, pushed_at):
    """{sku: units in orders placed after the SKU's last push, or that reached the hub after it (Amazon
    had already counted them; the push, made before the hub knew them, did not)}."""
    from integration_hub.orders.models import OrderLine

    if not pushed_at:
        return {}
    since = min(pushed_at.values())
    rows = (OrderLine.objects.filter(order__account=account, sku__in=list(pushed_at))
            .filter(Q(order__purchase_date__gte=since) | Q(order__created_at__gte=since))
            .values_list("sku", "order__purchase_date", "order__created_at", "quantity_ordered"))
    sold = {}
    for sku, purchased, stored, units in rows:
        if max(purchased, stored) >= pushed_at[sku]:
            sold[sku] = sold.get(sku, 0) + units
    return sold
