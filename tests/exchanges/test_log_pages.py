"""The exchange log pages "older / newer" from a cursor (no page numbers, no row count) and filters on
indexed columns; every row is reached exactly once walking either way."""

import datetime as dt
import re
from html import unescape

import pytest
from django.utils import timezone

from integration_hub.exchanges.models import Exchange

pytestmark = pytest.mark.django_db


def rows_and_links(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    page = response.content.decode()
    ids = [int(pk) for pk in re.findall(r'href="/exchanges/(\d+)/"', page)]
    links = {name: unescape(href) for href, name in re.findall(r'<a href="(\?[^"]*)">(?:&larr; )?(newer|older)', page)}
    return ids, links


def test_walking_older_then_newer_reaches_every_row_once_in_order(client_as, ops_user):
    start = timezone.now() - dt.timedelta(hours=3)
    made = [Exchange.objects.create(system="amazon", operation="getOrder") for _ in range(250)]
    for n, row in enumerate(made):  # several rows share a time: the pk breaks the tie
        Exchange.objects.filter(pk=row.pk).update(started_at=start + dt.timedelta(seconds=n // 3))
    expected = list(Exchange.objects.order_by("-started_at", "-pk").values_list("pk", flat=True))
    client = client_as(ops_user)
    pages, url = [], "/exchanges/"
    while url:
        ids, links = rows_and_links(client, url)
        pages.append((ids, links))
        url = f"/exchanges/{links['older']}" if "older" in links else None
    assert [len(ids) for ids, _ in pages] == [100, 100, 50]
    assert [pk for ids, _ in pages for pk in ids] == expected
    assert "newer" not in pages[0][1]
    ids, _ = rows_and_links(client, f"/exchanges/{pages[2][1]['newer']}")
    assert ids == pages[1][0], "newer from the last page is the page before it"
    ids, links = rows_and_links(client, f"/exchanges/{pages[1][1]['newer']}")
    assert ids == pages[0][0] and "newer" not in links


def test_filters_combine_and_keep_their_place_across_pages(client_as, ops_user):
    now = timezone.now()
    for n in range(120):
        Exchange.objects.create(system="amazon", operation="confirmShipment", http_status=429 if n % 2 else 204,
                                correlation_id=f"202-{n}")
    Exchange.objects.create(system="clarus", operation="create_goods_out", http_status=429)
    client = client_as(ops_user)
    ids, links = rows_and_links(client, "/exchanges/?system=amazon&http_status=429")
    assert len(ids) == 60 and "older" not in links
    assert set(Exchange.objects.filter(pk__in=ids).values_list("http_status", "system").distinct()) == {(429, "amazon")}
    ids, _ = rows_and_links(client, "/exchanges/?correlation_id=202-7")
    assert Exchange.objects.get(pk__in=ids).correlation_id == "202-7"
    since = (now + dt.timedelta(hours=1)).isoformat()
    ids, _ = rows_and_links(client, f"/exchanges/?since={since.replace('+', '%2B')}")
    assert ids == []
    ids, links = rows_and_links(client, "/exchanges/?system=amazon")
    assert "system=amazon" in links["older"], "the next page keeps the filter"


def test_a_bad_cursor_is_refused_with_what_is_wrong(client_as, ops_user):
    response = client_as(ops_user).get("/exchanges/?before=yesterday")
    assert response.status_code == 400 and b"is not a page cursor" in response.content
