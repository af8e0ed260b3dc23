"""Onboarding a catalogue end to end: ops ask for the account's listings (the Amazon emulator's listings
report, over HTTP), the repeating job (an RQ worker) reads it and the Dynamics SL emulator's items, the page
proposes links (the same code ticked, the rest ranked with why) and one click links the ticked ones."""

import pytest

from mappings.models import CatalogueReview, SkuLink

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_ops_link_a_catalogue_in_one_go(account, amazon_emulator, warehouse, run_repeating, client_as, ops_user):
    amazon_emulator.set_faults(quota_multiplier=20)
    for sku in ("DEMO-SKU-001", "mug-red-large", "LAMP-42"):
        amazon_emulator.add_listing(sku, quantity=1)
    SkuLink.objects.create(account=account, seller_sku="LAMP-42", item_code="LAMP42")  # linked already
    for code in ("DEMO-SKU-001", "MUG-RED-L", "LAMP42", "KETTLE-1"):
        warehouse.add_item(code, on_hand=5)
    client = client_as(ops_user)
    asked = client.post("/onboarding/", {"action": "ask", "account": account.pk}, follow=True).content.decode()
    assert "Amazon is preparing the listings report" in asked
    for _ in range(3):  # IN_QUEUE -> IN_PROGRESS -> DONE, then read
        run_repeating("mappings.onboarding")
    review = CatalogueReview.objects.get(account=account)
    assert review.state == "ready"
    assert {listing["sku"] for listing in review.listings} == {"DEMO-SKU-001", "mug-red-large", "LAMP-42"}
    page = client.get("/onboarding/").content.decode()
    assert "2 SellerSKUs have no link, 1 with the same code ticked" in " ".join(page.split())
    assert 'value="DEMO-SKU-001&#9;DEMO-SKU-001" checked' in page
    start = page.rindex("<tr>", 0, page.index("<code>mug-red-large</code>"))
    mug = page[start:page.index("</tr>", start)]
    assert '<option value="MUG-RED-L">MUG-RED-L (88%)</option>' in mug and "code 88% alike" in mug
    assert 'value="mug-red-large&#9;MUG-RED-L" aria' in mug, "proposed, not ticked: alike is not the same"
    assert "LAMP-42</code>" not in page, "a SKU with a link is not proposed again"
    done = client.post("/onboarding/", {"action": "link", "review": review.pk,
                                        "link": ["DEMO-SKU-001\tDEMO-SKU-001", "mug-red-large\tMUG-RED-L"]},
                       follow=True).content.decode()
    assert "Linked 2 SellerSKU(s)" in done and "Every listed SellerSKU has a link" in done
    assert dict(SkuLink.objects.filter(account=account).values_list("seller_sku", "item_code")) == {
        "DEMO-SKU-001": "DEMO-SKU-001", "mug-red-large": "MUG-RED-L", "LAMP-42": "LAMP42"}
    refused = client.post("/onboarding/", {"action": "link", "review": review.pk, "link": ["LAMP-42\tNOT-AN-ITEM"]},
                          follow=True).content.decode()
    assert "Linked 0 SellerSKU(s)" in refused, "an item the back office does not have is never linked"
