"""A threaded HTTP server run in a background thread (the guard's health endpoints, the
Bitget emulator): started, asked for its URL, stopped."""

from __future__ import annotations

import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps a server on this machine (127.0.0.0/8, ::1, localhost).
    Any other name or address may reach the network."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BackgroundHttpServer:
    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler]):
        """Binds at once (port 0: any free port), so a port in use fails here, not later."""
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
