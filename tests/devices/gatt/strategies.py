"""Hypothesis strategies for GATT frames: every optional field present or not, every flag."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hypothesis import strategies as st

from devices.gatt._codec import BitTable
from devices.ieee11073 import Numeric, Special

specials = st.sampled_from(list(Special))
sfloats: st.SearchStrategy[Numeric] = st.one_of(
    st.builds(lambda m, e: Decimal(m).scaleb(e), st.integers(-2045, 2045), st.integers(-8, 7)),
    specials,
)
floats: st.SearchStrategy[Numeric] = st.one_of(
    st.builds(
        lambda m, e: Decimal(m).scaleb(e),
        st.integers(-(2**23) + 3, 2**23 - 3),
        st.integers(-128, 127),
    ),
    specials,
)
timestamps = st.datetimes(min_value=datetime(1582, 1, 1), max_value=datetime(9999, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)
optional_timestamps = st.none() | timestamps
user_ids = st.none() | st.integers(0, 254)


def flag_sets(table: BitTable) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from([name for _, name in table]))


def optional_flag_sets(table: BitTable) -> st.SearchStrategy[frozenset[str] | None]:
    return st.none() | flag_sets(table)


def fixed_points(resolution: str, top: int) -> st.SearchStrategy[Decimal]:
    """Multiples of ``resolution`` from 0 to ``top`` steps."""
    return st.integers(0, top).map(lambda n: n * Decimal(resolution))
