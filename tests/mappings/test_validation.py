import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from connectors.models import SellerAccount
from mappings.models import CarrierMap, GlAccountMap, ShipLevelMap, SkuLink, StockBuffer

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return SellerAccount.objects.create(name="UK", seller_id="A1SELLER", marketplace_ids=["A1F83G8C2ARO7P"])


def test_unknown_carrier_code_is_refused_with_a_clear_message():
    row = CarrierMap(warehouse_ship_method="Evri 48", carrier_code="Evri")
    with pytest.raises(ValidationError) as caught:
        row.full_clean()
    assert "Evri is not a carrier code Amazon accepts" in str(caught.value.message_dict["carrier_code"])


def test_other_needs_a_carrier_name_and_only_other_may_have_one():
    with pytest.raises(ValidationError) as caught:
        CarrierMap(warehouse_ship_method="Evri 48", carrier_code="Other").full_clean()
    assert "carrier_name" in caught.value.message_dict
    with pytest.raises(ValidationError):
        CarrierMap(warehouse_ship_method="DPD Next Day", carrier_code="DPD", carrier_name="DPD").full_clean()
    CarrierMap(warehouse_ship_method="Evri 48", carrier_code="Other", carrier_name="Evri").full_clean()


def test_database_refuses_other_without_name_even_when_python_is_bypassed():
    with pytest.raises(IntegrityError):
        CarrierMap.objects.create(warehouse_ship_method="Evri 48", carrier_code="Other")


def test_duplicate_sku_link_is_refused(account):
    SkuLink.objects.create(account=account, seller_sku="MUG-RED", item_code="100-RED")
    duplicate = SkuLink(account=account, seller_sku="MUG-RED", item_code="100-BLUE")
    with pytest.raises(ValidationError) as caught:
        duplicate.full_clean()
    assert "already linked" in str(caught.value)
    with pytest.raises(IntegrityError):
        duplicate.save()


def test_pack_multiplier_turns_warehouse_units_into_whole_amazon_units(account):
    link = SkuLink.objects.create(account=account, seller_sku="MUG-6PK", item_code="100-RED", pack_multiplier=6)
    assert link.amazon_quantity(17) == 2
    assert link.amazon_quantity(5) == 0


def test_stock_buffer_never_goes_below_zero_and_sku_rule_beats_tier_rule(account):
    tier = StockBuffer.objects.create(account=account, velocity_tier="fast", fixed_units=2, percent=10)
    own = StockBuffer.objects.create(account=account, seller_sku="MUG-RED", fixed_units=5)
    assert tier.apply(50) == 43  # 50 - 2 - ceil(5.0)
    assert tier.apply(1) == 0
    assert StockBuffer.for_sku(account, "MUG-RED", "fast") == own
    assert StockBuffer.for_sku(account, "OTHER", "fast") == tier
    assert StockBuffer.for_sku(account, "OTHER", "slow") is None


def test_stock_buffer_is_for_a_sku_or_a_tier_not_both(account):
    with pytest.raises(IntegrityError):
        StockBuffer.objects.create(account=account, seller_sku="MUG-RED", velocity_tier="fast")


def test_most_specific_gl_rule_wins():
    GlAccountMap.objects.create(transaction_type="*", amount_type="ItemPrice", amount_description="*",
                                gl_account="4000", description="Sales")
    GlAccountMap.objects.create(transaction_type="*", amount_type="ItemPrice", amount_description="Tax",
                                gl_account="2200", description="VAT")
    first_match = next(rule for rule in GlAccountMap.ordered_rules() if rule.matches("Order", "ItemPrice", "Tax"))
    assert first_match.gl_account == "2200"
    first_match = next(rule for rule in GlAccountMap.ordered_rules()
                       if rule.matches("Order", "ItemPrice", "Principal"))
    assert first_match.gl_account == "4000"


def test_ship_level_resolution_prefers_the_marketplace_specific_rule():
    ShipLevelMap.objects.create(ship_service_level="STANDARD", warehouse_ship_method="Royal Mail Tracked 48")
    ShipLevelMap.objects.create(ship_service_level="STANDARD", marketplace_id="A1F83G8C2ARO7P",
                                warehouse_ship_method="Evri 48")
    assert ShipLevelMap.resolve("STANDARD", "A1F83G8C2ARO7P").warehouse_ship_method == "Evri 48"
    assert ShipLevelMap.resolve("STANDARD", "A1PA6795UKMFR9").warehouse_ship_method == "Royal Mail Tracked 48"
    assert ShipLevelMap.resolve("NEXT_DAY", "A1F83G8C2ARO7P") is None


def test_every_mapping_change_is_kept_in_history():
    row = CarrierMap.objects.create(warehouse_ship_method="DPD Next Day", carrier_code="DPD")
    row.shipping_method = "Next Day"
    row.save()
    history = list(row.history.order_by("history_date"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert history[-1].shipping_method == "Next Day"
