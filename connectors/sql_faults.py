"""A fault-injecting proxy in front of Postgres, for the back offices the hub reaches over SQL.

The Sage 500 emulator is a schema in Postgres; what goes wrong between a connector and a real SQL
Server happens on the wire: the connection resets, a statement hangs until the client gives up,
the server picks the transaction as a deadlock victim, or the COMMIT takes effect and its reply
never arrives. The proxy speaks just enough of the Postgres protocol (v3) to do those things to
one transaction at a time, driven by the same FaultPlan as the HTTP emulators:

    proxy = SqlFaultProxy(("127.0.0.1", 5432), operations=SAGE500_OPERATIONS).start()
    proxy.plan.script("spSOapiSalesOrdIns", "applied_then_reset")
    ... point the connection's endpoint at 127.0.0.1:proxy.port ...

A transaction's operation is the first entry of `operations` (a lower-case fragment of SQL, the
operation's name) that one of its statements contains; the plan is asked once per transaction.
What each fault does to that transaction:
- "reset": the connection is reset when the statement arrives; the server rolls back;
- "timeout": the statement is held `hold_seconds`, then the connection is reset; rolled back;
- "deadlock": the statement is answered with SQLSTATE 40P01 (deadlock detected) without running;
- "applied_then_reset" / "applied_then_timeout": the transaction runs and its COMMIT takes effect
  on the server; the reply is dropped (at once / after `hold_seconds`) and the connection reset;
- "latency": the statement is held `hold_seconds`, then runs.
HTTP-only kinds (429, 5xx, html_502) mean nothing on this wire and are refused by `script`.
SSL is declined, so the stream can be read; the proxy is for loopback tests and the chaos run.
"""

import logging
import socket
import struct
import threading
import time

from connectors.faults import FaultPlan, reset_socket

logger = logging.getLogger(__name__)

SQL_KINDS = ("reset", "timeout", "deadlock", "applied_then_reset", "applied_then_timeout", "latency")
SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST = 80877103, 80877104, 80877102

# (lower-case SQL fragment, operation) for the Sage 500 connector's transactions, first match wins.
SAGE500_OPERATIONS = (
    ("spsoapisalesordins", "spSOapiSalesOrdIns"),
    ("spglapigltransactionins", "spglapiGLTransactionIns"),
    ("insert into tsmmigratesession", "stage"),
    ("tsoshipment", "list dispatches"),
    ("timinventory", "get stock"),
    ("tsosalesorder", "find sales order"),
)


def sql_fault_plan(hold_seconds=2.0):
    """A FaultPlan that knows the SQL kinds ("deadlock") and refuses the HTTP ones."""
    return FaultPlan(hold_seconds, kinds=SQL_KINDS)


def _read_exactly(sock, count):
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return bytes(data)


def _read_message(sock):
    """(type byte, whole message bytes) of one typed protocol message."""
    head = _read_exactly(sock, 5)
    (length,) = struct.unpack("!I", head[1:])
    return head[:1], head + _read_exactly(sock, length - 4)


def _statement_text(kind, message):
    """The SQL of a simple Query ('Q') or a Parse ('P'), lower-cased; '' for other messages."""
    body = message[5:]
    if kind == b"Q":
        return body.split(b"\0", 1)[0].decode("utf-8", "replace").lower()
    if kind == b"P":
        parts = body.split(b"\0", 2)
        return parts[1].decode("utf-8", "replace").lower() if len(parts) > 1 else ""
    return ""


def _error_response(sqlstate, message):
    fields = b"".join(code + value.encode() + b"\0" for code, value in
                      ((b"S", "ERROR"), (b"V", "ERROR"), (b"C", sqlstate), (b"M", message)))
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


def _ready_for_query(status):
    return b"Z" + struct.pack("!I", 5) + status


