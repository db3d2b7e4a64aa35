"""Structured (JSON lines) logging on stderr; quiet unless WORKROUTE_LOG_LEVEL says otherwise."""

from __future__ import annotations

import json
import logging
import os

_STANDARD = set(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {"message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure_logging(level: str | None = None) -> None:
    level = (level or os.environ.get("WORKROUTE_LOG_LEVEL") or "WARNING").upper()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("workroute")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
