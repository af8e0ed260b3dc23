"""Onboarding a catalogue: read the seller's Amazon listings (GET_MERCHANT_LISTINGS_ALL_DATA) and the back
office's item list, and propose a SKU link for every SellerSKU that has none: exact code matches ticked,
the rest ranked by the same fuzzy suggestions as the exceptions page (code, title against description,
links made on other accounts), each with why. Ops accept them in one go; nothing is linked unasked.

    ask(account, username)   # asks Amazon for the report (it takes minutes); a CatalogueReview row
    follow()                 # the repeating job: reads finished reports and the back office's items
    proposals(review)        # [Proposal] for the SellerSKUs without a link
"""

import logging
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.generic import TemplateView
from rapidfuzz import fuzz, process

from connectors.base import ConnectorError
from connectors.models import SellerAccount
from connectors.registry import back_office_for
from integration_hub.audit import services as audit
from integration_hub.audit.models import Action
from integration_hub.inventory.drift import listings_rows
from integration_hub.orders import connect
from mappings.models import CatalogueReview, SkuLink
from mappings.suggest import MIN_SCORE, _words

logger = logging.getLogger(__name__)

REPORT_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"
SHOWN = 500  # proposals on one page; link them and the next ones show
CANDIDATES = 3


def ask(account, username):
    report_id = connect.amazon(account).request_report(REPORT_TYPE)
    return CatalogueReview.objects.create(account=account, report_id=report_id, requested_at=timezone.now(),
                                          requested_by=username)


def follow():
    """Move every review Amazon is still preparing on; one that fails does not stop the others."""
    connect.for_each(CatalogueReview.objects.filter(state=CatalogueReview.State.ASKED).select_related(
        "account__back_office"), _follow_one)


def _follow_one(review):
    amazon = connect.amazon(review.account)
    status, document_id = amazon.report_state(review.report_id)
    if status in ("CANCELLED", "FATAL"):
        return _finish(review, CatalogueReview.State.FAILED, note=f"Amazon ended the listings report {status}")
    if status != "DONE":
        return None
    try:
        listings = read_listings(amazon.download_report(document_id))
    except ValueError as exc:
        return _finish(review, CatalogueReview.State.FAILED, note=str(exc))
    connection = review.account.back_office
    items = [] if connection is None else [
        {"code": item.item_code, "description": item.description}
        for item in back_office_for(connection).list_items() if item.active]
    return _finish(review, CatalogueReview.State.READY, listings=listings, items=items)


def _finish(review, state, **fields):
    CatalogueReview.objects.filter(pk=review.pk).update(state=state, ready_at=timezone.now(), **fields)


def read_listings(content):
    """[{sku, title}] of a listings report; ValueError naming what is wrong."""
    return [{"sku": row["seller-sku"].strip(), "title": (row.get("item-name") or "").strip()}
            for row in listings_rows(content) if (row.get("seller-sku") or "").strip()]


@dataclass
class Candidate:
    code: str
    score: int
    why: str


@dataclass
class Proposal:
    sku: str
    title: str
    candidates: list  # [Candidate], best first
    exact: bool  # the best candidate is the same code: ticked

    @property
    def best(self):
        return self.candidates[0] if self.candidates else None


