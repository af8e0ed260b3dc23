"""Small helpers over iterables shared by the hub and its connectors."""

import itertools


def chunked(iterable, size):
    """Lists of `size` elements from `iterable` (the last may be shorter), read lazily: a queryset's
    iterator stays a stream. itertools.batched from Python 3.12 on."""
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
