"""Helpers for the in-process HTTP API tests.

A :class:`Caller` sends requests under ``/services/data/v62.0`` with one user's token;
:func:`assert_error` checks Salesforce's error shape; :func:`unchanged` proves a request
left every table of the database exactly as it was.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx  # the client behind starlette.testclient
from sqlalchemy import select
from tests.conftest import ADMIN, ADMIN_PASSWORD

from workroute.metadata.deploy import deploy_source
from workroute.org import NewUser, Org

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package in place of httpx; the client is the same.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["ADMIN", "ADMIN_PASSWORD", "TestClient"]

BASE = "/services/data/v62.0"
TOKEN_URL = "/services/oauth2/token"
REVOKE_URL = "/services/oauth2/revoke"
USER_PASSWORD = "User-pass-12"
FIXTURES = Path(__file__).parents[2] / "fixtures"
TICKET_SOURCE = FIXTURES / "deploy" / "ticket"

# Every field type the save pipeline coerces, on one custom object.
PROBE_OBJECT = """<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Probe</label>
    <pluralLabel>Probes</pluralLabel>
    <nameField><label>Probe Name</label><type>Text</type></nameField>
    <deploymentStatus>Deployed</deploymentStatus>
    <sharingModel>ReadWrite</sharingModel>
    <fields>
        <fullName>Code__c</fullName><label>Code</label><type>Text</type>
        <length>10</length><required>true</required>
    </fields>
    <fields>
        <fullName>Score__c</fullName><label>Score</label><type>Number</type>
        <precision>5</precision><scale>2</scale>
    </fields>
    <fields>
        <fullName>Flag__c</fullName><label>Flag</label><type>Checkbox</type>
        <defaultValue>false</defaultValue>
    </fields>
    <fields>
        <fullName>Day__c</fullName><label>Day</label><type>Date</type>
    </fields>
    <fields>
        <fullName>At__c</fullName><label>At</label><type>DateTime</type>
    </fields>
    <fields>
        <fullName>Account__c</fullName><label>Account</label><type>Lookup</type>
        <referenceTo>Account</referenceTo><relationshipName>Probes</relationshipName>
        <deleteConstraint>SetNull</deleteConstraint>
    </fields>
    <fields>
        <fullName>Level__c</fullName><label>Level</label><type>Picklist</type>
        <valueSet>
            <restricted>true</restricted>
            <valueSetDefinition>
                <value><fullName>Low</fullName><default>false</default><label>Low</label></value>
                <value><fullName>High</fullName><default>false</default><label>High</label></value>
            </valueSetDefinition>
        </valueSet>
    </fields>
