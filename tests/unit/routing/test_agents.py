"""An agent's load sums, kept up to date on every change, against sums made afresh."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workroute.routing.agents import Load, Loads

_changes = st.lists(
    st.tuples(
        st.sampled_from(["set", "del", "pop", "clear"]),
        st.integers(0, 6),
        st.floats(0, 10, allow_nan=False),
        st.floats(0, 100, allow_nan=False),
    ),
    max_size=40,
)


@given(_changes)
def test_the_sums_are_exactly_the_fresh_sums_after_any_changes(
    changes: list[tuple[str, int, float, float]],
) -> None:
    loads = Loads()
    for op, n, weight, percent in changes:
        key = f"w{n}"
        if op == "set":
            loads[key] = Load(
                work_id=key, work_item_id="i", channel_id="c", weight=weight, percent=percent
            )
        elif op == "del" and key in loads:
            del loads[key]
        elif op == "pop":
            loads.pop(key)
        elif op == "clear":
            loads.clear()
        assert loads.weight == sum(ld.weight for ld in loads.values())
        assert loads.percent == sum(ld.percent for ld in loads.values())
