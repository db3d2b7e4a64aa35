"""What machine a benchmark ran on, printed with every result."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"machine: {cpu_model()}, {os.cpu_count()} cores{mem}; {platform.system()} "
        f"{platform.release()}; Python {sys.version.split()[0]}; SQLite {sqlite3.sqlite_version}"
    )
