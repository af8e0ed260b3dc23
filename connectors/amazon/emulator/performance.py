"""GET_V2_SELLER_PERFORMANCE_REPORT: Amazon's own account-health figures, shaped by
accountHealthReport-2020-11-18.json and computed from the emulator's order history.

What Amazon counts is written down here because the report does not say it (the stricter plausible
reading each time):
- Late Shipment Rate, 30 days to the end of yesterday (UTC): merchant-fulfilled orders not cancelled
  whose LatestShipDate falls in the range; late when the first package confirmation reached Amazon
  after LatestShipDate, or when none has and LatestShipDate has passed.
- Valid Tracking Rate, 30 days: packages confirmed in the range; valid when the package has a
  tracking number and a carrier code from Amazon's list other than "Other".
- Pre-fulfilment cancellation rate, 7 days: orders placed in the range that were cancelled before
  any package was confirmed, other than at the buyer's request, over all orders placed in it.
- accountStatuses: AT_RISK when any of the three misses its target (LSR < 4%, VTR > 95%,
  cancellations < 2.5%), else NORMAL, unless a test set the status (`state.account_status`).
The other metrics the schema requires (defects, on-time delivery, policy violations) are reported
as zero counts with status NONE.
"""

from __future__ import annotations

import datetime as dt
import json

from .shipments import CARRIER_CODES
from .state import parse_iso

LSR_TARGET, VTR_TARGET, CANCEL_TARGET = 0.04, 0.95, 0.025
LISTING_VIOLATIONS = ("listingPolicyViolations", "productAuthenticityCustomerComplaints",
                      "productConditionCustomerComplaints", "productSafetyCustomerComplaints",
                      "receivedIntellectualPropertyComplaints", "restrictedProductPolicyViolations",
                      "suspectedIntellectualPropertyViolations", "foodAndProductSafetyIssues",
                      "otherPolicyViolations", "documentRequests")
BUYER_REASONS = {"BuyerCanceled", "BuyerCancelled", "CustomerExchange", "CustomerReturn", "NoLongerNeeded"}


def _range(now, days):
    end = dt.datetime.combine(now.date(), dt.time(), tzinfo=dt.UTC) - dt.timedelta(minutes=1)  # yesterday 23:59
    start = dt.datetime.combine((end - dt.timedelta(days=days - 1)).date(), dt.time(), tzinfo=dt.UTC)
    return start, end


def _stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%MZ")


def _date_range(start, end):
    return {"reportingDateFrom": _stamp(start), "reportingDateTo": _stamp(end)}


def _within(moment, start, end):
    return moment is not None and start <= moment < end + dt.timedelta(minutes=1)


def _status(rate, target, ceiling):
    if rate is None:
        return "NONE"
    missed = rate >= target if ceiling else rate <= target
    return "BAD" if missed else "GOOD"


def _rate(count, total):
    return round(count / total, 6) if total else 0.0


def figures(state, now):
    """(lsr, vtr, cancel) as {count, total, start, end} over the emulator's orders of its marketplace."""
    lsr_range, vtr_range, cancel_range = _range(now, 30), _range(now, 30), _range(now, 7)
    late = due = packages = valid = placed = cancelled = 0
    for record in state.orders.values():
        order = record.order
        if order.get("FulfillmentChannel", "MFN") != "MFN":
            continue
        status = order["OrderStatus"]
        ship_by, purchased = parse_iso(order.get("LatestShipDate")), parse_iso(order.get("PurchaseDate"))
        first = parse_iso(record.first_confirmed) if record.first_confirmed else None
        if status != "Canceled" and _within(ship_by, *lsr_range):
            due += 1
            if (first is not None and first > ship_by) or (first is None and ship_by < now):
                late += 1
        for package in record.packages:
            if _within(parse_iso(record.package_times.get(str(package["packageReferenceId"]))), *vtr_range):
                packages += 1
                valid += bool(package.get("trackingNumber")) and package.get("carrierCode") in (
                    CARRIER_CODES - {"Other"})
        if _within(purchased, *cancel_range):
            placed += 1
            reasons = {(item.get("BuyerRequestedCancel") or {}).get("BuyerCancelReason") for item in record.items}
            if status == "Canceled" and first is None and not reasons & BUYER_REASONS:
                cancelled += 1
    return ({"count": late, "total": due, "range": lsr_range}, {"count": valid, "total": packages, "range": vtr_range},
            {"count": cancelled, "total": placed, "range": cancel_range})