def proposals(review, limit=SHOWN):
    """A Proposal for each listed SellerSKU of the review's account that has no active link yet."""
    linked = set(SkuLink.objects.filter(account=review.account, active=True).values_list("seller_sku", flat=True))
    open_listings = [listing for listing in review.listings if listing["sku"] not in linked][:limit]
    descriptions = {item["code"]: item.get("description", "") for item in review.items}
    same = {}  # the code as Amazon would write it, ignoring case only: "MUG-01" is not "MUG_01"
    for code in descriptions:
        same.setdefault(code.upper(), []).append(code)
    code_words = {code: _words(code) for code in descriptions}
    text_words = {code: _words(f"{code} {text}") for code, text in descriptions.items()}
    elsewhere = {}
    wanted = [listing["sku"] for listing in open_listings]
    others = SkuLink.objects.filter(seller_sku__in=wanted, active=True).exclude(account=review.account)
    for sku, code, account in others.values_list("seller_sku", "item_code", "account__name"):
        elsewhere.setdefault(sku, (code, account))
    result = []
    for listing in open_listings:
        sku, title = listing["sku"], listing.get("title", "")
        found = {}
        matches = same.get(sku.upper(), [])
        exact = matches[0] if len(matches) == 1 else None  # two codes differing in case: a person decides
        if exact:
            found[exact] = Candidate(exact, 100, "the same code in the back office")
        if sku in elsewhere:
            code, account = elsewhere[sku]
            found.setdefault(code, Candidate(code, 100, f"linked to {sku} on {account}"))
        for _, score, code in process.extract(_words(sku), code_words, scorer=fuzz.token_set_ratio,
                                              limit=CANDIDATES):
            if score >= MIN_SCORE:
                found.setdefault(code, Candidate(code, round(score), f"code {round(score)}% alike"))
        if title:
            for _, score, code in process.extract(_words(f"{sku} {title}"), text_words, scorer=fuzz.token_set_ratio,
                                                  limit=CANDIDATES):
                if score >= MIN_SCORE:
                    found.setdefault(code, Candidate(code, round(score), f"title {round(score)}% like the item's "
                                                                        f"description ({descriptions[code][:40]})"))
        ranked = sorted(found.values(), key=lambda c: -c.score)[:CANDIDATES]
        result.append(Proposal(sku=sku, title=title, candidates=ranked, exact=bool(exact)))
    return result


class AskForm(forms.Form):
    account = forms.ModelChoiceField(queryset=SellerAccount.objects.filter(active=True))


class OnboardingView(PermissionRequiredMixin, TemplateView):
    """Link a whole catalogue in one go: GET shows each account's newest review and its proposals; POST
    `ask` asks Amazon for the listings, POST `link` saves the ticked links."""

    permission_required = "mappings.add_skulink"
    template_name = "dashboard/onboarding.html"

    def get_context_data(self, **kwargs):
        reviews = []
        for account in SellerAccount.objects.filter(active=True).order_by("name"):
            review = CatalogueReview.objects.filter(account=account).first()
            found = proposals(review) if review and review.state == CatalogueReview.State.READY else []
            reviews.append({"account": account, "review": review, "proposals": found,
                            "exact": sum(1 for p in found if p.exact)})
        return super().get_context_data(reviews=reviews, **kwargs)

    def post(self, request):
        if request.POST.get("action") == "ask":
            form = AskForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Choose an active seller account.")
                return redirect("dashboard:onboarding")
            try:
                review = ask(form.cleaned_data["account"], request.user.get_username())
            except ConnectorError as exc:
                messages.error(request, f"Amazon did not take the request: {exc.message}")
                return redirect("dashboard:onboarding")
            audit.record(request, Action.CATALOGUE_ASK, review, detail="asked Amazon for the listings report")
            messages.success(request, "Asked Amazon for the listings report: it takes a few minutes; this page "
                                      "shows the proposals when it is ready.")
            return redirect("dashboard:onboarding")
        review = get_object_or_404(CatalogueReview, pk=request.POST.get("review"),
                                   state=CatalogueReview.State.READY)
        known = {item["code"] for item in review.items}
        listed = {listing["sku"] for listing in review.listings}
        chosen = {}
        for value in request.POST.getlist("link"):
            sku, _, code = value.partition("\t")
            code = request.POST.get(f"code:{sku}", code)
            if sku in listed and code in known:
                chosen[sku] = code
        with transaction.atomic():
            links = {link.seller_sku: link for link in SkuLink.objects.filter(account=review.account,
                                                                              seller_sku__in=list(chosen))}
            existing = {sku for sku, link in links.items() if link.active}
            made = []
            for sku, code in chosen.items():
                if sku in existing:
                    continue
                link = links.get(sku) or SkuLink(account=review.account, seller_sku=sku)
                link.item_code, link.active = code, True  # a switched-off link is switched on again
                link.full_clean()
                link.save()  # one by one: each link's save re-checks the orders held for it
                made.append(link)
        audit.record(request, Action.CATALOGUE_LINK, review,
                     detail=f"linked {len(made)} SKU(s) from the catalogue review")
        messages.success(request, f"Linked {len(made)} SellerSKU(s) of {review.account}"
                                  + (f"; {len(existing)} had a link already" if existing else "") + ".")
        return redirect("dashboard:onboarding")
