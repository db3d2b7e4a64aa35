"""What a compiled formula reads when it runs: :class:`EvalContext`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

__all__ = ["EMPTY", "EvalContext"]

EMPTY: Mapping[str, Any] = {}


class EvalContext:
    """The inputs of one evaluation.

    ``record``
        The record's field values keyed by canonical API name (the spelling of the
        schema, or of the :class:`~workroute.lang.formula.checker.DictEnvironment`
        keys). Case-insensitive resolution happens at compile time, not here.
    ``prior``
        The record's previous values (same keys) on update; ``None`` on create, when
        ``ISNEW()`` is true, ``ISCHANGED()`` false and ``PRIORVALUE(f)`` is ``f``.
    ``related``
        Values of relationship paths keyed by canonical dotted path
        (``"Account.Owner.Email"``), fetched in bulk by the caller; see
        :attr:`CompiledFormula.related_paths`.
    ``globals``
        Values of global paths keyed by canonical dotted path (``"$User.Email"``,
        ``"$System.OriginDateTime"``).
    ``now``
        The evaluation time, an aware datetime (converted to UTC). ``NOW()``,
        ``TODAY()`` and ``TIMENOW()`` read it; nothing reads the system clock.
    ``is_clone``
        Whether the record is being created as a clone (``ISCLONE()``).
    """

    __slots__ = ("_today", "globals", "is_clone", "now", "prior", "record", "related")

    def __init__(
        self,
        record: Mapping[str, Any] | None = None,
        *,
        now: datetime,
        prior: Mapping[str, Any] | None = None,
        related: Mapping[str, Any] | None = None,
        globals: Mapping[str, Any] | None = None,
        is_clone: bool = False,
    ) -> None:
        if now.tzinfo is None:
            raise ValueError("EvalContext needs an aware datetime for now")
        self.record: Mapping[str, Any] = EMPTY if record is None else record
        self.prior = prior
        self.related: Mapping[str, Any] = EMPTY if related is None else related
        self.globals: Mapping[str, Any] = EMPTY if globals is None else globals
        self.now = now if now.tzinfo is UTC else now.astimezone(UTC)
        self.is_clone = is_clone
        self._today: date | None = None

    @property
    def today(self) -> date:
        """The UTC date of :attr:`now` (``TODAY()``)."""
        today = self._today
        if today is None:
            today = self._today = self.now.date()
        return today

    def with_record(
        self, record: Mapping[str, Any], prior: Mapping[str, Any] | None = None
    ) -> EvalContext:
        """A context for another record at the same time, with the same globals."""
        return EvalContext(
            record,
            now=self.now,
            prior=prior,
            related=self.related,
            globals=self.globals,
            is_clone=self.is_clone,
        )