def performance_report(state, report):
    now = state.now()
    lsr, vtr, cancel = figures(state, now)
    lsr_rate, vtr_rate, cancel_rate = (_rate(f["count"], f["total"]) for f in (lsr, vtr, cancel))
    statuses = {"lsr": _status(lsr_rate if lsr["total"] else None, LSR_TARGET, True),
                "vtr": _status(vtr_rate if vtr["total"] else None, VTR_TARGET, False),
                "cancel": _status(cancel_rate if cancel["total"] else None, CANCEL_TARGET, True)}
    account_status = state.account_status or ("AT_RISK" if "BAD" in statuses.values() else "NORMAL")
    long_range = _range(now, 180)
    none = {"count": 0, "status": "NONE"}
    metrics = {
        "marketplaceId": state.marketplace_id,
        "lateShipmentRate": {"reportingDateRange": _date_range(*lsr["range"]), "orderCount": lsr["total"],
                             "lateShipmentCount": lsr["count"], "status": statuses["lsr"], "rate": lsr_rate,
                             "targetValue": LSR_TARGET, "targetCondition": "LESS_THAN"},
        "validTrackingRate": {"reportingDateRange": _date_range(*vtr["range"]), "shipmentCount": vtr["total"],
                              "validTrackingCount": vtr["count"], "status": statuses["vtr"], "rate": vtr_rate,
                              "targetValue": VTR_TARGET, "targetCondition": "GREATER_THAN"},
        "preFulfillmentCancellationRate": {
            "reportingDateRange": _date_range(*cancel["range"]), "orderCount": cancel["total"],
            "cancellationCount": cancel["count"], "status": statuses["cancel"], "rate": cancel_rate,
            "targetValue": CANCEL_TARGET, "targetCondition": "LESS_THAN"},
        "invoiceDefectRate": {"reportingDateRange": _date_range(*cancel["range"]), "orderCount": 0,
                              "invoiceDefect": none, "missingInvoice": none, "lateInvoice": none, "status": "NONE",
                              "rate": 0.0, "targetValue": 0.05, "targetCondition": "LESS_THAN"},
        "orderDefectRate": {channel: {
            "reportingDateRange": _date_range(*_range(now, 60)), "orderCount": 0, "orderWithDefects": none,
            "claims": none, "chargebacks": none, "negativeFeedback": none, "fulfillmentType": channel,
            "status": "NONE", "rate": 0.0, "targetValue": 0.01, "targetCondition": "LESS_THAN"}
            for channel in ("mfn", "afn")},
        "onTimeDeliveryRate": {"reportingDateRange": _date_range(*vtr["range"]), "shipmentCountWithValidTracking": 0,
                               "onTimeDeliveryCount": 0, "status": "NONE", "rate": 0.0, "targetValue": 0.9,
                               "targetCondition": "GREATER_THAN"},
        "unitOnTimeDeliveryRate": {"reportingDateRange": _date_range(*vtr["range"]), "status": "NONE",
                                   "targetValue": 0.9, "targetCondition": "GREATER_THAN",
                                   "unitOnTimeDeliveryCount": 0, "totalUnitCount": 0, "rate": 0.0},
        "warningStates": [],
        # The schema requires "ahrStatus" and describes "accountHealthRatingStatus": both are sent.
        "accountHealthRating": {"ahrStatus": "GREAT" if account_status == "NORMAL" else "WARNED",
                                "accountHealthRatingStatus": "GREAT" if account_status == "NORMAL" else "WARNED",
                                "reportingDateRange": _date_range(*long_range)},
        **{name: {"reportingDateRange": _date_range(*long_range), "defectsCount": 0, "status": "NONE",
                  "targetValue": 0, "targetCondition": "EQUALS"} for name in LISTING_VIOLATIONS},
    }
    return json.dumps({"accountStatuses": [{"marketplaceId": state.marketplace_id, "status": account_status}],
                       "performanceMetrics": [metrics]})