</CustomObject>
"""


class Caller:
    """One user's view of the API: paths starting with ``/services/`` are absolute,
    any other path is under ``/services/data/v62.0``."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token

    @staticmethod
    def url(path: str) -> str:
        return path if path.startswith("/services/") else BASE + path

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(
        self, path: str, *, params: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        resp: httpx.Response = self.client.get(
            self.url(path), params=params, headers=self._headers(headers)
        )
        return resp

    def delete(self, path: str) -> httpx.Response:
        resp: httpx.Response = self.client.delete(self.url(path), headers=self._headers(None))
        return resp

    def post(
        self,
        path: str,
        json: Any = None,
        *,
        content: bytes | None = None,
        files: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        resp: httpx.Response = self.client.post(
            self.url(path), json=json, content=content, files=files, headers=self._headers(headers)
        )
        return resp

    def patch(
        self,
        path: str,
        json: Any = None,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        resp: httpx.Response = self.client.patch(
            self.url(path), json=json, content=content, headers=self._headers(headers)
        )
        return resp

    # -- conveniences that must succeed -------------------------------------------

    def create(self, sobject: str, fields: dict[str, Any]) -> str:
        resp = self.post(f"/sobjects/{sobject}", fields)
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert body["success"] is True and body["errors"] == []
        return str(body["id"])

    def read(self, sobject: str, record_id: str, fields: str | None = None) -> dict[str, Any]:
        resp = self.get(f"/sobjects/{sobject}/{record_id}", params={"fields": fields})
        assert resp.status_code == 200, resp.text
        record: dict[str, Any] = resp.json()
        return record

    def query(self, soql: str, *, all_rows: bool = False) -> dict[str, Any]:
        resp = self.get("/queryAll" if all_rows else "/query", params={"q": soql})
        assert resp.status_code == 200, resp.text
        result: dict[str, Any] = resp.json()
        return result


class Api:
    """The app over one org, with real logins through the OAuth token endpoint."""

    def __init__(self, org: Org, client: TestClient) -> None:
        self.org = org
        self.client = client

    def login(self, username: str, password: str) -> httpx.Response:
        resp: httpx.Response = self.client.post(
            TOKEN_URL,
            data={"grant_type": "password", "username": username, "password": password},
        )
        return resp

    def token(self, username: str = ADMIN, password: str = ADMIN_PASSWORD) -> str:
        resp = self.login(username, password)
        assert resp.status_code == 200, resp.text
        return str(resp.json()["access_token"])

    def caller(self, username: str = ADMIN, password: str = ADMIN_PASSWORD) -> Caller:
        return Caller(self.client, self.token(username, password))

    def with_token(self, token: str) -> Caller:
        return Caller(self.client, token)

    def add_user(
        self, username: str, *, profile: str = "Standard User", password: str = USER_PASSWORD
    ) -> str:
        return self.org.add_user(
            NewUser(
                username=username,
                last_name=username.split("@")[0].title(),
                email=username,
                profile=profile,
            ),
            password=password,
        )

    def profile_id(self, name: str) -> str:
        return str(self.org.store.find("Profile", Name=name)[0]["Id"])


# -- assertions ------------------------------------------------------------------


def assert_error(
    resp: httpx.Response,
    status: int,
    code: str,
    *,
    fields: list[str] | None = None,
    contains: str | None = None,
) -> dict[str, Any]:
    """``resp`` is Salesforce's error list holding one {message, errorCode, fields}."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    body = resp.json()
    assert isinstance(body, list) and len(body) == 1, body
    err: dict[str, Any] = body[0]
    assert set(err) == {"message", "errorCode", "fields"}, err
    assert err["errorCode"] == code, err
    assert isinstance(err["message"], str) and err["message"].strip(), err
    assert isinstance(err["fields"], list), err
    if fields is not None:
        assert err["fields"] == fields, err
    if contains is not None:
        assert contains in err["message"], err
    return err


def assert_oauth_error(resp: httpx.Response, error: str, status: int = 400) -> str:
    """An OAuth error body ({error, error_description}); returns the description."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = resp.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error, body
    assert "access_token" not in body
    return str(body["error_description"])


# -- the database, all of it -------------------------------------------------------


def db_snapshot(org: Org, *, skip: Iterable[str] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (object and system tables), keyed by table name."""
    skipped = {org.db.system[k].name if k in org.db.system else k for k in skip}
    out: dict[str, list[tuple[Any, ...]]] = {}
    with org.db.read() as conn:
        for name, table in sorted(org.db.metadata.tables.items()):
            if name in skipped:
                continue
            stmt = select(table).order_by(*table.primary_key.columns)
            out[name] = [tuple(row) for row in conn.execute(stmt)]
    return out


@contextmanager
def unchanged(org: Org, *, skip: Iterable[str] = ()) -> Iterator[None]:
    """Assert that the block leaves every table (but ``skip``) exactly as it was."""
    skip = tuple(skip)
    before = db_snapshot(org, skip=skip)
    yield
    after = db_snapshot(org, skip=skip)
    changed = sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))
    assert not changed, f"tables changed: {changed}"


# -- metadata ------------------------------------------------------------------------


def zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder).as_posix())
    return buf.getvalue()


def zip_files(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


def deploy_ticket(org: Org) -> None:
    deploy_source(org, TICKET_SOURCE, user_id=org.admin_user_id())


def deploy_probe(org: Org) -> None:
    deploy_source(
        org,
        zip_files({"objects/Probe__c.object": PROBE_OBJECT}),
        user_id=org.admin_user_id(),
    )
