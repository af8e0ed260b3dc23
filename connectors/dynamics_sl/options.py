"""The `options` of a Dynamics SL connection, parsed strictly (see the client's docstring for each key)."""

import re
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.base import ConnectorError

# Transaction Import level names as written at the start of each data line ([I]: the control file
# on site decides them; override per level with the `ti_levels` option).
DEFAULT_LEVELS = {"order": "Order", "line": "Line", "cancel": "Cancel", "batch": "Batch", "transaction": "Transaction"}


@dataclass(frozen=True)
class SLOptions:
    """Settings of one Dynamics SL connection with their defaults."""

    company_id: str
    site_id: str
    ti_drop_dir: Path
    ti_log_dir: Path
    schema: str = ""
    customer_id: str = "AMAZON"
    so_type: str = "SO"
    stock_sites: tuple = ()
    line_ref_field: str = "User1"
    ledger_id: str = "ACTUAL"
    gl_sub: str = "000000"
    gl_journal_type: str = "GJ"
    so_control_file: str = "SO40100.ctl"
    cancel_control_file: str = "SO40100C.ctl"
    gl_control_file: str = "GL01010.ctl"
    ti_levels: dict = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    ti_wait_seconds: float = 120.0
    ti_poll_seconds: float = 2.0
    ti_error_regex: str = r"\bError:"
    ti_transient_regex: str = r"(?i)deadlock|timed? ?out|locked by|in use"
    dispatch_settle_seconds: float = 120.0
    dispatch_page_size: int = 200
    time_zone: str = "Europe/London"
    inactive_status_codes: tuple = ("IN", "DE")

    @classmethod
    def parse(cls, options):
        """Options from a connection's JSON; a missing, unknown or malformed key is a permanent error."""
        options = dict(options or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise _bad(f"unknown option(s) {', '.join(unknown)}")
        values = {}
        for name, spec in known.items():
            if name not in options:
                if spec.default is MISSING and spec.default_factory is MISSING:
                    raise _bad(f"option {name!r} is required")
                continue
            values[name] = _coerce(name, options[name], spec.type)
        levels = dict(DEFAULT_LEVELS)
        levels.update(values.get("ti_levels", {}))
        values["ti_levels"] = levels
        parsed = cls(**values)
        parsed._check()
        return parsed

    def _check(self):
        if self.line_ref_field not in ("User1", "User2"):
            raise _bad("option 'line_ref_field' must be User1 or User2 (the SOLine char30 user fields)")
        for name in ("ti_error_regex", "ti_transient_regex"):
            try:
                re.compile(getattr(self, name))
            except re.error as exc:
                raise _bad(f"option {name!r} is not a valid regular expression: {exc}") from None
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _bad(f"option 'time_zone' {self.time_zone!r} is not a known time zone") from None
        if set(self.ti_levels) != set(DEFAULT_LEVELS):
            raise _bad(f"option 'ti_levels' keys must be {', '.join(DEFAULT_LEVELS)}")

    @property
    def tz(self):
        return ZoneInfo(self.time_zone)


def _coerce(name, value, kind):
    try:
        if kind is str:
            if not isinstance(value, str):
                raise TypeError
            return value
        if kind is Path:
            if not isinstance(value, str) or not value:
                raise TypeError
            return Path(value)
        if kind in (float, int):
            if isinstance(value, bool):
                raise TypeError
            number = float(value) if kind is float else int(value)
            if number < 0:
                raise ValueError
            return number
        if kind is tuple:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TypeError
            return tuple(value)
        if kind is dict:
            if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
                raise TypeError
            return value
    except (TypeError, ValueError):
        raise _bad(f"option {name!r} has a bad value {value!r} (expected {kind.__name__})") from None
    raise AssertionError(kind)


def _bad(message):
    return ConnectorError(f"Dynamics SL connection settings: {message}", permanent=True)
