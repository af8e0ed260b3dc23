"""Onboarding proposals at their edges: only the same code (ignoring case) is ticked, two back-office codes
differing only in case are left to a person, and a switched-off link is switched on again when chosen."""

import pytest
from django.utils import timezone

from mappings.models import CatalogueReview, SkuLink
from tests.factories import SellerAccountFactory

pytestmark = pytest.mark.django_db


def review_of(account, skus, codes):
    return CatalogueReview.objects.create(
        account=account, report_id="1", requested_at=timezone.now(), requested_by="ops", state="ready",
        listings=[{"sku": sku, "title": ""} for sku in skus], items=[{"code": code} for code in codes])


def test_only_the_same_code_is_ticked_and_a_case_only_clash_is_left_to_a_person(client_as, ops_user):
    account = SellerAccountFactory(name="Shop")
    review_of(account, ["MUG-01", "cup-7", "Pan-3"], ["MUG_01", "CUP-7", "PAN-3", "pan-3"])
    page = " ".join(client_as(ops_user).get("/onboarding/").content.decode().split())
    assert 'value="MUG-01&#9;MUG_01" aria' in page, "alike (MUG_01), proposed but not ticked"
    assert 'value="cup-7&#9;CUP-7" checked' in page, "the same code but for case: ticked"
    assert 'value="Pan-3&#9;PAN-3" checked' not in page and 'value="Pan-3&#9;pan-3" checked' not in page


def test_a_switched_off_link_is_switched_on_with_the_chosen_item(client_as, ops_user):
    account = SellerAccountFactory(name="Shop")
    SkuLink.objects.create(account=account, seller_sku="MUG-01", item_code="OLD-MUG", active=False)
    review = review_of(account, ["MUG-01"], ["MUG-01"])
    answer = client_as(ops_user).post("/onboarding/", {"action": "link", "review": review.pk,
                                                       "link": ["MUG-01\tMUG-01"]}, follow=True).content.decode()
    assert "Linked 1 SellerSKU(s)" in answer
    link = SkuLink.objects.get(account=account, seller_sku="MUG-01")
    assert (link.item_code, link.active) == ("MUG-01", True)


def test_a_review_of_another_account_links_only_to_its_own(client_as, ops_user):
    mine, theirs = SellerAccountFactory(name="Mine"), SellerAccountFactory(name="Theirs")
    review = review_of(theirs, ["MUG-01"], ["MUG-01"])
    client_as(ops_user).post("/onboarding/", {"action": "link", "review": review.pk, "link": ["MUG-01\tMUG-01"]})
    assert not SkuLink.objects.filter(account=mine).exists()
    assert SkuLink.objects.get(seller_sku="MUG-01").account == theirs
