"""The HTTP server under every emulator: the standard library's WSGI server, one thread per
connection, with HTTP/1.1 keep-alive as the real services have.

wsgiref alone answers in HTTP/1.0 and closes the connection after each request, so every call
of the hub paid a new TCP connection (and each side a thread or a socket set-up) that Amazon's and
Clarus's servers never make it pay. Here a connection serves requests until the client closes it,
asks for `Connection: close`, sends a body of unknown length, stays idle for IDLE_SECONDS, or the
app drops it on purpose (a scripted fault). Stopping the server also ends its open connections:
an emulator taken down must not go on answering over a pooled connection.
"""

import io
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

IDLE_SECONDS = 120  # an idle kept-alive connection is closed after this long (a client's pool notices)
MAX_REQUEST_LINE = 65536


class _Handler11(ServerHandler):
    http_version = "1.1"
    reusable = False  # the reply went out whole with its length: the connection may serve another request

    def close(self):
        declared = self.headers.get("Content-Length") if self.headers_sent and self.headers is not None else None
        self.reusable = declared is not None and declared.isdigit() and int(declared) == self.bytes_sent
        super().close()  # forgets the reply's headers


class KeepAliveServer(socketserver.ThreadingMixIn, WSGIServer):
    """A threading WSGI server that knows its open connections, so `close_connections` can end them."""

    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        # HTTPServer's server_bind looks up the host's name (socket.getfqdn), which can stall on loopback.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
        self.setup_environ()

    def __init__(self, *args, **kwargs):
        self.open_connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        # Known before its thread starts: a connection accepted just before stop() is ended with the rest.
        with self.connections_lock:
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        with self.connections_lock:
            open_now = list(self.open_connections)
        for sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        """Stop accepting, then end every connection still open."""
        self.shutdown()
        self.server_close()
        self.close_connections()


class KeepAliveHandler(WSGIRequestHandler):
    """Serves the requests of one connection in turn; subclasses add to the environ or the log."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS

    def setup(self):
        super().setup()
        # wsgiref writes the headers and the body apart: without this, Nagle holds the body back until
        # the client's delayed ACK of the headers (40 ms a request on a kept-alive connection).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def finish(self):
        try:
            super().finish()
        except OSError:  # the peer (or a scripted fault) has already reset the connection
            pass

    # wsgiref's handler serves one request; http.server's loops until close_connection, as wanted here.
    handle = BaseHTTPRequestHandler.handle

    def handle_one_request(self):
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
        except OSError:  # idle too long, or reset by the peer
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > MAX_REQUEST_LINE:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            self.close_connection = True
            return
        if not self.parse_request():  # it sent the error; parse_request set close_connection
            self.close_connection = True
            return
        if self.headers.get("Transfer-Encoding"):  # a body of unknown length: served, then closed
            self.close_connection = True
            body = self.rfile
        else:
            # The whole body is read before the app runs, so a reply that ignores it (an error, a
            # fault) cannot leave bytes that would be read as the next request.
            length = (self.headers.get("Content-Length") or "0").strip()
            if not length.isdigit():
                self.send_error(400, "Bad Content-Length")
                self.close_connection = True
                return
            body = io.BytesIO(self.rfile.read(int(length)))
        handler = _Handler11(body, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self
        handler.run(self.server.get_app())
        if not handler.reusable:
            self.close_connection = True  # no complete reply (dropped on purpose) or one of unknown length
