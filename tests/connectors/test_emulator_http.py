"""The emulators' HTTP server: connections kept alive like the real services', ended when it stops."""

import socket
import threading

import pytest
import requests

from connectors.amazon.emulator import EmulatorServer
from connectors.clarus.emulator import ClarusEmulator
from connectors.emulator_http import KeepAliveHandler, KeepAliveServer


def http_get(sock, path, *, close=False):
    extra = "Connection: close\r\n" if close else ""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: emulator\r\n{extra}\r\n".encode())
    return http_reply(sock)


def http_reply(sock):
    reply = sock.makefile("rb", buffering=0)
    status = reply.readline()
    headers = {}
    while (line := reply.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = reply.read(int(headers.get("content-length", 0)))
    return status, headers, body


@pytest.mark.parametrize("make", [EmulatorServer, ClarusEmulator], ids=["amazon", "clarus"])
def test_one_connection_serves_request_after_request(make):
    emulator = make().start()
    port = int(emulator.url.rsplit(":", 1)[1])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            answers = [http_get(sock, "/no-such-path") for _ in range(3)]
            assert all(status.startswith(b"HTTP/1.1 4") for status, _, _ in answers)
            assert all(body for _, _, body in answers)  # each reply whole, read by its length
            status, _, _ = http_get(sock, "/no-such-path", close=True)
            assert status.startswith(b"HTTP/1.1 4")
            assert sock.recv(1) == b""  # asked to close: closed after the reply
    finally:
        emulator.stop()


def test_a_body_the_app_never_reads_is_not_taken_for_the_next_request():
    def refuse(environ, start_response):  # answers without reading the request body, as a fault might
        path = environ["PATH_INFO"].encode()
        start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Content-Length", str(len(path)))])
        return [path]

    server = KeepAliveServer(("127.0.0.1", 0), KeepAliveHandler)
    server.set_app(refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=5) as sock:
            body = b"GET /smuggled HTTP/1.1\r\n\r\n" * 20
            sock.sendall(b"POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            first = http_reply(sock)
            second = http_get(sock, "/second")
            assert (first[0][:12], first[2]) == (b"HTTP/1.1 400", b"/first")
            assert (second[0][:12], second[2]) == (b"HTTP/1.1 400", b"/second")
    finally:
        server.stop()


def test_a_stopped_emulator_ends_its_kept_alive_connections():
    """An outage drill stops the emulator: a client's pooled connection must not go on being answered."""
    emulator = EmulatorServer().start()
    with requests.Session() as session:
        assert session.get(f"{emulator.url}/orders/v0/orders/nope").status_code == 403
        assert len(emulator.httpd.open_connections) == 1
        emulator.stop()
        with pytest.raises(requests.ConnectionError):
            session.get(f"{emulator.url}/orders/v0/orders/nope", timeout=5)


@pytest.mark.parametrize("length", ["-5", "ten"])
def test_a_request_of_unreadable_length_is_refused_and_the_connection_closed(length):
    emulator = EmulatorServer().start()
    try:
        with socket.create_connection(("127.0.0.1", emulator.httpd.server_port), timeout=5) as sock:
            smuggled = "GET /smuggled HTTP/1.1\r\n\r\n"
            sock.sendall(f"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{smuggled}".encode())
            status, _, _ = http_reply(sock)
            assert status.startswith(b"HTTP/1.1 400")
            try:
                rest = sock.recv(100)
            except ConnectionResetError:  # closed with the unread bytes still queued
                rest = b""
            assert rest == b""  # closed: nothing of the body was served as a request
    finally:
        emulator.stop()
