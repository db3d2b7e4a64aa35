"""/services/data/vNN.0: versions, describe, and record create/retrieve/update/delete/upsert."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from workroute.api.deps import (
    MAX_API_VERSION,
    MIN_API_VERSION,
    CtxDep,
    JsonObject,
    api_version,
    get_principal,
)
from workroute.api.describe import describe_global, describe_object, object_summary
from workroute.auth.access import (
    Action,
    check_object_access,
    check_record_write,
    read_filter,
)
from workroute.auth.principal import Permission
from workroute.kernel.errors import (
    InsufficientAccessError,
    InvalidFieldError,
    InvalidFieldForInsertUpdateError,
    MalformedIdError,
    NotFoundError,
)
from workroute.kernel.ids import normalize_id
from workroute.schema.model import ObjectDef
from workroute.store.soql import SoqlEngine

router = APIRouter()
# Registered before ``router`` so /sobjects/User/{id}/password wins over external-id paths.
users_router = APIRouter()

# Fields of User that only a user administrator may change, even on their own record.
_USER_ADMIN_FIELDS = frozenset({"profileid", "userroleid", "isactive", "username"})


def _release(v: int) -> str:
    """Salesforce's release name: v20.0 was Winter '11, three releases a year since."""
    idx = v - 20
    return f"{('Winter', 'Spring', 'Summer')[idx % 3]} '{11 + idx // 3:02d}"


@users_router.post("/services/data/{version}/sobjects/User/{user_id}/password", tags=["users"])
def set_password(user_id: str, ctx: CtxDep, body: JsonObject) -> Response:
    rid = _record_id(ctx.org.schema.get("User"), user_id)
    if rid != ctx.principal.user_id and not ctx.principal.has(Permission.MANAGE_USERS):
        raise InsufficientAccessError("setting another user's password needs ManageUsers")
    password = body.get("NewPassword")
    if not isinstance(password, str):
        raise InvalidFieldError("NewPassword must be a string", fields=["NewPassword"])
    ctx.org.auth.set_password(rid, password)
    return Response(status_code=204)


@users_router.get("/services/data/{version}/sobjects/User/{user_id}/password", tags=["users"])
def password_status(user_id: str, ctx: CtxDep) -> dict[str, bool]:
    rid = _record_id(ctx.org.schema.get("User"), user_id)
    if rid != ctx.principal.user_id and not ctx.principal.has(Permission.MANAGE_USERS):
        raise InsufficientAccessError("reading another user's password status needs ManageUsers")
    ctx.org.store.get("User", rid, ["Id"])
    return {"isExpired": not ctx.org.auth.has_password(rid)}


@router.get("/services/data", tags=["data"])
def versions() -> list[dict[str, str]]:
    """The API versions this server speaks."""
    return [
        {"label": _release(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
        for v in range(MIN_API_VERSION, MAX_API_VERSION + 1)
    ]


@router.get("/services/data/{version}", tags=["data"], dependencies=[Depends(get_principal)])
def resources(version: str) -> dict[str, str]:
    base = f"/services/data/{api_version(version)}"
    return {name: f"{base}/{name}" for name in ("sobjects", "query", "queryAll", "limits")}


@router.get("/services/data/{version}/sobjects", tags=["data"])
def global_describe(ctx: CtxDep) -> dict[str, Any]:
    return describe_global(ctx.org.schema, ctx.base)


@router.get("/services/data/{version}/sobjects/{sobject}", tags=["data"])
def sobject_info(sobject: str, ctx: CtxDep) -> dict[str, Any]:
    obj = ctx.org.schema.get(sobject)
    return {"objectDescribe": object_summary(obj, ctx.base), "recentItems": []}


@router.get("/services/data/{version}/sobjects/{sobject}/describe", tags=["data"])
def sobject_describe(sobject: str, ctx: CtxDep) -> dict[str, Any]:
    obj = ctx.org.schema.get(sobject)
    return describe_object(obj, ctx.org.schema, ctx.base)


@router.post("/services/data/{version}/sobjects/{sobject}", tags=["data"], status_code=201)
def create(sobject: str, ctx: CtxDep, body: JsonObject) -> JSONResponse:
    obj = ctx.org.schema.get(sobject)
    check_object_access(ctx.principal, obj, Action.CREATE)
    new_id = ctx.org.store.insert(obj.name, [body], user_id=ctx.principal.user_id, from_api=True)[0]
    return JSONResponse({"id": new_id, "success": True, "errors": []}, status_code=201)


@router.get("/services/data/{version}/sobjects/{sobject}/{record_id}", tags=["data"])
def retrieve(
    sobject: str,
    record_id: str,
    ctx: CtxDep,
    fields: str | None = Query(default=None),
) -> dict[str, Any]:
    obj = ctx.org.schema.get(sobject)
    check_object_access(ctx.principal, obj, Action.READ)
    rid = _record_id(obj, record_id)
    names = [f for f in fields.split(",") if f.strip()] if fields else None
    engine = SoqlEngine(ctx.org.store, user_id=ctx.principal.user_id)
    return engine.retrieve(
        obj.name,
        rid,
        names,
        base=ctx.base,
        owner_filter=read_filter(ctx.org.store, ctx.principal, obj),
    )


@router.patch("/services/data/{version}/sobjects/{sobject}/{record_id}", tags=["data"])
def update(sobject: str, record_id: str, ctx: CtxDep, body: JsonObject) -> Response:
    obj = ctx.org.schema.get(sobject)
    rid = _record_id(obj, record_id)
    check_object_access(ctx.principal, obj, Action.EDIT, record_id=rid)
    _guard_self_edit(ctx.principal.has(Permission.MANAGE_USERS), obj, body)
    changes = _without_own_id(body, rid)
    check_record_write(ctx.org.store, ctx.principal, obj, [rid])
    ctx.org.store.update(
        obj.name, [{**changes, "Id": rid}], user_id=ctx.principal.user_id, from_api=True
    )
    return Response(status_code=204)


@router.delete("/services/data/{version}/sobjects/{sobject}/{record_id}", tags=["data"])
def delete(sobject: str, record_id: str, ctx: CtxDep) -> Response:
    obj = ctx.org.schema.get(sobject)
    check_object_access(ctx.principal, obj, Action.DELETE)
    rid = _record_id(obj, record_id)
    check_record_write(ctx.org.store, ctx.principal, obj, [rid])
    ctx.org.store.delete(obj.name, [rid], user_id=ctx.principal.user_id)
    return Response(status_code=204)


@router.get("/services/data/{version}/sobjects/{sobject}/{field}/{value}", tags=["data"])
def retrieve_by_external_id(
    sobject: str, field: str, value: str, ctx: CtxDep, fields: str | None = Query(default=None)
) -> dict[str, Any]:
    obj = ctx.org.schema.get(sobject)
    check_object_access(ctx.principal, obj, Action.READ)
    f = _external_field(obj, field)
    store = ctx.org.store
    key = store.plan(obj).fields[f.key].coerce(value)
    ids = store.select_ids(obj, f.name, key)
    if not ids:
        raise NotFoundError("The requested resource does not exist")
    names = [n for n in fields.split(",") if n.strip()] if fields else None
    engine = SoqlEngine(store, user_id=ctx.principal.user_id)
    return engine.retrieve(
        obj.name,
        ids[0],
        names,
        base=ctx.base,
        owner_filter=read_filter(store, ctx.principal, obj),
    )


@router.patch("/services/data/{version}/sobjects/{sobject}/{field}/{value}", tags=["data"])
def upsert(sobject: str, field: str, value: str, ctx: CtxDep, body: JsonObject) -> JSONResponse:
    obj = ctx.org.schema.get(sobject)
    f = _external_field(obj, field)
    for k in body:
        if k.lower() == f.key:
            raise InvalidFieldError(
                f"The external ID field {f.name} is given in the URL; leave it out of the body",
                fields=[f.name],
            )
        if k.lower() == "id":
            # The record is found by the external id; an Id here would pick another one.
            raise InvalidFieldForInsertUpdateError(
                "Unable to create/update fields: Id. The record of an upsert is matched by "
                f"{f.name}; leave Id out of the body",
                fields=["Id"],
            )
    check_object_access(ctx.principal, obj, Action.CREATE)
    check_object_access(ctx.principal, obj, Action.EDIT)
    store = ctx.org.store
    existing = store.select_ids(obj, f.name, store.plan(obj).fields[f.key].coerce(value))
    check_record_write(store, ctx.principal, obj, existing)
    [(rid, created)] = ctx.org.store.upsert(
        obj.name,
        f.name,
        [{**body, f.name: value}],
        user_id=ctx.principal.user_id,
        from_api=True,
    )
    return JSONResponse(
        {"id": rid, "success": True, "errors": [], "created": created},
        status_code=201 if created else 200,
    )


@router.get("/services/data/{version}/limits", tags=["data"])
def limits(request: Request, ctx: CtxDep) -> dict[str, dict[str, int]]:
    used = int(request.app.state.api_calls)
    return {
        "DailyApiRequests": {"Max": 15000, "Remaining": max(0, 15000 - used)},
        "DataStorageMB": {"Max": 1024, "Remaining": 1024},
        "FileStorageMB": {"Max": 1024, "Remaining": 1024},
        "DailyStreamingApiEvents": {"Max": 1000000, "Remaining": 1000000},
    }


def _record_id(obj: ObjectDef, value: str) -> str:
    # Salesforce reads a path segment that is not an id of this object as an
    # external id lookup on Id, and answers NOT_FOUND with this message.
    try:
        rid = normalize_id(value)
    except MalformedIdError:
        rid = ""
    if rid[:3] != obj.key_prefix:
        raise NotFoundError(
            f"Provided external ID field does not exist or is not accessible: {value}"
        )
    return rid


def _external_field(obj: ObjectDef, name: str) -> Any:
    f = obj.field(name)
    if f is None or not (f.external_id or f.id_lookup or f.key == "id"):
        raise NotFoundError(
            f"Provided external ID field does not exist or is not accessible: {name}"
        )
    return f


def _without_own_id(body: dict[str, Any], rid: str) -> dict[str, Any]:
    """The body less any Id in it; an Id other than the URL's is refused.

    The store finds the record to change by a case-insensitive ``Id`` key, so an ``id``
    or ``ID`` left in the body would redirect the update (and the URL's access check)
    to another record.
    """
    out: dict[str, Any] = {}
    for k, v in body.items():
        if k.lower() != "id":
            out[k] = v
            continue
        try:
            same = normalize_id(v) == rid
        except MalformedIdError:
            same = False
        if not same:
            raise InvalidFieldForInsertUpdateError(
                f"Unable to create/update fields: Id. The Id in the body ({v}) is not the "
                f"record's Id in the URL ({rid})",
                fields=["Id"],
            )
    return out


def _guard_self_edit(is_user_admin: bool, obj: ObjectDef, body: dict[str, Any]) -> None:
    if obj.key != "user" or is_user_admin:
        return
    touched = [k for k in body if k.lower() in _USER_ADMIN_FIELDS]
    if touched:
        raise InsufficientAccessError(
            f"changing {', '.join(touched)} needs the ManageUsers permission"
        )
