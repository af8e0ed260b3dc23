"""Keyset ("older / newer") pages for logs that grow without bound: each page is one indexed range scan
from a cursor, never an OFFSET and never a COUNT, so page 1 and a page a million rows deep cost the same.

Rows are newest first by (time field, pk). The cursor is "<ISO time>_<pk>" of the row at the page's edge.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q


@dataclass
class Page:
    rows: list
    newer: str | None  # cursor for ?after= (None on the newest page)
    older: str | None  # cursor for ?before= (None on the oldest page)


def encode(row, field):
    return f"{getattr(row, field).isoformat()}_{row.pk}"


def decode(text):
    """(time, pk) of a cursor; ValueError names what is wrong with it."""
    moment, _, pk = (text or "").rpartition("_")
    try:
        return datetime.fromisoformat(moment), int(pk)
    except ValueError:
        raise ValueError(f"{text!r} is not a page cursor (expected <ISO time>_<id>)") from None


def page(queryset, *, before=None, after=None, size=100, field="started_at"):
    """One page of `queryset` newest first: the rows older than `before`, newer than `after`, or the newest."""
    if after:
        moment, pk = decode(after)
        # The plain bound lets Postgres start the index scan at the cursor; the OR settles ties on pk.
        rows = list(queryset.filter(**{f"{field}__gte": moment})
                    .filter(Q(**{f"{field}__gt": moment}) | Q(**{field: moment, "pk__gt": pk}))
                    .order_by(field, "pk")[:size + 1])
        if len(rows) <= size:  # at the newest end: the newest page, full, as the log opens
            return page(queryset, size=size, field=field)
        rows = rows[:size][::-1]
        return Page(rows, encode(rows[0], field), encode(rows[-1], field))
    newest_first = queryset.order_by(f"-{field}", "-pk")
    if before:
        moment, pk = decode(before)
        newest_first = (newest_first.filter(**{f"{field}__lte": moment})
                        .filter(Q(**{f"{field}__lt": moment}) | Q(**{field: moment, "pk__lt": pk})))
    rows = list(newest_first[:size + 1])
    more, rows = len(rows) > size, rows[:size]
    return Page(rows, encode(rows[0], field) if before and rows else None,
                encode(rows[-1], field) if more and rows else None)
