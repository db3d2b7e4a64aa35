from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workroute.kernel.errors import MalformedIdError
from workroute.kernel.ids import BASE62, MAX_COUNTER, make_id, make_ids, normalize_id, to18


def test_known_salesforce_checksum() -> None:
    # A documented 15 -> 18 conversion from Salesforce's knowledge base.
    assert to18("001A0000006Vm9r") == "001A0000006Vm9rIAC"


def test_make_id_shape() -> None:
    rid = make_id("005", 1)
    assert len(rid) == 18 and rid.startswith("005")
    assert make_id("005", 2) != rid


@given(st.integers(min_value=1, max_value=MAX_COUNTER))
def test_15_and_18_forms_normalize_to_the_same_id(counter: int) -> None:
    rid = make_id("a0B", counter)
    assert normalize_id(rid) == rid
    assert normalize_id(rid[:15]) == rid


@given(st.integers(min_value=1, max_value=MAX_COUNTER))
def test_case_is_repaired_from_the_suffix(counter: int) -> None:
    rid = make_id("a0B", counter)
    assert normalize_id(rid.lower()) == rid
    assert normalize_id(rid.upper()) == rid


@pytest.mark.parametrize(
    "bad", ["", "abc", "001A0000006Vm9", "001A0000006Vm9rIA!", 42, None, "001A0000006Vm9rIACX"]
)
def test_malformed_ids_are_refused(bad: object) -> None:
    with pytest.raises(MalformedIdError):
        normalize_id(bad)


def _base62_digits(n: int) -> str:
    digits = []
    for _ in range(9):
        n, r = divmod(n, 62)
        digits.append(BASE62[r])
    return "".join(reversed(digits))


@given(st.integers(min_value=1, max_value=MAX_COUNTER))
def test_the_counter_is_written_in_nine_base62_digits(counter: int) -> None:
    assert make_id("001", counter)[6:15] == _base62_digits(counter)


@given(
    st.integers(min_value=1, max_value=MAX_COUNTER - 9000),
    st.integers(min_value=0, max_value=9000),
    st.sampled_from(["a0B", "0Bz", "005"]),
)
def test_ids_made_in_a_run_are_the_ids_made_one_at_a_time(
    first: int, count: int, prefix: str
) -> None:
    assert make_ids(prefix, first, count) == [
        make_id(prefix, c) for c in range(first, first + count)
    ]


def test_a_run_crosses_the_boundaries_of_its_last_pairs() -> None:
    first = 3844**2 - 5  # the last two pairs both roll over inside the run
    assert make_ids("a0B", first, 10) == [make_id("a0B", c) for c in range(first, first + 10)]
    with pytest.raises(ValueError, match="range"):
        make_ids("a0B", MAX_COUNTER, 2)
    with pytest.raises(ValueError, match="range"):
        make_ids("a0B", 0, 1)
