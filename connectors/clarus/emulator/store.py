"""In-memory state of one Clarus tenant: master data, goods-outs and stock, and the rules that change them.

Every change goes through a `Tenant` method; the server holds one lock around each request, so
these methods assume exclusive access.
"""

from connectors.clarus.emulator.records import (
    Account,
    Balance,
    Carrier,
    CarrierService,
    ClarusError,
    GoodsOut,
    GoodsOutLine,
    Package,
    PackageLine,
    Product,
    Shipment,
    Warehouse,
    next_id,
    now,
    pick_error,
)


class Tenant:
    """One customer subdomain: its own master data, orders and stock, never shared."""

    def __init__(self, subdomain, client_id, client_secret, *, account_id=None, warehouse_id=None):
        self.subdomain = subdomain
        self.clients = {client_id: client_secret}
        self.account = Account(account_id or next_id(), "BRAND", "Brand account")
        self.warehouse = Warehouse(warehouse_id or next_id(), "MAIN", "Main warehouse")
        self.accounts = [self.account]
        self.warehouses = [self.warehouse]
        self.products = []
        self.carriers = []
        self.carrier_services = []
        self.balances = []
        self.goods_outs = []
        self.shipments = []

    # ---- master data -----------------------------------------------------------------

    def add_product(self, code, *, on_hand=0, description=""):
        product = self.product_by_code(code)
        if product is None:
            product = Product(next_id(), code, description or code, accounts=[self.account])
            self.products.append(product)
        balance = self.balance(product)
        balance.on_hand += on_hand
        return product

    def add_carrier_service(self, carrier_code, carrier_name, service_code, service_name):
        carrier = next((c for c in self.carriers if c.code == carrier_code), None)
        if carrier is None:
            carrier = Carrier(next_id(), carrier_code, carrier_name)
            self.carriers.append(carrier)
        service = CarrierService(next_id(), service_code, service_name, carrier)
        self.carrier_services.append(service)
        return service

    def product_by_code(self, code):
        return next((p for p in self.products if p.code == code), None)

    def balance(self, product, account=None, warehouse=None):
        account, warehouse = account or self.account, warehouse or self.warehouse
        for balance in self.balances:
            if balance.product is product and balance.account is account and balance.warehouse is warehouse:
                return balance
        balance = Balance(next_id(), product, account, warehouse)
        self.balances.append(balance)
        return balance

    def find(self, collection, object_id, what):
        found = next((o for o in getattr(self, collection) if o.id == object_id), None)
        if found is None:
            raise ClarusError(f"{what} {object_id} not found", status=404, code="not_found", title="Not found")
        return found

    def create_goods_out(self, *, lines, **attributes):
        """A new sales order; DRAFT until it has lines, then PENDING."""
        order = GoodsOut(next_id(), account=self.account, warehouse=self.warehouse, carrier=None,
                         carrier_service=None, address={}, reference="")
        for name, value in attributes.items():
            setattr(order, name, value)
        self.goods_outs.append(order)
        self.add_lines(order, lines)
        return order

    def add_lines(self, order, lines):
        """lines: [(product, quantity, alt_line_number, alt_line_reference)]."""
        if order.status not in ("DRAFT", "PENDING"):
            raise ClarusError(f"goods out {order.id} is {order.status}: lines can no longer change",
                              code="goods_out_not_editable")
        for product, quantity, number, reference in lines:
            order.lines.append(GoodsOutLine(next_id(), order, product, quantity, number, reference or ""))
        if order.lines:
            order.status = "PENDING"
        order.touch()

    def goods_outs_for(self, reference):
        return [g for g in self.goods_outs if g.reference == reference]

    # ---- stock ------------------------------------------------------------------------

    def adjust_stock(self, product_code, quantity):
        balance = self._balance_by_code(product_code)
        if balance.on_hand + quantity < balance.allocated + balance.held:
            raise ClarusError(f"cannot remove {-quantity} of {product_code}: only {balance.available} available",
                              code="not_enough_stock")
        balance.on_hand += quantity
        return balance

    def hold_stock(self, product_code, quantity):
        """Put stock on hold (positive quantity) or release it (negative)."""
        balance = self._balance_by_code(product_code)
        if quantity > balance.available or balance.held + quantity < 0:
            raise ClarusError(f"cannot hold {quantity} of {product_code}: {balance.available} available, "
                              f"{balance.held} held", code="invalid_hold")
        balance.held += quantity
        return balance

    def _balance_by_code(self, product_code):
        product = self.product_by_code(product_code)
        if product is None:
            raise ClarusError(f"product {product_code} not found", status=404, code="not_found")
        return self.balance(product)

    # ---- goods-out state machine -------------------------------------------------------

    def process_picks(self, ids):
        """Allocate stock to PENDING goods-outs, all or nothing, with Clarus's error codes."""
        if not ids:
            raise pick_error(36, "empty_ids_provided", "no goods out ids were provided")
        known = {g.id: g for g in self.goods_outs}
        try:
            orders = [known[int(i)] for i in ids]
        except (KeyError, TypeError, ValueError):
            bad = [i for i in ids if not str(i).isdigit() or int(i) not in known]
            raise pick_error(37, "invalid_ids_provided", f"invalid goods out ids: {bad}") from None
        allocated = [g.id for g in orders if g.status in ("ALLOCATED", "PICK", "COMPLETED")]
        if allocated:
            raise pick_error(59, "goods_out_already_allocated", f"goods outs already allocated: {allocated}")
        not_pending = [g.id for g in orders if g.status != "PENDING"]
        if not_pending:
            raise pick_error(37, "invalid_ids_provided", f"goods outs not pending: {not_pending}")
        needed = {}
        for order in orders:
            for line in order.lines:
                key = self.balance(line.product, order.account, order.warehouse)
                needed[key] = needed.get(key, 0) + line.order_quantity
        short = [f"{b.product.code} (need {qty}, available {b.available})" for b, qty in needed.items()
                 if qty > b.available]
        if short:
            raise pick_error(39, "not_enough_stocks_for_picking", "not enough stock for " + ", ".join(short))
        for order in orders:
            self._allocate(order)
        return [f"PRC{order.id}" for order in orders]

    def _allocate(self, order):
        for line in order.lines:
            self.balance(line.product, order.account, order.warehouse).allocated += line.order_quantity
            line.allocated_quantity = line.order_quantity
        order.status = "ALLOCATED"
        order.touch()

    def cancel(self, order):
        if order.status == "CANCELLED":
            return order
        if order.status == "COMPLETED":
            raise ClarusError(f"goods out {order.id} is already dispatched and cannot be cancelled",
                              code="goods_out_already_dispatched")
        self._release(order)
        order.status = "CANCELLED"
        order.touch()
        return order

    def _release(self, order):
        """Give back what is still allocated to an order's lines."""
        for line in order.lines:
            remaining = line.allocated_quantity - line.dispatch_quantity
            if remaining > 0:
                balance = self.balance(line.product, order.account, order.warehouse)
                balance.allocated -= remaining
                balance.picked = max(0, balance.picked - remaining)

    def dispatch(self, reference, packages=None, *, ship_method=None, complete=True):
        """Pick, pack and ship an order as the warehouse does; returns the new Shipment.

        packages: [{"tracking_number", "reference"?, "lines": {alt_line_reference or product code: qty}}];
        None ships everything outstanding in one package. Lines shipped short are marked SHORT.
        """
        orders = [g for g in self.goods_outs_for(reference) if g.status in ("PENDING", "ALLOCATED", "PICK")]
        if not orders:
            raise ClarusError(f"no open goods out with reference {reference}", status=404, code="not_found")
        order = orders[0]
        service = order.carrier_service
        if ship_method:
            service = next((s for s in self.carrier_services if ship_method in (s.name, s.code)), None)
            if service is None:
                raise ClarusError(f"unknown carrier service {ship_method}", code="invalid_carrier_service")
        if order.status == "PENDING":
            self.process_picks([order.id])
        if packages is None:
            packages = [{"tracking_number": f"TRK{order.id}",
                         "lines": {line.alt_line_reference or line.product.code:
                                   line.allocated_quantity - line.dispatch_quantity for line in order.lines}}]
        built = [self._package(order, i, package) for i, package in enumerate(packages, start=1)]
        totals = {}
        for item in (item for package in built for item in package.lines):
            totals[item.goods_out_line] = totals.get(item.goods_out_line, 0) + item.quantity
        for line, quantity in totals.items():
            outstanding = line.allocated_quantity - line.dispatch_quantity
            if quantity > outstanding:
                raise ClarusError(f"line {line.alt_line_reference or line.product.code}: cannot dispatch "
                                  f"{quantity}, {outstanding} outstanding", code="invalid_quantity")
        order.status = "PICK"
        for package in built:
            for item in package.lines:
                line = item.goods_out_line
                line.pick_quantity += item.quantity
                line.dispatch_quantity += item.quantity
                balance = self.balance(line.product, order.account, order.warehouse)
                balance.on_hand -= item.quantity
                balance.allocated -= item.quantity
        shipment = Shipment(next_id(), order, service.carrier if service else order.carrier, service, built, now())
        self.shipments.append(shipment)
        if complete:
            self._release(order)
            for line in order.lines:
                line.short_status = "SHORT" if line.dispatch_quantity < line.order_quantity else "NONE"
            order.status = "COMPLETED"
            order.actual_date_of_dispatch = shipment.dispatched_at
        order.touch()
        return shipment

    def _package(self, order, number, package):
        lines = []
        for key, quantity in package.get("lines", {}).items():
            line = next((ln for ln in order.lines if key in (ln.alt_line_reference, ln.product.code)), None)
            if line is None:
                raise ClarusError(f"goods out {order.id} has no line {key}", code="invalid_line")
            if int(quantity) <= 0:
                raise ClarusError(f"line {key}: quantity must be positive, got {quantity}", code="invalid_quantity")
            lines.append(PackageLine(line, int(quantity)))
        reference = package.get("reference") or f"{order.id}-{number}"
        return Package(next_id(), reference, package.get("tracking_number", ""), lines)
