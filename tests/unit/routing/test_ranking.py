"""A ranking's orders against a plain sort of who stands where.

Random moves (work taken, released, agents leaving and coming back) are applied to a
:class:`Ranking` and to a dict of standings; after each step the live candidates of
both orders must be the dict sorted by (score, idle since, user id), whatever dead
entries the ranking holds, and reading them (which drops dead entries) changes
nothing.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from workroute.routing.ranking import Ranking, Standing, _place_from_end


@dataclass(frozen=True)
class _Stamp:
    stamp: int


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_orders_are_exact_after_any_moves(seed: int) -> None:
    rnd = random.Random(seed)
    stamps = itertools.count()
    standing: dict[str, Standing] = {}
    stamp: dict[str, int] = {}
    ranking = Ranking()
    users = [f"005{i:03d}" for i in range(rnd.randint(1, 30))]
    for u in users[: len(users) // 2]:
        standing[u] = (0.0, -10.0, float(rnd.randint(0, 5)))
        stamp[u] = next(stamps)
    for slot in (0, 1):
        ranking.start(slot, ((u, standing[u], stamp[u]) for u in standing))
    clock = 5.0
    for _ in range(rnd.randint(1, 120)):
        u = rnd.choice(users)
        old = standing.get(u)
        if rnd.random() < 0.5:
            clock += rnd.choice((0.0, 0.0, 1.0))  # many moves share an instant
        new: Standing | None
        if old is None:
            new = (0.0, -10.0, clock)  # comes (back) online
        elif rnd.random() < 0.15:
            new = None  # full, or gone
        elif rnd.random() < 0.6:
            new = (old[0] + 1, old[1] + 1, clock)  # received work now
        else:
            new = (max(0.0, old[0] - 1), old[1] - 1, old[2])  # released: keeps its time
        stamp[u] = next(stamps)
        ranking.move(u, old is not None, new, stamp[u])
        if new is None:
            standing.pop(u, None)
        else:
            standing[u] = new
        agents = {u: _Stamp(t) for u, t in stamp.items()}
        for slot in (0, 1):
            expected = sorted(standing, key=lambda v: (standing[v][slot], standing[v][2], v))
            got = [v for _, v in ranking.candidates(slot, agents)]
            assert got == expected
            again = [v for _, v in ranking.candidates(slot, agents)]
            assert again == expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 9), st.text("ab", max_size=2)), min_size=1, max_size=40),
    st.tuples(st.integers(0, 10), st.text("ab", max_size=2)),
)
def test_the_place_from_the_end_is_the_binary_search_place(
    entries: list[tuple[int, str]], entry: tuple[int, str]
) -> None:
    bucket = sorted((float(t), u, i) for i, (t, u) in enumerate(entries))
    new = (float(entry[0]), entry[1], -1)
    if bucket[-1] < new:
        return  # appended, never searched
    assert _place_from_end(bucket, new) == bisect.bisect_left(bucket, new)


def test_an_order_nobody_reads_stays_the_size_of_its_live_entries() -> None:
    """Agents keep moving in a ranking no work asks for any more: its dead entries are
    compacted away as they come, and the order it keeps is still exact."""
    ranking = Ranking()
    stamps = itertools.count()
    stamp = {f"005{i:03d}": next(stamps) for i in range(50)}
    standing: dict[str, Standing] = {u: (0.0, -10.0, 0.0) for u in stamp}
    for slot in (0, 1):
        ranking.start(slot, ((u, standing[u], stamp[u]) for u in stamp))
    agents = {u: _Stamp(t) for u, t in stamp.items()}
    largest = 0
    for step in range(20_000):
        u = f"005{step % 50:03d}"
        old = standing[u]
        new = (old[0] + 1, old[1] + 1, float(step // 50)) if old[0] < 5 else (0.0, -10.0, old[2])
        stamp[u] = next(stamps)
        agents[u] = _Stamp(stamp[u])
        standing[u] = new
        if ranking.move(u, True, new, stamp[u]):
            ranking.compact(agents)
        largest = max(largest, *(o.size for o in ranking._orders if o is not None))
    assert largest <= 2 * 50 + 64 + 2
    for slot in (0, 1):
        expected = sorted(standing, key=lambda v: (standing[v][slot], standing[v][2], v))
        assert [v for _, v in ranking.candidates(slot, agents)] == expected
