"""The quota budget page: the plan in force (learned from Amazon's header or the default), use and 429s in
the last hour from the exchange log, tokens now, and the backlog with its drain time."""

import pytest

from connectors.amazon.quotas import RateLimiter
from integration_hub.exchanges.models import Exchange
from integration_hub.sync.choices import WorkKind
from tests.factories import SellerAccountFactory, WorkItemFactory

pytestmark = pytest.mark.django_db


def test_quota_budget_shows_plan_use_throttles_and_how_long_the_backlog_takes(client_as, ops_user, client):
    account = SellerAccountFactory(name="Budgeted")
    RateLimiter(account.pk).learn("confirmShipment", "4")  # Amazon raised this seller's plan
    for status in [204] * 5 + [429] * 2:
        Exchange.objects.create(system="amazon", operation="confirmShipment", account=account, http_status=status,
                                outcome="ok" if status == 204 else "transient")
    for n in range(60):
        WorkItemFactory(kind=WorkKind.CONFIRM_SHIPMENT, key=f"q{n}", account=account)
    html = client_as(ops_user).get("/quota/").content.decode()
    row = html[html.index("<code>confirmShipment</code>"):]
    row = row[:row.index("</tr>")]
    assert "4 / 20" in row and "learned" in row, "burst scales with the learned rate (2/s, 10 -> 4/s, 20)"
    assert "14400" in row, "per hour at 4 a second"
    assert ">7 <small>" in row and ">2</td>" in row, "7 requests, 2 of them 429s, in the last hour"
    assert "60</td>" in row and "10 s" in row, "60 waiting, 20 tokens in the bucket: 40 more at 4 a second"
    search = html[html.index("<code>searchOrders</code>"):]
    assert "0.0056 / 20" in search[:search.index("</tr>")], "the documented default when nothing was learned"
    from django.contrib.auth.models import User

    nobody = User.objects.create_user(username="no-role", password="a-long-test-password-1")
    assert client_as(nobody).get("/quota/").status_code == 403, "a user without a role is refused"
