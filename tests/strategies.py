"""Hypothesis strategies shared by the property tests: JSON as outside systems might send it, and
mutations of a valid document (one field replaced by anything)."""

import copy

from hypothesis import strategies as st

SCALARS = (st.none() | st.booleans() | st.integers(min_value=-10**12, max_value=10**12)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=12), inner, max_size=4), max_leaves=12)


def paths(document, prefix=()):
    """Every path (tuple of keys and indexes) to a value inside a JSON document."""
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from paths(value, (*prefix, index))


@st.composite
def mutated(draw, document, replacements=JSON):
    """`document` with one value somewhere replaced by arbitrary JSON, or deleted."""
    document = copy.deepcopy(document)
    path = draw(st.sampled_from(list(paths(document))[1:]))
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(replacements)
    return document
