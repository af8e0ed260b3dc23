"""The emulated Transaction Import agent: a thread that imports the files the hub drops.

For each `<stem>.job` in the drop folder it reads the control file name and the data file, applies
the records in one database transaction (or none, when any record has an error), writes
`<stem>.log` into the log folder, and only then moves both files to the done folder, the order
the connector relies on (see `DynamicsSLBackOffice.create_sales_order`).

It keeps the agent contract the connector relies on (docs/connectors/dynamics_sl.md): a job file is
claimed (renamed `<stem>.job.claimed`) before its import starts, so an agent that stops mid-import never
imports that file again: when it starts, it writes an "Interrupted:" log for each claimed file and moves
it to the done folder, and the connector looks in SL to see whether the import had committed.

It fails the way an on-premises agent does (`fault_plan`, operations "sales_order", "cancel",
"gl_batch"): a crash before the import (any fault but the "applied_*" ones and "latency"), or after
the import committed and before the log is written ("applied_then_reset"/"applied_then_timeout");
either way the agent is down for `restart_seconds`. A value that does not fit its column is an error
line in the log (the file is done with), never a file retried for ever.
"""

import logging
import os
import threading
import time
from datetime import datetime

from sqlalchemy import exc as sa_exc

from connectors.dynamics_sl import ti
from connectors.dynamics_sl.emulator import imports
from connectors.dynamics_sl.options import DEFAULT_LEVELS, SLOptions
from connectors.dynamics_sl.tables import for_schema
from connectors.faults import APPLIED, FaultPlan

logger = logging.getLogger(__name__)

# Control file -> what it imports; the defaults match the connector's default option values.
DEFAULT_CONTROL_FILES = {
    SLOptions.so_control_file: "sales_order",
    SLOptions.cancel_control_file: "cancel",
    SLOptions.gl_control_file: "gl_batch",
}


class TIRunner:
    """Watches a drop folder and imports each dropped file as SL's Transaction Import would."""

    def __init__(self, engine, *, drop_dir, log_dir, done_dir, schema="dynamics_sl", poll_seconds=1.0,
                 levels=None, control_files=None, line_ref_field="User1"):
        self.engine = for_schema(engine, schema)
        self.drop_dir, self.log_dir, self.done_dir = drop_dir, log_dir, done_dir
        self.poll_seconds = poll_seconds
        self.levels = levels or dict(DEFAULT_LEVELS)
        self.control_files = control_files or dict(DEFAULT_CONTROL_FILES)
        self.line_ref_field = line_ref_field
        self.fault_plan = FaultPlan()
        self.restart_seconds = 1.0  # how long the agent is down after a crash
        self.crashes = 0
        self._busy = threading.Lock()  # held while a file is imported, so pause() waits for it
        self._paused = False
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        for folder in (self.drop_dir, self.log_dir, self.done_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="sl-ti-runner", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def pause(self):
        """Stop importing (after the file in hand, if any) until resume()."""
        with self._busy:
            self._paused = True

    def resume(self):
        self._paused = False

    def _loop(self):
        while not self._stop.is_set():
            try:
                self.run_once()
            except AgentCrashed as crash:
                self.crashes += 1
                logger.info("TI agent crashed (%s); back in %.1f s", crash, self.restart_seconds)
                self._stop.wait(self.restart_seconds)
                self.recover()
            except Exception:  # keep watching: one bad file must not stop the agent
                logger.exception("TI runner failed")
            self._stop.wait(self.poll_seconds)

    def run_once(self):
        """Import every waiting file; return how many were imported (0 while paused)."""
        count = 0
        for job in sorted(self.drop_dir.glob("*.job")):
            with self._busy:
                if self._paused or self._stop.is_set():
                    return count
                if job.exists():
                    self._process(job)
                    count += 1
        return count

    def recover(self):
        """What an agent does when it starts: a file it had claimed was interrupted; it is reported, not
        imported again (Transaction Import keeps no record of what it imported)."""
        for claimed in sorted(self.drop_dir.glob(f"*.job{ti.CLAIMED}")):
            stem = claimed.name.split(".", 1)[0]
            ti.write_atomic(self.log_dir / f"{stem}.log", f"{ti.INTERRUPTED} the agent stopped while importing "
                            f"{stem}; the file was not imported again. Check SL before sending it again.\r\n")
            for path in (self.drop_dir / f"{stem}.csv", claimed):
                try:
                    os.replace(path, self.done_dir / path.name)
                except FileNotFoundError:
                    pass

    def _process(self, job):
        stem = job.stem
        claimed = job.with_name(job.name + ti.CLAIMED)
        try:
            os.replace(job, claimed)
        except FileNotFoundError:
            return
        settings = ti.parse_job(claimed.read_text(encoding="utf-8"))
        control, data_name = settings.get("control", ""), settings.get("data", "")
        data = self.drop_dir / data_name
        log = [f"Transaction Import {datetime.now():%m/%d/%Y %H:%M:%S} control file {control}, data file {data_name}"]
        screen = self.control_files.get(control)
        if screen is None:
            errors = [(0, f"control file '{control}' not found", "Control")]
        elif not data_name or not data.exists():
            errors = [(0, f"data file '{data_name}' not found", "Data")]
        else:
            fault = self.fault_plan.next(screen)
            if fault == "latency":
                time.sleep(self.fault_plan.hold_seconds)
            elif fault is not None and fault not in APPLIED:
                raise AgentCrashed(f"{fault} before importing {stem}")
            errors = self._import(screen, data.read_text(encoding="utf-8"))
            if fault in APPLIED and not errors:
                raise AgentCrashed(f"{fault} after {stem} was imported, before its log was written")
        log += [f"Line {line}: Error: {message} ({field})" for line, message, field in errors]
        log.append(f"Processing complete: {len(errors)} error(s)" + ("; nothing imported." if errors else "."))
        ti.write_atomic(self.log_dir / f"{stem}.log", "\r\n".join(log) + "\r\n")
        for path, name in ((data, data.name), (claimed, job.name)):
            try:
                os.replace(path, self.done_dir / name)
            except FileNotFoundError:
                pass  # a data file the job named but that was never there
        logger.info("TI imported %s with %s error(s)", stem, len(errors))

    def _import(self, screen, text):
        records = ti.parse_data(text, self.levels)
        errors = [(line, message, "Level") for line, level, message in records if level is None]
        if errors:
            return errors
        with self.engine.connect() as conn:
            try:
                if screen == "sales_order":
                    errors = imports.sales_orders(conn, records, self.line_ref_field)
                elif screen == "cancel":
                    errors = imports.cancellations(conn, records)
                else:
                    errors = imports.gl_batches(conn, records)
            except (sa_exc.DataError, sa_exc.IntegrityError) as error:  # e.g. a value too wide for its column
                errors = [(0, str(error.orig).splitlines()[0], "Database")]
            if errors:
                conn.rollback()
            else:
                conn.commit()
        return errors


class AgentCrashed(Exception):  # noqa: N818 - the scripted event, not an error of the emulator
    """The emulated agent process died (a scripted fault)."""
