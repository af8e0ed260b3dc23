"""The emulator's REST resources: JSON:API bodies in and out, integer ids (GraphQL uses strings)."""

import re

from connectors.clarus.emulator.records import ClarusError

COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TEXT_ATTRIBUTES = ("external_system_reference1", "external_system_reference2", "external_system_reference3",
                   "delivery_notes")
ADDRESS_FIELDS = ("name", "address_1", "address_2", "address_3", "address_4", "postcode", "country_code",
                  "email_address", "phone_number")


class Invalid(Exception):
    """Several validation errors reported together, each naming its JSON pointer."""

    def __init__(self, errors):
        super().__init__("; ".join(e.detail for e in errors))
        self.errors = errors


def _invalid(pointer, detail, code="invalid_attribute"):
    return ClarusError(detail, code=code, title="Invalid attribute", pointer=pointer)


def _iso(value):
    return value.isoformat() if value else None


def line_resource(line):
    return {"id": line.id, "type": "goods_out_lines", "attributes": {
        "product_id": line.product.id, "product_code": line.product.code, "order_quantity": line.order_quantity,
        "allocated_quantity": line.allocated_quantity, "pick_quantity": line.pick_quantity,
        "dispatch_quantity": line.dispatch_quantity, "short_status": line.short_status,
        "alt_line_number": line.alt_line_number, "alt_line_reference": line.alt_line_reference,
    }}


def shipment_resource(shipment):
    return {"id": shipment.id, "type": "shipments", "attributes": {
        "reference": shipment.reference, "status": shipment.status, "tracking_number": shipment.tracking_number,
        "dispatched_at": _iso(shipment.dispatched_at),
        "carrier_code": shipment.carrier.code if shipment.carrier else None,
        "carrier_service_code": shipment.carrier_service.code if shipment.carrier_service else None,
        "packages": [{"reference": p.reference, "tracking_number": p.tracking_number} for p in shipment.packages],
    }}


def goods_out_resource(order, shipments=()):
    """The full record, as responses and webhooks carry it."""
    attributes = {
        "goods_out_type": "sales_order", "reference": order.reference, "account_id": order.account.id,
        "warehouse_id": order.warehouse.id, "priority": order.priority,
        "carrier_id": order.carrier.id if order.carrier else None,
        "carrier_service_id": order.carrier_service.id if order.carrier_service else None,
        "expected_date_of_dispatch": order.expected_date_of_dispatch or None,
        "actual_date_of_dispatch": _iso(order.actual_date_of_dispatch),
        "goods_out_status_id": order.goods_out_status["id"], "goods_out_status_code": order.status,
        "created_at": _iso(order.created_at), "updated_at": _iso(order.updated_at),
        **{name: getattr(order, name) for name in TEXT_ATTRIBUTES},
    }
    relationships = {
        "address": {"data": {"type": "addresses", "attributes": order.address}},
        "goods_out_lines": {"data": [line_resource(line) for line in order.lines]},
    }
    if shipments:
        relationships["shipments"] = {"data": [shipment_resource(s) for s in shipments]}
    return {"id": order.id, "type": "goods_outs", "attributes": attributes, "relationships": relationships}


def _resource(body, kind):
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or data.get("type") != kind:
        raise Invalid([_invalid("/data", f"expected a JSON:API resource of type {kind}", "invalid_body")])
    attributes = data.get("attributes")
    if not isinstance(attributes, dict):
        raise Invalid([_invalid("/data/attributes", "attributes must be an object", "invalid_body")])
    return data, attributes


def _lookup(tenant, collection, attributes, name, errors, required=True):
    value = attributes.get(name)
    if value is None:
        if required:
            errors.append(_invalid(f"/data/attributes/{name}", f"{name} is required"))
        return None
    found = next((o for o in getattr(tenant, collection) if isinstance(value, int) and o.id == value), None)
    if found is None:
        errors.append(_invalid(f"/data/attributes/{name}", f"{name} {value!r} does not exist", "not_found"))
    return found


