"""Tests for routing.geo.matrix: TravelMatrix validation and matrix_for."""

from __future__ import annotations

import math

import numpy as np
import pytest

from routing.domain.errors import MatrixError
from routing.geo.matrix import TravelMatrix, matrix_for


def _pair() -> TravelMatrix:
    return TravelMatrix([[0, 800], [750, 0]], [[0, 95], [90, 0]])


def test_values_are_int64_and_read_only() -> None:
    """Both arrays are int64 and refuse writes."""
    matrix = _pair()
    for array in (matrix.distances_m, matrix.durations_s):
        assert array.dtype == np.int64
        assert not array.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            array[0, 1] = 1


def test_input_array_is_copied() -> None:
    """Changing the caller's array afterwards does not change the matrix."""
    source = np.array([[0, 5], [5, 0]], dtype=np.int64)
    matrix = TravelMatrix(source, source)
    source[0, 1] = 99
    assert matrix.distances_m[0, 1] == 5


def test_floats_are_rounded_to_nearest_integer() -> None:
    """Float input is rounded to the nearest integer, not truncated."""
    matrix = TravelMatrix([[0.0, 9.6], [2.4, 0.0]], [[0, 1.5], [2.5, 0]])
    assert matrix.distances_m.tolist() == [[0, 10], [2, 0]]
    assert matrix.durations_s.dtype == np.int64


def test_size_and_orientation() -> None:
    """``size`` is N and entry [i, j] is the trip from i to j as given."""
    matrix = _pair()
    assert matrix.size == 2
    assert matrix.distances_m[0, 1] == 800
    assert matrix.distances_m[1, 0] == 750


def test_empty_matrix_is_allowed() -> None:
    """A 0 x 0 matrix (no places) is valid."""
    empty = np.zeros((0, 0))
    assert TravelMatrix(empty, empty).size == 0


def test_non_square_is_rejected() -> None:
    """A non-square matrix raises MatrixError naming the field and shape."""
    with pytest.raises(MatrixError, match=r"distances_m: must be square.*\(1, 2\)"):
        TravelMatrix([[0, 800]], [[0, 95]])


def test_ragged_rows_are_rejected() -> None:
    """Rows of different lengths raise MatrixError, not a numpy error."""
    ragged: list[list[int]] = [[0, 1], [1]]
    with pytest.raises(MatrixError, match="durations_s"):
        TravelMatrix([[0, 1], [1, 0]], ragged)


def test_negative_value_is_rejected() -> None:
    """A negative entry raises MatrixError naming its value and position."""
    with pytest.raises(MatrixError, match=r"negative value -3 at \[1, 0\]"):
        TravelMatrix([[0, 1], [-3, 0]], [[0, 1], [1, 0]])


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_value_is_rejected(bad: float) -> None:
    """NaN or infinity (e.g. an unreachable pair) raises MatrixError."""
    with pytest.raises(MatrixError, match="durations_s: has non-finite"):
        TravelMatrix([[0, 1], [1, 0]], [[0.0, bad], [1.0, 0.0]])


def test_non_numeric_is_rejected() -> None:
    """Strings instead of numbers raise MatrixError."""
    with pytest.raises(MatrixError, match="must hold numbers"):
        TravelMatrix([["0", "1"], ["1", "0"]], [[0, 1], [1, 0]])


def test_shape_mismatch_is_rejected() -> None:
    """Distances and durations of different sizes raise MatrixError."""
    with pytest.raises(MatrixError, match="distances_m is"):
        TravelMatrix([[0, 1], [1, 0]], [[0]])


def test_matrix_for_single_matrix_serves_every_profile() -> None:
    """A single TravelMatrix is returned for any profile name."""
    matrix = _pair()
    assert matrix_for(matrix, "bike") is matrix


def test_matrix_for_picks_the_profile() -> None:
    """A per-profile mapping returns that profile's matrix."""
    van, bike = _pair(), TravelMatrix([[0, 1], [1, 0]], [[0, 2], [2, 0]])
    assert matrix_for({"van": van, "bike": bike}, "bike") is bike


def test_matrix_for_unknown_profile_names_it() -> None:
    """A missing profile raises MatrixError naming it and the ones present."""
    with pytest.raises(MatrixError, match=r"'truck'.*\['van'\]"):
        matrix_for({"van": _pair()}, "truck")
