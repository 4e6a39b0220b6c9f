"""Sibling order keys: the npm package's own vectors, byte-wise order, one gap split many times, re-spacing."""

from __future__ import annotations

import random

import pytest

from service import positions

# generateKeyBetween(a, b) cases from the npm package's tests (base 62): a front end computing keys
# with it agrees with the server on every one.
NPM_VECTORS = [
    (None, None, "a0"),
    (None, "a0", "Zz"),
    (None, "Zz", "Zy"),
    ("a0", None, "a1"),
    ("a1", None, "a2"),
    ("a0", "a1", "a0V"),
    ("a1", "a2", "a1V"),
    ("a0V", "a1", "a0l"),
    ("Zz", "a0", "ZzV"),
    ("Zz", "a1", "a0"),
    (None, "Y00", "Xzzz"),
    ("bzz", None, "c000"),
    ("a0", "a0V", "a0G"),
    ("a0", "a0G", "a08"),
    ("b125", "b129", "b127"),
    ("a0", "a1V", "a1"),
    ("Zz", "a01", "a0"),
    (None, "a0V", "a0"),
    (None, "b999", "b99"),
    (None, "A000000000000000000000000001", "A000000000000000000000000000V"),
    ("zzzzzzzzzzzzzzzzzzzzzzzzzzy", None, "zzzzzzzzzzzzzzzzzzzzzzzzzzz"),
    ("zzzzzzzzzzzzzzzzzzzzzzzzzzz", None, "zzzzzzzzzzzzzzzzzzzzzzzzzzzV"),
]


@pytest.mark.parametrize(("before", "after", "expected"), NPM_VECTORS)
def test_between_matches_the_npm_package(before: str | None, after: str | None, expected: str) -> None:
    assert positions.between(before, after) == expected


@pytest.mark.parametrize(("before", "after"), [("a00", None), ("a1", "a0"), ("a1", "a1"), ("0", "1")])
def test_between_refuses_keys_out_of_order_or_malformed(before: str, after: str | None) -> None:
    with pytest.raises(ValueError):
        positions.between(before, after)


def test_after_the_last_and_before_the_first() -> None:
    keys = ["a0"]
    for _ in range(200):
        keys.append(positions.between(keys[-1], None))
        keys.insert(0, positions.between(None, keys[0]))
    assert keys == sorted(keys)  # str comparison is code-point order, as COLLATE "C" compares bytes
    assert len(set(keys)) == len(keys)
    assert max(map(len, keys)) <= 4  # appending and prepending grow the integer part only


def test_random_inserts_keep_byte_wise_order() -> None:
    rng = random.Random(7)
    keys: list[str] = []
    for _ in range(2000):
        at = rng.randint(0, len(keys))
        key = positions.between(keys[at - 1] if at else None, keys[at] if at < len(keys) else None)
        keys.insert(at, key)
    encoded = [key.encode("ascii") for key in keys]
    assert encoded == sorted(encoded)
    assert len(set(keys)) == len(keys)


def test_one_gap_split_many_times_grows_until_re_spacing_is_due() -> None:
    low, high = "a0", "a1"
    splits = 0
    while not positions.too_long(key := positions.between(low, high)):
        assert low < key < high
        high = key  # always drop right after the same sibling
        splits += 1
    assert splits > 100  # long before re-spacing is due, a user has dropped a lot into one gap
    assert len(key) == positions.MAX_LENGTH + 1


def test_spread_gives_short_increasing_keys_with_room_between() -> None:
    keys = positions.spread(5000)
    assert keys == sorted(keys) and len(set(keys)) == 5000
    assert max(map(len, keys)) <= 4
    assert positions.spread(3) == ["a0", "a1", "a2"]
    assert positions.spread(0) == []
    middle = positions.between(keys[10], keys[11])
    assert keys[10] < middle < keys[11] and not positions.too_long(middle)
