"""Transaction Import (TI) files: what the hub drops for the on-site agent, and how both sides read them.

A drop is two files in the drop folder, both written under a temporary name and renamed:

    SO_<amazon order id>_<random>.csv   the data file: one comma-delimited record per line,
                                        the level name first ("Order", then one "Line" per item)
    SO_<amazon order id>_<random>.job   written last, so it says "ready": `control=<control file>`
                                        and `data=<data file name>`

The agent runs TI with that control file on the data file, writes `<stem>.log` in the log folder,
and only then moves both files out of the drop folder. The field order of each level (LAYOUTS) is
what the control file on site must map.
"""

import csv
import io
import os
import re
import secrets
from datetime import date, datetime

# Field order per level. "AmazonLineRef" goes to the SOLine user field named by `line_ref_field`.
LAYOUTS = {
    "order": ("CpnyID", "CustID", "CustOrdNbr", "OrdDate", "SOTypeID", "ShipViaID", "ShipSiteID", "CuryID",
              "ShipName", "ShipAttn", "ShipAddr1", "ShipAddr2", "ShipCity", "ShipState", "ShipZip",
              "ShipCountry", "ShipPhone"),
    "line": ("InvtID", "SiteID", "QtyOrd", "SlsPrice", "ReqDate", "Descr", "AmazonLineRef"),
    "cancel": ("CpnyID", "OrdNbr", "CustOrdNbr"),
    "batch": ("CpnyID", "LedgerID", "PerPost", "JrnlType", "Descr", "CuryId", "CtrlTot"),
    "transaction": ("Acct", "Sub", "TranDate", "TranDesc", "DrAmt", "CrAmt", "ExtRefNbr"),
}
# The agent renames a job file with this suffix before importing it (see the agent contract in
# docs/connectors/dynamics_sl.md), and a log that starts with INTERRUPTED means it stopped mid-import.
CLAIMED = ".claimed"
INTERRUPTED = "Interrupted:"
# File-name prefixes: sales order, order cancellation, GL batch.
SALES_ORDER, CANCEL, GL_BATCH = "SO", "CX", "GL"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,40}$")
DATE_FORMAT = "%m/%d/%Y"  # SL's TI dates, e.g. 03/03/2003


def ti_date(value):
    return value.strftime(DATE_FORMAT)


def parse_ti_date(text):
    return datetime.strptime(text, DATE_FORMAT)


def clean(value):
    """Text safe for one quoted TI field: no line breaks, no double quotes."""
    return " ".join(str(value).split()).replace('"', "'")


def data_text(records, levels):
    """The data file: `records` is a list of (level key, {field: value}) in LAYOUTS order."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    for level, values in records:
        row = [levels[level]]
        for name in LAYOUTS[level]:
            value = values[name]
            if isinstance(value, (date, datetime)):
                value = ti_date(value)
            row.append(value if isinstance(value, (int, float)) else clean(value))
        writer.writerow(row)
    return out.getvalue()


def parse_data(text, levels):
    """(line number, level key, {field: text}) per record; an unknown level or wrong field count is a
    (line number, None, error text) record."""
    by_name = {name: key for key, name in levels.items()}
    parsed = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row:
            continue
        level = by_name.get(row[0])
        if level is None:
            parsed.append((number, None, f"unknown level {row[0]!r}"))
        elif len(row) - 1 != len(LAYOUTS[level]):
            parsed.append((number, None, f"{row[0]} has {len(row) - 1} fields, expected {len(LAYOUTS[level])}"))
        else:
            parsed.append((number, level, dict(zip(LAYOUTS[level], row[1:]))))
    return parsed


def drop(folder, kind, key, control_file, text):
    """Write a data file and its job file atomically into the drop folder; return the stem."""
    if not KEY_PATTERN.match(key):
        raise ValueError(f"{key!r} cannot name a TI file: use letters, digits and '-' (at most 40)")
    stem = f"{kind}_{key}_{secrets.token_hex(4)}"
    write_atomic(folder / f"{stem}.csv", text)
    try:
        write_atomic(folder / f"{stem}.job", f"control={control_file}\r\ndata={stem}.csv\r\n")
    except OSError:
        (folder / f"{stem}.csv").unlink(missing_ok=True)  # a data file without its trigger is never imported
        raise
    return stem


def write_atomic(path, text):
    """Write under a hidden temporary name, then rename: readers never see half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def pending(folder, kind, key):
    """Stems of drops for this key not imported yet: waiting in the drop folder, or claimed by the agent
    (being imported, or left claimed by an agent that stopped mid-import until it restarts)."""
    waiting = {path.name.split(".", 1)[0] for path in folder.glob(f"{kind}_{key}_*.job")}
    claimed = {path.name.split(".", 1)[0] for path in folder.glob(f"{kind}_{key}_*.job{CLAIMED}")}
    return sorted(waiting | claimed)


def interrupted(log_text):
    """Whether the agent reports it stopped while importing the file (and did not import it again)."""
    return log_text.lstrip().startswith(INTERRUPTED)


def parse_job(text):
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def read_log(folder, stem):
    """The TI log text for a drop, or None while there is none."""
    try:
        return (folder / f"{stem}.log").read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None


def error_lines(log_text, pattern):
    return [line.strip() for line in log_text.splitlines() if re.search(pattern, line)]
