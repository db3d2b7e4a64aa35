"""sObject collections: /composite/sobjects create, update, delete and retrieve up to 200
records in one request, as jsforce does for lists of records.

``allOrNone`` true: one transaction, the first error rolls everything back and every
record reports it (Salesforce answers ALL_OR_NONE_OPERATION_ROLLED_BACK for the
others). false: each record saves on its own and reports its own result. Records of
one type are saved as one bulk call when they all succeed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from workroute.api.deps import CtxDep, JsonObject
from workroute.auth.access import Action, check_object_access, check_record_write, read_filter
from workroute.kernel.errors import (
    InvalidFieldError,
    JsonParserError,
    LimitExceededError,
    MalformedIdError,
    WorkrouteError,
)
from workroute.kernel.ids import normalize_id
from workroute.store.soql import SoqlEngine

router = APIRouter()

MAX_RECORDS = 200
_ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was "
    "using AllOrNone header",
    "fields": [],
}


def _result(record_id: str | None, error: WorkrouteError | None = None) -> dict[str, Any]:
    if error is None:
        return {"id": record_id, "success": True, "errors": []}
    return {
        "id": record_id,
        "success": False,
        "errors": [{"statusCode": error.code, "message": error.message, "fields": error.fields}],
    }


def _records(body: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    records = body.get("records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise JsonParserError("'records' must be a list of sObjects")
    if not records:
        raise InvalidFieldError("'records' is empty", fields=["records"])
    if len(records) > MAX_RECORDS:
        raise LimitExceededError(f"at most {MAX_RECORDS} records per request")
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise JsonParserError("'allOrNone' must be true or false")
    return records, all_or_none


def _type_of(record: dict[str, Any]) -> str:
    attributes = record.get("attributes")
    kind = attributes.get("type") if isinstance(attributes, dict) else None
    if not isinstance(kind, str) or not kind:
        raise InvalidFieldError("each record needs attributes.type", fields=["attributes"])
    return kind


def _save_each(
    ctx: CtxDep,
    records: list[dict[str, Any]],
    all_or_none: bool,
    save: Callable[[str, list[dict[str, Any]]], list[str]],
    action: Action,
) -> list[dict[str, Any]]:
    """Save records grouped by type; the per-record fallback gives each its own result."""
    store = ctx.org.store
    results: list[dict[str, Any] | None] = [None] * len(records)
    by_type: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        try:
            obj = store.schema.get(_type_of(record))
            check_object_access(ctx.principal, obj, action)
            by_type.setdefault(obj.name, []).append(i)
        except WorkrouteError as exc:
            if all_or_none:
                return _rolled_back(len(records), i, exc)
            results[i] = _result(None, exc)
    if all_or_none:
        try:
            with store.db.write():
                for name, indexes in by_type.items():
                    ids = save(name, [_body(records[i]) for i in indexes])
                    for i, rid in zip(indexes, ids, strict=True):
                        results[i] = _result(rid)
        except WorkrouteError as exc:
            failed, error = _failed_index(ctx, records, by_type, save)
            return _rolled_back(len(records), failed, error or exc)
        return [r for r in results if r is not None]
    for name, indexes in by_type.items():
        try:
            ids = save(name, [_body(records[i]) for i in indexes])
            for i, rid in zip(indexes, ids, strict=True):
                results[i] = _result(rid)
        except WorkrouteError:
            for i in indexes:
                try:
                    results[i] = _result(save(name, [_body(records[i])])[0])
                except WorkrouteError as exc:
                    results[i] = _result(records[i].get("Id"), exc)
    return [r if r is not None else _result(None) for r in results]


class _Undo(Exception):
    """Raised to roll back a probing transaction."""


def _failed_index(
    ctx: CtxDep,
    records: list[dict[str, Any]],
    by_type: dict[str, list[int]],
    save: Callable[[str, list[dict[str, Any]]], list[str]],
) -> tuple[int, WorkrouteError | None]:
    """Which record made an all-or-none save fail, and its error.

    The records are replayed one by one in a transaction that is always rolled back.
    """
    found: tuple[int, WorkrouteError | None] = (-1, None)
    try:
        with ctx.org.store.db.write():
            for name, indexes in by_type.items():
                for i in indexes:
                    try:
                        save(name, [_body(records[i])])
                    except WorkrouteError as exc:
                        found = (i, exc)
                        raise _Undo from exc
            raise _Undo
    except _Undo:
        pass
    return found


def _rolled_back(count: int, failed: int, error: WorkrouteError) -> list[dict[str, Any]]:
    failure = _result(None, error)
    out = []
    for i in range(count):
        if failed in (-1, i):
            out.append(failure)
        else:
            out.append({"id": None, "success": False, "errors": [dict(_ROLLED_BACK)]})
    return out


def _body(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "attributes"}


@router.post("/services/data/{version}/composite/sobjects", tags=["composite"])
def create_collection(ctx: CtxDep, body: JsonObject) -> JSONResponse:
    records, all_or_none = _records(body)
    for record in records:
        if any(k.lower() == "id" for k in record):
            raise InvalidFieldError("cannot specify Id in an insert call", fields=["Id"])

    def save(name: str, rows: list[dict[str, Any]]) -> list[str]:
        return ctx.org.store.insert(name, rows, user_id=ctx.principal.user_id, from_api=True)

    return JSONResponse(_save_each(ctx, records, all_or_none, save, Action.CREATE))


@router.patch("/services/data/{version}/composite/sobjects", tags=["composite"])
def update_collection(ctx: CtxDep, body: JsonObject) -> JSONResponse:
    records, all_or_none = _records(body)

    def save(name: str, rows: list[dict[str, Any]]) -> list[str]:
        ids = [normalize_id(_only_id(r)) for r in rows]
        check_record_write(ctx.org.store, ctx.principal, ctx.org.schema.get(name), ids)
        ctx.org.store.update(
            name,
            [{**r, "Id": i} for r, i in zip(rows, ids, strict=True)],
            user_id=ctx.principal.user_id,
            from_api=True,
        )
        return ids

    return JSONResponse(_save_each(ctx, records, all_or_none, save, Action.EDIT))


def _only_id(record: dict[str, Any]) -> object:
    keys = [k for k in record if k.lower() == "id"]
    if len(keys) != 1:
        raise MalformedIdError("each record needs exactly one Id", fields=["Id"])
    return record.pop(keys[0])


@router.delete("/services/data/{version}/composite/sobjects", tags=["composite"])
def delete_collection(
    ctx: CtxDep,
    ids: str = Query(..., description="Comma-separated record ids (at most 200)"),
    allOrNone: bool = Query(default=False),
) -> JSONResponse:
    wanted = [i.strip() for i in ids.split(",") if i.strip()]
    if not wanted or len(wanted) > MAX_RECORDS:
        raise LimitExceededError(f"give 1 to {MAX_RECORDS} ids")
    store = ctx.org.store
    records = []
    for rid in wanted:
        try:
            obj = store.schema.object_for_id(normalize_id(rid))
        except WorkrouteError:
            obj = None
        records.append({"attributes": {"type": obj.name if obj else "?"}, "Id": rid})

    def save(name: str, rows: list[dict[str, Any]]) -> list[str]:
        rids = [normalize_id(r["Id"]) for r in rows]
        check_record_write(store, ctx.principal, store.schema.get(name), rids)
        store.delete(name, rids, user_id=ctx.principal.user_id)
        return rids

    return JSONResponse(_save_each(ctx, records, allOrNone, save, Action.DELETE))


@router.get("/services/data/{version}/composite/sobjects/{sobject}", tags=["composite"])
def retrieve_collection(
    sobject: str,
    ctx: CtxDep,
    ids: str = Query(..., description="Comma-separated record ids (at most 2000)"),
    fields: str = Query(..., description="Comma-separated field names"),
) -> JSONResponse:
    obj = ctx.org.schema.get(sobject)
    check_object_access(ctx.principal, obj, Action.READ)
    wanted = [i.strip() for i in ids.split(",") if i.strip()]
    if not wanted or len(wanted) > 2000:
        raise LimitExceededError("give 1 to 2000 ids")
    names = [f.strip() for f in fields.split(",") if f.strip()]
    engine = SoqlEngine(ctx.org.store, user_id=ctx.principal.user_id)
    owners = read_filter(ctx.org.store, ctx.principal, obj)
    out: list[dict[str, Any] | None] = []
    for rid in wanted:
        try:
            out.append(
                engine.retrieve(
                    obj.name, normalize_id(rid), names, base=ctx.base, owner_filter=owners
                )
            )
        except WorkrouteError as exc:
            if isinstance(exc, InvalidFieldError):
                raise
            out.append(None)  # Salesforce gives null for an id it can't return
    return JSONResponse(out)
