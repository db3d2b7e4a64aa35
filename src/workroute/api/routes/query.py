"""/query and /queryAll with Salesforce's paging: nextRecordsUrl names a query locator.

A locator keeps the compiled query and the position reached; it lives in memory for
15 minutes after its last use, as Salesforce's cursors do.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Query, Request

from workroute.api.deps import CtxDep
from workroute.auth.access import Action, check_object_access, read_filter
from workroute.kernel.errors import InvalidQueryLocatorError, MalformedQueryError
from workroute.store.soql import CompiledQuery, SoqlEngine

router = APIRouter()

DEFAULT_BATCH = 2000
MIN_BATCH = 200
MAX_LOCATORS = 1000
LOCATOR_TTL_SECONDS = 15 * 60
_BATCH_RE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


@dataclass
class _Cursor:
    query: CompiledQuery
    user_id: str
    total: int
    batch: int
    last_used: float


class Locators:
    """Open query cursors by locator id (bounded, least recently used dropped first)."""

    def __init__(self) -> None:
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, cursor: _Cursor) -> str:
        locator = "01g" + secrets.token_hex(8)
        with self._lock:
            self._cursors[locator] = cursor
            while len(self._cursors) > MAX_LOCATORS:
                self._cursors.popitem(last=False)
        return locator

    def get(self, locator: str, user_id: str, now: float) -> _Cursor:
        with self._lock:
            cursor = self._cursors.get(locator)
            if cursor is None or cursor.user_id != user_id:
                raise InvalidQueryLocatorError("invalid query locator")
            if now - cursor.last_used > LOCATOR_TTL_SECONDS:
                del self._cursors[locator]
                raise InvalidQueryLocatorError("invalid query locator: it has expired")
            cursor.last_used = now
            self._cursors.move_to_end(locator)
            return cursor


def _locators(request: Request) -> Locators:
    locators: Locators | None = getattr(request.app.state, "locators", None)
    if locators is None:
        locators = request.app.state.locators = Locators()
    return locators


def _batch_size(request: Request) -> int:
    m = _BATCH_RE.search(request.headers.get("sforce-query-options", ""))
    if not m:
        return DEFAULT_BATCH
    return max(MIN_BATCH, min(DEFAULT_BATCH, int(m.group(1))))


def _page(
    request: Request, ctx: CtxDep, cursor: _Cursor, offset: int, endpoint: str
) -> dict[str, Any]:
    engine = SoqlEngine(ctx.org.store, user_id=ctx.principal.user_id)
    records = engine.fetch(cursor.query, offset=offset, limit=cursor.batch, base=ctx.base)
    end = offset + len(records)
    body: dict[str, Any] = {
        "totalSize": cursor.total,
        "done": end >= cursor.total,
        "records": records,
    }
    if end < cursor.total:
        locator = getattr(request.state, "locator", None)
        if locator is None:
            locator = _locators(request).open(cursor)
        body["nextRecordsUrl"] = f"{ctx.base}/{endpoint}/{locator}-{end}"
    return body


def _run(request: Request, ctx: CtxDep, q: str | None, *, include_deleted: bool) -> Any:
    if not q or not q.strip():
        raise MalformedQueryError("A query string is required (the q parameter)")
    engine = SoqlEngine(ctx.org.store, user_id=ctx.principal.user_id)
    compiled = engine.compile(q, include_deleted=include_deleted)
    check_object_access(ctx.principal, compiled.obj, Action.READ)
    compiled.owner_filter = read_filter(ctx.org.store, ctx.principal, compiled.obj)
    if compiled.is_aggregate:
        return engine.aggregate(compiled, base=ctx.base)
    total = engine.count(compiled)
    if compiled.count_only:
        return {"totalSize": total, "done": True, "records": []}
    cursor = _Cursor(
        compiled,
        ctx.principal.user_id,
        total,
        _batch_size(request),
        ctx.org.clock.now().timestamp(),
    )
    return _page(request, ctx, cursor, 0, "queryAll" if include_deleted else "query")


@router.get("/services/data/{version}/query", tags=["query"])
def query(request: Request, ctx: CtxDep, q: str | None = Query(default=None)) -> Any:
    return _run(request, ctx, q, include_deleted=False)


@router.get("/services/data/{version}/queryAll", tags=["query"])
def query_all(request: Request, ctx: CtxDep, q: str | None = Query(default=None)) -> Any:
    return _run(request, ctx, q, include_deleted=True)


@router.get("/services/data/{version}/query/{locator}", tags=["query"])
def query_more(request: Request, locator: str, ctx: CtxDep) -> Any:
    return _more(request, ctx, locator, "query")


@router.get("/services/data/{version}/queryAll/{locator}", tags=["query"])
def query_all_more(request: Request, locator: str, ctx: CtxDep) -> Any:
    return _more(request, ctx, locator, "queryAll")


def _more(request: Request, ctx: CtxDep, locator: str, endpoint: str) -> Any:
    name, _, position = locator.rpartition("-")
    if not name or not position.isdigit():
        raise InvalidQueryLocatorError("invalid query locator")
    cursor = _locators(request).get(name, ctx.principal.user_id, ctx.org.clock.now().timestamp())
    request.state.locator = name
    offset = int(position)
    if offset > cursor.total:
        raise InvalidQueryLocatorError("invalid query locator: position out of range")
    return _page(request, ctx, cursor, offset, endpoint)
