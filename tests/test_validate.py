"""The shared parameter checks (core/validate.py): every entry point gets the same messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

from retrieval_attention.core.validate import (
    check_choice,
    check_half_life,
    check_index,
    check_k,
    check_positive,
    effective_factor,
    scale_factor,
)
from retrieval_attention.errors import InvalidParameterError


@pytest.mark.parametrize("value", [0, 5, np.int64(3), np.int32(0), np.uint8(5)])
def test_check_index_accepts_python_and_numpy_ints(value):
    out = check_index(value, 6, "layer")
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 2.0, np.float32(1), "1", None, -1, 6, 10**30])
def test_check_index_refuses_with_name_and_range(value):
    with pytest.raises(InvalidParameterError, match=r"^layer must be an integer in 0\.\.5, got "):
        check_index(value, 6, "layer")


def test_check_index_with_nothing_to_index():
    with pytest.raises(InvalidParameterError, match="head: there is nothing to index"):
        check_index(0, 0, "head")


@pytest.mark.parametrize("k", [1, 3, 3.0, np.int64(2)])
def test_check_k_as_a_request_and_as_a_prefix(k):
    assert check_k(k) == int(k) and check_k(k, n=3) == int(k)


@pytest.mark.parametrize("k", [0, -1, 2.5, True, "3", None, float("nan"), float("inf")])
def test_check_k_refuses_what_is_not_a_whole_number_ge_1(k):
    with pytest.raises(InvalidParameterError, match=r"^k must be"):
        check_k(k)


def test_check_k_messages_name_the_range():
    with pytest.raises(InvalidParameterError, match=r"^k must be >= 1, got 0$"):
        check_k(0)
    with pytest.raises(InvalidParameterError, match=r"^k must be in 1\.\.n = 1\.\.3, got 4$"):
        check_k(4, n=3)
    with pytest.raises(InvalidParameterError, match=r"^k must be a whole number in 1\.\.n = 1\.\.3, got 1\.5$"):
        check_k(1.5, n=3)
    assert check_k(50) == 50  # without n a large k is a request the caller caps


def test_choice_half_life_and_positive():
    assert check_choice("popular", ("attention", "mean", "popular"), "method") == "popular"
    with pytest.raises(InvalidParameterError, match=r"method must be one of attention, mean; got 'best'"):
        check_choice("best", ("attention", "mean"), "method")
    with pytest.raises(InvalidParameterError):
        check_choice(1, (True, "x"), "flag")  # 1 == True, but it is not the choice True
    assert check_half_life(None) is None and check_half_life(np.float32(2.5)) == 2.5
    for bad in (0, -1.0, float("nan"), float("inf"), "3", True):
        with pytest.raises(InvalidParameterError, match="half_life"):
            check_half_life(bad)
        with pytest.raises(InvalidParameterError, match="bandwidth must be a finite number > 0"):
            check_positive(bad, "bandwidth")


def test_scale_factor_names_and_numbers():
    assert scale_factor(None) == scale_factor("none") == 1.0
    assert scale_factor("sqrt_d", 384) == 1 / math.sqrt(384)
    assert scale_factor(np.float32(0.5)) == 0.5
    for bad in ("cube", 0, -1.0, float("nan"), float("inf"), True, [1.0]):
        with pytest.raises(InvalidParameterError, match="scale must be"):
            scale_factor(bad, 4)
    with pytest.raises(InvalidParameterError, match="dimension"):
        scale_factor("sqrt_d")


def test_effective_factor_is_scale_over_temperature():
    assert effective_factor("none", 0.05) == 1 / 0.05
    assert effective_factor("sqrt_d", 0.5, d=16) == 0.25 / 0.5
    assert effective_factor(2.0, 4.0) == 0.5
