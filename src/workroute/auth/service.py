"""Logins, token checks and principals."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from workroute.auth.passwords import check_password_policy, hash_password, verify_password
from workroute.auth.principal import Permission, Principal
from workroute.auth.tokens import IssuedToken, TokenStore
from workroute.kernel.errors import (
    AuthenticationError,
    InvalidNewPasswordError,
    InvalidSessionError,
    NotFoundError,
)
from workroute.store.hooks import SaveContext
from workroute.store.store import Store

# The password grant refuses these users, as Salesforce does for inactive users.
_INACTIVE = "user is inactive"


@dataclass(frozen=True, slots=True)
class AppCredentials:
    client_id: str
    client_secret: str


class AuthService:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.tokens = TokenStore(store.db)
        self._cache: dict[str, Principal] = {}
        self._lock = threading.Lock()
        store.hooks.after_save("User", self._invalidate)
        store.hooks.after_save("Profile", self._invalidate)

    def _invalidate(self, ctx: SaveContext) -> None:
        with self._lock:
            self._cache.clear()
        if ctx.obj.name == "User":
            for new, old in zip(ctx.new, ctx.old, strict=True):
                if old is not None and old.get("IsActive") and not new.get("IsActive"):
                    self.tokens.revoke_user(ctx.conn, str(new["Id"]))

    # -- principals -------------------------------------------------------------

    def principal(self, user_id: str) -> Principal:
        with self._lock:
            cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        users = self.store.get_many("User", [user_id])
        if not users:
            raise InvalidSessionError("Session expired or invalid")
        user = users[0]
        profiles = self.store.get_many("Profile", [str(user["ProfileId"])])
        perms: set[Permission] = set()
        profile_name = ""
        if profiles:
            profile = profiles[0]
            profile_name = str(profile.get("Name") or "")
            perms = {p for p in Permission if profile.get(p.value)}
        principal = Principal(
            user_id=user_id,
            username=str(user["Username"]),
            profile_id=str(user["ProfileId"]),
            profile_name=profile_name,
            permissions=frozenset(perms),
            role_id=str(user["UserRoleId"]) if user.get("UserRoleId") else None,
            email=str(user["Email"]) if user.get("Email") else None,
            name=" ".join(str(user[k]) for k in ("FirstName", "LastName") if user.get(k)),
            time_zone=str(user.get("TimeZoneSidKey") or "UTC"),
        )
        if user.get("IsActive"):
            with self._lock:
                self._cache[user_id] = principal
        return principal

    def authenticate(self, token: str) -> Principal:
        user_id = self.tokens.resolve(token, now=self.store.clock.now())
        principal = self.principal(user_id)
        return principal

    # -- logins -------------------------------------------------------------------

    def login_password(self, username: str, password: str) -> IssuedToken:
        users = self.store.find("User", Username=username.strip().lower())
        if len(users) != 1 or not users[0].get("IsActive"):
            raise AuthenticationError("authentication failure")
        user = users[0]
        if not self._password_ok(str(user["Id"]), password):
            raise AuthenticationError("authentication failure")
        if not self.principal(str(user["Id"])).has(Permission.API_ENABLED):
            raise AuthenticationError("API is not enabled for this user")
        with self.store.db.write() as conn:
            return self.tokens.issue(conn, str(user["Id"]), now=self.store.clock.now())

    def login_client_credentials(self, client_id: str, client_secret: str) -> IssuedToken:
        apps = self.store.db.system["connected_app"]
        with self.store.db.read() as conn:
            row = conn.execute(select(apps).where(apps.c.client_id == client_id)).first()
        if row is None or not verify_password(client_secret, str(row.secret_hash)):
            raise AuthenticationError("invalid client credentials")
        user_id = str(row.run_as_user_id)
        users = self.store.get_many("User", [user_id])
        if not users or not users[0].get("IsActive"):
            raise AuthenticationError("the connected app's run-as user is inactive")
        if not self.principal(user_id).has(Permission.API_ENABLED):
            raise AuthenticationError("API is not enabled for the connected app's run-as user")
        with self.store.db.write() as conn:
            return self.tokens.issue(conn, user_id, now=self.store.clock.now(), client_id=client_id)

    def _password_ok(self, user_id: str, password: str) -> bool:
        creds = self.store.db.system["credential"]
        with self.store.db.read() as conn:
            row = conn.execute(
                select(creds.c.password_hash).where(creds.c.user_id == user_id)
            ).first()
        return row is not None and verify_password(password, str(row[0]))

    # -- administration -------------------------------------------------------------

    def set_password(self, user_id: str, password: str) -> None:
        problem = check_password_policy(password)
        if problem:
            raise InvalidNewPasswordError(problem, fields=["NewPassword"])
        if not self.store.get_many("User", [user_id]):
            raise NotFoundError(f"no user with id {user_id}")
        creds = self.store.db.system["credential"]
        encoded = hash_password(password)
        now = self.store.clock.now()
        with self.store.db.write() as conn:
            done = conn.execute(
                update(creds)
                .where(creds.c.user_id == user_id)
                .values(password_hash=encoded, changed_at=now)
            ).rowcount
            if not done:
                conn.execute(
                    insert(creds).values(user_id=user_id, password_hash=encoded, changed_at=now)
                )

    def has_password(self, user_id: str) -> bool:
        creds = self.store.db.system["credential"]
        with self.store.db.read() as conn:
            return (
                conn.execute(select(creds.c.user_id).where(creds.c.user_id == user_id)).first()
                is not None
            )

    def add_connected_app(self, name: str, run_as_user_id: str) -> AppCredentials:
        apps = self.store.db.system["connected_app"]
        client_id = "3MVG" + secrets.token_urlsafe(32)
        secret = secrets.token_hex(32)
        with self.store.db.write() as conn:
            conn.execute(
                insert(apps).values(
                    client_id=client_id,
                    name=name,
                    secret_hash=hash_password(secret),
                    run_as_user_id=run_as_user_id,
                    created_at=self.store.clock.now(),
                )
            )
        return AppCredentials(client_id, secret)
