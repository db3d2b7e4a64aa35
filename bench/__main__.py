"""Run benchmarks: ``python -m bench`` (all) or ``python -m bench NAME...``."""

from __future__ import annotations

import importlib
import sys

from bench.machine import describe

BENCHES = ["store_insert", "formula", "workflow", "routing", "streaming", "orchestration"]


def main(argv: list[str]) -> int:
    names = argv or BENCHES
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHES)}")
        return 2
    print(describe())
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        module.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
