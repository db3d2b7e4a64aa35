"""A real server over HTTPS with a test CA, and clients that trust only that CA."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import trustme
from simple_salesforce.api import Salesforce

from workroute.testing import ServerProcess

ADMIN = "admin@e2e.example.com"
ADMIN_PASSWORD = "E2e-admin-pass-1"
AGENT = "agent@e2e.example.com"
AGENT_PASSWORD = "E2e-agent-pass-1"


@dataclass
class LiveServer:
    process: ServerProcess
    ca_path: Path

    @property
    def url(self) -> str:
        return self.process.url

    def session(self) -> requests.Session:
        s = requests.Session()
        s.trust_env = False  # REQUESTS_CA_BUNDLE is set on these machines
        s.verify = str(self.ca_path)
        return s

    def token(self, username: str, password: str) -> str:
        resp = self.session().post(
            f"{self.url}/services/oauth2/token",
            data={"grant_type": "password", "username": username, "password": password},
        )
        assert resp.status_code == 200, resp.text
        return str(resp.json()["access_token"])

    def client(self, username: str = ADMIN, password: str = ADMIN_PASSWORD) -> Salesforce:
        return Salesforce(
            instance_url=self.url,
            session_id=self.token(username, password),
            session=self.session(),
            version="62.0",
        )


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "workroute", *args], check=True, capture_output=True)


def serve(
    root: Path, users: Sequence[tuple[str, str]], extra_args: Sequence[str] = ()
) -> Iterator[LiveServer]:
    """A new org in ``root`` with the administrator and ``users`` (username, password),
    served over HTTPS with a test CA until the generator is closed."""
    db = root / "org.db"
    _cli("init", "--db", str(db), "--admin-username", ADMIN, "--admin-password", ADMIN_PASSWORD)
    for username, password in users:
        _cli("user", "add", "--db", str(db), "--username", username, "--password", password)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path, cert_path, key_path = root / "ca.pem", root / "cert.pem", root / "key.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    process = ServerProcess(db=db, cert=cert_path, key=key_path, extra_args=list(extra_args))
    process.start()
    try:
        yield LiveServer(process=process, ca_path=ca_path)
    finally:
        process.stop()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve(tmp_path_factory.mktemp("server"), [(AGENT, AGENT_PASSWORD)])


@pytest.fixture(scope="session")
def sf(live_server: LiveServer) -> Salesforce:
    return live_server.client()
