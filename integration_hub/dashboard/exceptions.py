"""The exceptions page: everything that needs a person, with the fix one click away.

Held orders are grouped by what holds them: a SellerSKU with no link (with the closest item codes
suggested), a ship service level with no map, or another reason (released on the orders page, single or
bulk). Confirmations that died for want of a carrier map are grouped by ship method (with the likely
Amazon carrier codes suggested). Saving a mapping here is the same as in the admin: the held orders it
fixes are validated again and flow on by themselves, the confirmations are retried; the mapping's own
history records who saved it.
"""

from collections import defaultdict

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views import View
from django.views.generic import TemplateView

from connectors.models import SellerAccount
from integration_hub.inventory.models import StockPush
from integration_hub.orders.models import Order
from integration_hub.orders.validation import ship_level_map
from integration_hub.shipments.models import Shipment
from integration_hub.shipments.services import NO_CARRIER_MAP
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.models import WorkItem
from mappings import suggest
from mappings.admin import CarrierMapForm
from mappings.models import CarrierMap, ShipLevelMap, SkuLink

LIMIT = 100


def held_groups(orders):
    """(missing SKU links, unmapped ship levels, other holds) of the held orders, in a few queries
    whatever their number (their lines prefetched)."""
    skus, levels, other = defaultdict(list), defaultdict(list), []
    for_mapping = [order for order in orders if order.held_for_mapping]
    wanted = {(order.account_id, line.sku) for order in for_mapping for line in order.lines.all()}
    linked = set(SkuLink.objects.filter(active=True, account__in={a for a, _ in wanted},
                                        seller_sku__in={s for _, s in wanted})
                 .values_list("account_id", "seller_sku"))
    level_maps = {}
    for order in orders:
        if not order.held_for_mapping:
            other.append(order)
            continue
        for line in order.lines.all():
            if (order.account_id, line.sku) not in linked:
                skus[(order.account_id, line.sku)].append(order)
        level = (order.ship_service_level, order.marketplace_id, order.is_prime)
        if level not in level_maps:
            level_maps[level] = ship_level_map(order)
        if level_maps[level] is None:
            levels[level].append(order)
    return skus, levels, other


class ExceptionsView(PermissionRequiredMixin, TemplateView):
    permission_required = "orders.change_order"
    template_name = "dashboard/exceptions.html"

    def get_context_data(self, **kwargs):
        held = list(Order.objects.held().select_related("account").prefetch_related("lines")
                    .order_by("latest_ship_date")[:LIMIT * 5])
        skus, levels, other = held_groups(held)
        accounts = SellerAccount.objects.select_related("back_office").in_bulk({account for account, _ in skus})
        known = {account.back_office_id: suggest.known_items(account.back_office)
                 for account in accounts.values() if account.back_office_id}
        unknown_skus = [{"account": accounts[account], "sku": sku, "orders": orders,
                         "first_ship_by": min(o.latest_ship_date for o in orders),
                         "suggestions": suggest.item_codes(accounts[account], sku,
                                                           known=known.get(accounts[account].back_office_id))}
                        for (account, sku), orders in sorted(skus.items(), key=lambda kv: kv[1][0].latest_ship_date)]
        methods = sorted(set(ShipLevelMap.objects.values_list("warehouse_ship_method", flat=True)))
        unmapped_levels = [{"level": level, "marketplace": marketplace, "is_prime": prime, "orders": orders,
                            "methods": methods} for (level, marketplace, prime), orders in levels.items()]
        dead_confirmations = list(WorkItem.objects.dead().filter(kind=WorkKind.CONFIRM_SHIPMENT)
                                  .order_by("priority_at")[:LIMIT])
        shipments = Shipment.objects.in_bulk([int(item.key) for item in dead_confirmations if item.key.isdigit()])
        no_carrier = defaultdict(list)
        failed = []
        for item in dead_confirmations:
            shipment = shipments.get(int(item.key)) if item.key.isdigit() else None
            if shipment is not None and item.last_error.startswith(NO_CARRIER_MAP):
                no_carrier[shipment.ship_method].append(shipment)
            else:
                failed.append((item, shipment))
        carrier_maps = list(CarrierMap.objects.filter(active=True)) if no_carrier else []
        return super().get_context_data(
            unknown_skus=unknown_skus, unmapped_levels=unmapped_levels, other_held=other[:LIMIT],
            held_count=Order.objects.held().count(),
            no_carrier=[{"ship_method": method, "shipments": rows,
                         "suggestions": suggest.carrier_codes(method, maps=carrier_maps)}
                        for method, rows in sorted(no_carrier.items())],
            failed_confirmations=failed,
            rejected_stock=StockPush.objects.exclude(last_error="").select_related("account")
            .order_by("-pushed_at")[:LIMIT],
            lost=Order.objects.lost_in_back_office().order_by("latest_ship_date")[:LIMIT],
            cancel_refused=Order.objects.cancel_refused().order_by("latest_ship_date")[:LIMIT],
            **kwargs)


class SkuLinkFixForm(forms.ModelForm):
    class Meta:
        model = SkuLink
        fields = ["account", "seller_sku", "item_code"]


class ShipLevelFixForm(forms.ModelForm):
    class Meta:
        model = ShipLevelMap
        fields = ["ship_service_level", "marketplace_id", "warehouse_ship_method"]


class CarrierFixForm(CarrierMapForm):  # the admin's form: Amazon's list of carrier codes
    class Meta(CarrierMapForm.Meta):
        fields = ["warehouse_ship_method", "carrier_code"]


class FixView(PermissionRequiredMixin, View):
    """Save one mapping from the exceptions page (POST), then back to it with what happened."""

    http_method_names = ["post"]
    form_class = None
    done = ""

    def post(self, request):
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                saved = form.save()
            except ValidationError as error:
                messages.error(request, f"Not saved: {'; '.join(error.messages)}")
            else:
                messages.success(request, self.done.format(saved=saved))
        else:
            problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
            messages.error(request, f"Not saved: {problems}")
        return redirect("dashboard:exceptions")


class LinkSkuView(FixView):
    permission_required = "mappings.add_skulink"
    form_class = SkuLinkFixForm
    done = ("Linked {saved.seller_sku} to {saved.item_code}: the orders held for it are checked again and sent "
            "on by themselves.")


class MapShipLevelView(FixView):
    permission_required = "mappings.add_shiplevelmap"
    form_class = ShipLevelFixForm
    done = ("Mapped {saved.ship_service_level} to {saved.warehouse_ship_method}: the orders held for it are "
            "checked again and sent on by themselves.")


class MapCarrierView(FixView):
    permission_required = "mappings.add_carriermap"
    form_class = CarrierFixForm
    done = ("Mapped {saved.warehouse_ship_method} to {saved.carrier_code}: its failed confirmations are sent "
            "again.")
