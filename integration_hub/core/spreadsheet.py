"""Cells safe to open in a spreadsheet (CSV/formula injection).

Text from outside (settlement descriptions, order ids, SKUs, back-office statuses, notes) that
begins with a character a spreadsheet reads as the start of a formula is written with a leading
apostrophe, which Excel and LibreOffice show as plain text. Numbers stay numbers. Imports remove
the apostrophe again, so an exported mapping file imports back unchanged.
"""

# What OWASP lists as starting a formula (or, for tab and carriage return, hiding one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values):
    return [safe_cell(value) for value in values]


def unquote_cell(value):
    """The value an exported cell stood for: a quote added by safe_cell is taken off."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
