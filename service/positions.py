"""Sibling order keys: fractional indexes, base-62 strings that sort byte-wise.

The keys are those of the `fractional-indexing` package, the same algorithm and alphabet as the npm
package of that name, so a front end may compare them with plain string comparison (and PostgreSQL
does, with COLLATE "C"). Moving a task between two siblings never touches the others; only when one
gap has been split so often that its keys grow past MAX_LENGTH is the whole list given fresh keys.
"""

from __future__ import annotations

import fractional_indexing

# Each split of the same gap adds about one character in six splits (log2(62) bits per character):
# 48 characters is some 250 drops into one gap before the list is re-spaced.
MAX_LENGTH = 48


def between(before: str | None, after: str | None) -> str:
    """A key sorting strictly after `before` and strictly before `after` (None: no bound that side);
    ValueError when the two are out of order, equal, or not keys."""
    try:
        key: str = fractional_indexing.generate_key_between(before, after)
    except (fractional_indexing.FIError, LookupError) as error:
        raise ValueError(str(error)) from None
    return key


def spread(count: int) -> list[str]:
    """`count` short, increasing keys for a list laid out afresh ("a0", "a1", ...)."""
    keys: list[str] = fractional_indexing.generate_n_keys_between(None, None, count)
    return keys


def too_long(key: str) -> bool:
    """Whether a new key says its list should be re-spaced instead."""
    return len(key) > MAX_LENGTH