def _lines(tenant, account, changes, errors):
    """lines_changes ADD entries -> (product, quantity, alt_line_number, alt_line_reference)."""
    if not isinstance(changes, list):
        errors.append(_invalid("/data/attributes/lines_changes", "lines_changes must be a list"))
        return []
    lines = []
    for i, change in enumerate(changes):
        pointer = f"/data/attributes/lines_changes/{i}"
        attributes = change.get("attributes") if isinstance(change, dict) else None
        if not isinstance(attributes, dict) or change.get("type") != "ADD":
            errors.append(_invalid(pointer, "only ADD changes with attributes are supported here"))
            continue
        product_id, quantity = attributes.get("product_id"), attributes.get("order_quantity")
        product = next((p for p in tenant.products if isinstance(product_id, int) and p.id == product_id), None)
        if product is None:
            errors.append(_invalid(f"{pointer}/attributes/product_id",
                                   f"Product {product_id!r} not found", "product_not_found"))
        elif account is not None and account not in product.accounts:
            errors.append(_invalid(f"{pointer}/attributes/product_id",
                                   f"Product {product.code} (id {product.id}) is not assigned to account "
                                   f"{account.code}", "product_not_assigned"))
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            errors.append(_invalid(f"{pointer}/attributes/order_quantity",
                                   f"order_quantity must be a positive integer, got {quantity!r}"))
        lines.append((product, quantity, attributes.get("alt_line_number"),
                      str(attributes.get("alt_line_reference") or "")))
    return lines


def _address(data, errors):
    address = (((data.get("relationships") or {}).get("address") or {}).get("data") or {}).get("attributes")
    pointer = "/data/relationships/address/data/attributes"
    if not isinstance(address, dict):
        errors.append(_invalid(pointer, "a delivery address is required"))
        return {}
    for name in ("name", "address_1", "postcode", "country_code"):
        if not address.get(name):
            errors.append(_invalid(f"{pointer}/{name}", f"{name} is required"))
    country = address.get("country_code")
    if country and not COUNTRY_CODE.match(str(country)):
        errors.append(_invalid(f"{pointer}/country_code",
                               f"country_code {country!r} is not an ISO 3166-1 alpha-2 code"))
    return {name: address.get(name, "") for name in ADDRESS_FIELDS}


def create_goods_out(tenant, body):
    data, attributes = _resource(body, "goods_outs")
    errors = []
    if attributes.get("goods_out_type") != "sales_order":
        errors.append(_invalid("/data/attributes/goods_out_type", "goods_out_type must be sales_order"))
    reference = attributes.get("reference")
    if not isinstance(reference, str) or not reference.strip():
        errors.append(_invalid("/data/attributes/reference", "reference is required"))
    account = _lookup(tenant, "accounts", attributes, "account_id", errors)
    warehouse = _lookup(tenant, "warehouses", attributes, "warehouse_id", errors)
    carrier = _lookup(tenant, "carriers", attributes, "carrier_id", errors, required=False)
    service = _lookup(tenant, "carrier_services", attributes, "carrier_service_id", errors, required=False)
    if service and carrier and service.carrier is not carrier:
        errors.append(_invalid("/data/attributes/carrier_service_id",
                               f"carrier service {service.code} does not belong to carrier {carrier.code}"))
    expected = attributes.get("expected_date_of_dispatch")
    if expected is not None and not (isinstance(expected, str) and DATE.match(expected)):
        errors.append(_invalid("/data/attributes/expected_date_of_dispatch", "expected YYYY-MM-DD"))
    lines = _lines(tenant, account, attributes.get("lines_changes", []), errors)
    address = _address(data, errors)
    if errors:
        raise Invalid(errors)
    return tenant.create_goods_out(
        lines=lines, reference=reference, account=account, warehouse=warehouse,
        carrier=carrier or (service.carrier if service else None), carrier_service=service, address=address,
        expected_date_of_dispatch=expected or "", priority=int(attributes.get("priority") or 0),
        **{name: str(attributes.get(name) or "") for name in TEXT_ATTRIBUTES},
    )


def update_goods_out(tenant, order, body):
    """PATCH: add lines (lines_changes ADD) and edit the free-text attributes."""
    _, attributes = _resource(body, "goods_outs")
    errors = []
    lines = _lines(tenant, order.account, attributes.get("lines_changes", []), errors)
    if errors:
        raise Invalid(errors)
    tenant.add_lines(order, lines)
    for name in TEXT_ATTRIBUTES:
        if name in attributes:
            setattr(order, name, str(attributes[name] or ""))
    return order


def process_picks(tenant, body):
    ids = body.get("ids") if isinstance(body, dict) else None
    return {"data": {"process_references": tenant.process_picks(ids if isinstance(ids, list) else [])}}
