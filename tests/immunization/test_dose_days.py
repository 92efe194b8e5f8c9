"""The compact dose-days string round-trips (pure)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from krc.immunization import dose_days


@given(hnp.arrays(np.int64, st.tuples(st.integers(0, 20), st.just(24)),
                  elements=st.integers(-1, 0xFFFE)))
def test_round_trip(days: np.ndarray) -> None:
    assert (dose_days.decode(dose_days.encode(days), 24) == days).all()


def test_missing_and_foreign_strings_read_as_no_dose() -> None:
    out = dose_days.decode([None, "ab", dose_days.encode(np.array([[5] * 24]))[0]], 24)
    assert (out[0] == -1).all() and (out[1] == -1).all() and (out[2] == 5).all()


def test_refuses_days_it_cannot_hold() -> None:
    with pytest.raises(ValueError):
        dose_days.encode(np.array([[0xFFFF]], dtype=np.int64))
