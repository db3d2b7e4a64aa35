"""Loopback servers that receive what workflow sends: an aiosmtpd handler keeping
every message, and a SOAP listener answering outbound messages with a chosen Ack.
Both let a test wait for an arrival on a condition with a deadline, never a sleep."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
WAIT_SECONDS = 30


def _wait(cond: threading.Condition, ready: Callable[[], bool], what: str) -> None:
    with cond:
        assert cond.wait_for(ready, timeout=WAIT_SECONDS), f"{what} did not arrive"


class Inbox:
    """aiosmtpd handler: ``messages`` holds (mail from, recipients, content)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        with self.arrived:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int) -> None:
        _wait(self.arrived, lambda: len(self.messages) >= count, f"email {count}")


class SoapListener:
    """A loopback SOAP listener; ``ack`` decides its answer; ``bodies`` is what came."""

    def __init__(self, port: int = 0) -> None:
        self.ack = "true"
        self.bodies: list[bytes] = []
        self.arrived = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answer = (
                    '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv='
                    '"http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
                    f'<notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>{outer.ack}</Ack>'
                    "</notificationsResponse></soapenv:Body></soapenv:Envelope>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                with outer.arrived:
                    outer.bodies.append(body)
                    outer.arrived.notify_all()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        self._closed = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/notify"

    def wait_for(self, count: int) -> None:
        _wait(self.arrived, lambda: len(self.bodies) >= count, f"notification {count}")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.server.shutdown()
            self.server.server_close()
