"""The shared parameter checks (core/validate.py): every entry point gets the same messages."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval_attention.core.validate import check_index
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
