"""What a flow run gets from its caller: :class:`FlowContext`, the registered Python
callables and webhooks (:class:`FlowCallables`), and the requests it hands back for
email and webhooks (:class:`EmailRequest`, :class:`WebhookRequest`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import Connection

from workroute.store.store import Store

__all__ = [
    "EmailRequest",
    "FlowCallable",
    "FlowCallables",
    "FlowContext",
    "Webhook",
    "WebhookRequest",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailRequest:
    """An email a flow sends (``emailSimple``); the runtime writes it to the outbox.
    ``sender`` None: the org's default sender."""

    to: tuple[str, ...]
    subject: str
    body: str
    sender: str | None = None
    html: bool = False


def _no_headers() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookRequest:
    """A webhook POST a flow makes; the runtime writes it to the outbox. ``body`` is
    the JSON of the action's inputs, UTF-8 encoded."""

    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=_no_headers)

    def json(self) -> object:
        return json.loads(self.body)


FlowCallable = Callable[[dict[str, object], "FlowContext"], object]
"""A registered callable: ``fn(inputs, ctx)`` returns a mapping of outputs (an
autolaunched flow or an apex action), or a bool (an evaluation flow)."""


@dataclass(frozen=True, slots=True)
class Webhook:
    url: str
    headers: Mapping[str, str]


class FlowCallables:
    """Python callables and webhook URLs flows can call, by name (any case).

    * ``register(name, fn)``: an ``actionCalls`` element with ``actionType`` apex (or
      externalService) and ``actionName`` name calls ``fn(inputs, ctx)``; and a flow
      *called* ``name`` (an evaluation or autolaunched flow a step names) runs ``fn``
      instead of its body, so a step can call Python without a deployed flow body.
    * ``register_webhook(name, url, headers=...)``: such an ``actionCalls`` element
      POSTs its inputs as JSON to ``url`` (through the outbox, after commit).
    """

    def __init__(self) -> None:
        self._functions: dict[str, tuple[str, FlowCallable]] = {}
        self._webhooks: dict[str, tuple[str, Webhook]] = {}

    def register(self, name: str, fn: FlowCallable) -> None:
        key = name.strip().lower()
        if key in self._webhooks:
            raise ValueError(f"'{name}' is registered as a webhook")
        self._functions[key] = (name, fn)

    def register_webhook(
        self, name: str, url: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        key = name.strip().lower()
        if key in self._functions:
            raise ValueError(f"'{name}' is registered as a Python callable")
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"webhook '{name}': '{url}' is not an http(s) URL")
        self._webhooks[key] = (name, Webhook(url, MappingProxyType(dict(headers or {}))))

    def unregister(self, name: str) -> None:
        key = name.strip().lower()
        self._functions.pop(key, None)
        self._webhooks.pop(key, None)

    def function(self, name: str) -> FlowCallable | None:
        found = self._functions.get(name.strip().lower())
        return None if found is None else found[1]

    def webhook(self, name: str) -> Webhook | None:
        found = self._webhooks.get(name.strip().lower())
        return None if found is None else found[1]

    def names(self) -> list[str]:
        return sorted(n for n, _ in (*self._functions.values(), *self._webhooks.values()))


@dataclass
class FlowContext:
    """Where and as whom a flow runs.

    ``conn`` is the caller's open transaction; the run's own writes go through
    ``store`` inside a savepoint of it, so a failing flow leaves nothing behind.
    ``user_id`` None runs in system context (writes are made as the org's first
    administrator). ``record`` is ``$Record`` (of ``record_object``, found from its
    Id when not given); ``load_record``, when ``record`` is None, reads it the first
    time the run needs it (a screen form that never names ``$Record`` costs no read).
    ``send_email`` and ``post_webhook`` receive what the run sends, once every
    element of the run has succeeded.
    """

    store: Store
    conn: Connection
    user_id: str | None
    now: datetime
    record: Mapping[str, object] | None = None
    record_object: str | None = None
    callables: FlowCallables | None = None
    send_email: Callable[[EmailRequest], None] | None = None
    post_webhook: Callable[[WebhookRequest], None] | None = None
    load_record: Callable[[], Mapping[str, object] | None] | None = None