class _Session:
    """One client connection and its server connection, with the fault of the current transaction."""

    def __init__(self, proxy, client):
        self.proxy = proxy
        self.client = client
        self.server = None
        self.write_lock = threading.Lock()
        self.status = b"I"  # the server's last ReadyForQuery transaction status
        self.operation = None  # of the current transaction, once a statement named it
        self.fault = None
        self.drop_after_commit = None  # set while an applied_* COMMIT is on its way
        self.closed = threading.Event()

    def run(self):
        try:
            if not self._startup():
                return
            threading.Thread(target=self._server_to_client, daemon=True).start()
            self._client_to_server()
        except (ConnectionError, OSError):
            pass
        finally:
            self.close()

    def close(self, reset=False):
        if self.closed.is_set():
            return
        self.closed.set()
        for sock in (self.client, self.server):
            if sock is None:
                continue
            if reset:
                reset_socket(sock)
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the other thread's recv; close alone would not
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass

    def _send_client(self, data):
        with self.write_lock:
            self.client.sendall(data)

    def _startup(self):
        """Decline SSL/GSS so the stream stays readable, then pass the startup packet on."""
        while True:
            head = _read_exactly(self.client, 8)
            length, code = struct.unpack("!II", head)
            packet = head + _read_exactly(self.client, length - 8)
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                self.client.sendall(b"N")
                continue
            upstream = self.proxy.upstream
            if isinstance(upstream, str):  # a Unix socket (the embedded Postgres of make run / make chaos)
                self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.server.connect(upstream)
            else:
                self.server = socket.create_connection(upstream)
            self.server.sendall(packet)
            return code != CANCEL_REQUEST

    def _server_to_client(self):
        """Relay the server's replies in whole chunks (a result set is thousands of messages), reading
        just the message boundaries to follow the transaction status and to drop a lost COMMIT's reply."""
        pending = b""
        try:
            while not self.closed.is_set():
                chunk = self.server.recv(65536)
                if not chunk:
                    return
                pending += chunk
                position, ready = 0, False
                while len(pending) - position >= 5:
                    end = position + 1 + int.from_bytes(pending[position + 1:position + 5], "big")
                    if end > len(pending):
                        break
                    if pending[position:position + 1] == b"Z":
                        self.status, ready = pending[position + 5:end], True
                    position = end
                complete, pending = pending[:position], pending[position:]
                if self.drop_after_commit:
                    if ready:  # the COMMIT is done on the server; its reply is lost
                        if self.drop_after_commit == "applied_then_timeout":
                            time.sleep(self.proxy.plan.hold_seconds)
                        self.close(reset=True)
                        return
                    continue
                if complete:
                    self._send_client(complete)
        except (ConnectionError, OSError):
            pass
        finally:
            self.close()

    def _client_to_server(self):
        while not self.closed.is_set():
            kind, message = _read_message(self.client)
            sql = _statement_text(kind, message)
            if sql:
                if not self._before_statement(kind, sql):
                    if self.closed.is_set():
                        return
                    continue  # answered by the proxy (deadlock)
            self.server.sendall(message)
            if kind == b"X":
                return

    def _before_statement(self, kind, sql):
        """Apply the transaction's fault to this statement; False when it must not reach the server."""
        words = sql.strip().rstrip(";").split()
        verb = words[0] if words else ""
        if verb in ("commit", "end", "rollback", "abort"):
            if verb in ("commit", "end") and self.fault in ("applied_then_reset", "applied_then_timeout"):
                self.drop_after_commit = self.fault
            self.operation = self.fault = None
            return True
        if self.operation is None:
            operation = next((name for fragment, name in self.proxy.operations if fragment in sql), None)
            if operation is None:
                return True
            self.operation = operation
            self.fault = self.proxy.plan.next(operation)
            fault = self.fault
            if fault in ("reset", "timeout"):
                if fault == "timeout":
                    time.sleep(self.proxy.plan.hold_seconds)
                self.close(reset=True)
                return False
            if fault == "latency":
                time.sleep(self.proxy.plan.hold_seconds)
            if fault == "deadlock":
                self._answer_deadlock(kind)
                return False
        return True

    def _answer_deadlock(self, kind):
        """Answer the statement (and, for the extended protocol, everything up to its Sync) with
        40P01, as the server does for a deadlock victim; the client then rolls back."""
        if kind == b"P":
            while True:
                following, _ = _read_message(self.client)
                if following == b"S":
                    break
        status = b"E" if self.status in (b"T", b"E") else b"I"
        self._send_client(_error_response("40P01", "deadlock detected (injected by the emulator's proxy)")
                          + _ready_for_query(status))


def upstream_of(url):
    """Where a Postgres URL (SQLAlchemy URL or text) connects: (host, port), or a Unix socket's path."""
    from sqlalchemy.engine import make_url

    url = make_url(str(url)) if not hasattr(url, "host") else url
    host = url.host or url.query.get("host") or "/var/run/postgresql"
    port = url.port or 5432
    if host.startswith("/"):
        return f"{host}/.s.PGSQL.{port}"
    return (host, port)


def through(url, proxy):
    """`url` (a SQLAlchemy URL) reaching the database through `proxy` instead."""
    query = {key: value for key, value in url.query.items() if key != "host"}
    return url.set(host="127.0.0.1", port=proxy.port, query=query)


class SqlFaultProxy:
    """Listens on 127.0.0.1 (a free port unless given) and relays to `upstream`: (host, port) or the
    path of a Unix socket."""

    def __init__(self, upstream, *, operations=SAGE500_OPERATIONS, plan=None, port=0):
        self.upstream = upstream
        self.operations = tuple(operations)
        self.plan = plan or sql_fault_plan()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self.port = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        self._sessions = []
        self._sessions_lock = threading.Lock()  # an outage must reach a session accepted the same instant
        self.down = False

    def start(self):
        self._listener.listen(64)
        threading.Thread(target=self._accept, daemon=True, name=f"sql-fault-proxy:{self.port}").start()
        return self

    def _accept(self):
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._sessions_lock:
                if self.down:  # the server is unreachable: every connection is reset at once
                    reset_socket(client)
                    client.close()
                    continue
                session = _Session(self, client)
                self._sessions = [s for s in self._sessions if not s.closed.is_set()] + [session]
            threading.Thread(target=session.run, daemon=True).start()

    def set_outage(self, down):
        """Down: every open connection is reset and new ones are refused, as when the server or the
        network to it fails; up again: connections are accepted."""
        with self._sessions_lock:
            self.down = bool(down)
            sessions = list(self._sessions) if self.down else []
        for session in sessions:
            session.close(reset=True)

    def stop(self):
        self._stopped.set()
        try:
            self._listener.close()
        except OSError:
            pass
        for session in list(self._sessions):
            session.close()
