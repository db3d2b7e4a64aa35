"""Record ids without a database round-trip per record.

Each process takes a block number from the database once (a committed increment),
then numbers ids within the block in memory: ``counter = block * 62**5 + n``. Ids are
unique across processes and restarts, and increase with creation time.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from workroute.kernel.ids import make_ids

BLOCK_SIZE = 62**5


class IdAllocator:
    def __init__(self, block: int) -> None:
        self._block = block
        self._next: dict[str, int] = defaultdict(lambda: 1)
        self._lock = threading.Lock()

    def allocate(self, key_prefix: str, count: int) -> list[str]:
        with self._lock:
            start = self._next[key_prefix]
            if start + count >= BLOCK_SIZE:
                raise RuntimeError("id block exhausted for this process; restart it")
            self._next[key_prefix] = start + count
        base = self._block * BLOCK_SIZE
        return make_ids(key_prefix, base + start, count)
