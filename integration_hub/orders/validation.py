"""Can an order go to the back office? What validating and sending orders read, loaded once for many.

    mappings = Mappings(orders)       # their lines, those SKUs' links, the ship-level maps: 3 queries
    mappings.problems(order)          # why it cannot go yet, in words ("" if it can)

A search page routed at once, or a worker's batch of sends, pays the three queries once.
"""

from integration_hub.orders.models import OrderLine
from mappings.models import ShipLevelMap, SkuLink


class Mappings:
    """The lines of some orders, the active SKU links of those lines and the ship-level maps for them."""

    def __init__(self, orders):
        orders = list(orders)
        self._lines = {order.pk: [] for order in orders}
        for line in OrderLine.objects.filter(order__in=list(self._lines)).order_by("order_id", "order_item_id"):
            self._lines[line.order_id].append(line)
        skus = {line.sku for lines in self._lines.values() for line in lines}
        self._links = {(link.account_id, link.seller_sku): link for link in SkuLink.objects.filter(
            account__in={order.account_id for order in orders}, seller_sku__in=skus, active=True)}
        self._resolve = ShipLevelMap.resolver(order.ship_service_level for order in orders)

    def lines(self, order):
        return self._lines[order.pk]

    def links(self, order):
        """{SellerSKU: its active SKU link} for the order's lines (SKUs with no link are absent)."""
        return {line.sku: self._links[order.account_id, line.sku] for line in self.lines(order)
                if (order.account_id, line.sku) in self._links}

    def ship_level(self, order):
        """The ship-level map that applies to the order, or None."""
        return self._resolve(order.ship_service_level, order.marketplace_id, order.is_prime)

    def problems(self, order):
        """Why the order cannot go to the back office yet, as one readable reason ("" if it can)."""
        links = self.links(order)
        reasons = [f"SKU '{line.sku}' (order item {line.order_item_id}) has no active SKU link"
                   for line in self.lines(order) if line.sku not in links]
        if not self.lines(order):
            reasons.append("the order has no lines")
        if self.ship_level(order) is None:
            reasons.append(f"ship service level '{order.ship_service_level}' has no ship-level map"
                           f" for marketplace {order.marketplace_id}{' (Prime)' if order.is_prime else ''}")
        return "; ".join(reasons)


def ship_level_map(order):
    """The ship-level map that applies to the order, or None."""
    return ShipLevelMap.resolve(order.ship_service_level, order.marketplace_id, order.is_prime)
