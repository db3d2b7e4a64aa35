"""OAuth access tokens: random, stored only as a SHA-256 hash, expiring and revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from workroute.kernel.errors import InvalidSessionError
from workroute.store.sql.database import Database

DEFAULT_TTL = timedelta(hours=2)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    user_id: str
    issued_at: datetime
    expires_at: datetime


class TokenStore:
    def __init__(self, db: Database, *, ttl: timedelta = DEFAULT_TTL) -> None:
        self._db = db
        self._table = db.system["token"]
        self.ttl = ttl

    def issue(
        self, conn: Connection, user_id: str, *, now: datetime, client_id: str | None = None
    ) -> IssuedToken:
        # Salesforce tokens look like "00D...!AQ..."; any opaque string works for clients.
        token = "00D!" + secrets.token_urlsafe(48)
        expires = now + self.ttl
        conn.execute(
            insert(self._table).values(
                token_hash=hash_token(token),
                user_id=user_id,
                issued_at=now,
                expires_at=expires,
                revoked=False,
                client_id=client_id,
            )
        )
        return IssuedToken(token, user_id, now, expires)

    def resolve(self, token: str, *, now: datetime) -> str:
        """The user id a live token belongs to; INVALID_SESSION_ID otherwise."""
        t = self._table
        with self._db.read() as conn:
            row = conn.execute(
                select(t.c.user_id, t.c.expires_at, t.c.revoked).where(
                    t.c.token_hash == hash_token(token)
                )
            ).first()
        if row is None or row.revoked or row.expires_at <= now:
            raise InvalidSessionError("Session expired or invalid")
        return str(row.user_id)

    def revoke(self, token: str) -> bool:
        t = self._table
        with self._db.write() as conn:
            result = conn.execute(
                update(t).where(t.c.token_hash == hash_token(token)).values(revoked=True)
            )
            return bool(result.rowcount)

    def revoke_user(self, conn: Connection, user_id: str) -> None:
        t = self._table
        conn.execute(update(t).where(t.c.user_id == user_id).values(revoked=True))
