"""Hand-made settlement reports: V2 flat-file layout (FACTS.md 4.2) plus the `promotion-id` real files carry."""

from decimal import Decimal

COLUMNS = [
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount", "currency",
    "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name",
    "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date", "posted-date-time",
    "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
    "promotion-id",
]
UK = "Amazon.co.uk"


def line(transaction_type, amount_type, amount_description, amount, *, order_id="", sku="", quantity="",
         posted="2026-11-05", marketplace=UK, fulfillment="MFN", **extra):
    """One detail row as a dict keyed by header name."""
    row = {"transaction-type": transaction_type, "amount-type": amount_type,
           "amount-description": amount_description, "amount": str(amount), "order-id": order_id, "sku": sku,
           "quantity-purchased": str(quantity), "posted-date": posted, "marketplace-name": marketplace,
           "fulfillment-id": fulfillment if order_id else ""}
    row.update({key.replace("_", "-"): value for key, value in extra.items()})
    return row


def order_lines(order_id, sku, principal, *, quantity=1, tax="0.00", commission="-1.50", posted="2026-11-05",
                fulfillment="MFN"):
    """The rows Amazon writes for one order item: price, tax and the referral fee."""
    common = {"order_id": order_id, "sku": sku, "posted": posted, "fulfillment": fulfillment}
    rows = [line("Order", "ItemPrice", "Principal", principal, quantity=quantity, **common)]
    if Decimal(tax):
        rows.append(line("Order", "ItemPrice", "Tax", tax, quantity=quantity, **common))
    rows.append(line("Order", "ItemFees", "Commission", commission, **common))
    return rows


def settlement_text(rows, *, settlement_id="12345678901", start="2026-11-01 00:00:00 UTC",
                    end="2026-11-14 23:59:59 UTC", deposit="2026-11-16 00:00:00 UTC", total=None, currency="GBP",
                    columns=COLUMNS, decimal_comma=False):
    """The whole file as text; `total` defaults to the sum of the rows (the file then checks out)."""
    if total is None:
        total = sum((Decimal(row["amount"].replace(",", ".")) for row in rows), Decimal("0"))
    amount = (lambda value: str(value).replace(".", ",")) if decimal_comma else str
    summary = {"settlement-id": settlement_id, "settlement-start-date": start, "settlement-end-date": end,
               "deposit-date": deposit, "total-amount": amount(total), "currency": currency}
    out = ["\t".join(columns), "\t".join(summary.get(name, "") for name in columns)]
    for row in rows:
        row = {**row, "amount": amount(row["amount"])}
        out.append("\t".join(row.get(name, "") for name in columns))
    return "\n".join(out) + "\n"
