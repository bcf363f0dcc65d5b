"""How closely two float32 computations of one quantity must agree.

Two computations of the same number in float32 (a batch against one row, torch against numpy, a
matrix product split across two BLAS threads against one) add the same terms in another order.
float32 keeps 24 bits (eps ≈ 6e-8), and a sum of n terms in another order moves by up to about
sqrt(n)·eps of the sum of the terms' sizes (n = 384 for this model's width: ≈ 1.2e-6 of it). A
softmax turns an absolute error δ in a logit into a relative error δ in a weight. So the two sides
may differ by a relative 1e-5 (eight times that bound), plus an absolute allowance of 1e-5 of the
largest value compared, for entries that are near 0 only because large terms cancelled.
Comparisons of one computation with itself stay exact (``assert_array_equal``).
"""

from __future__ import annotations

import numpy as np

F32_RTOL = 1e-5


def assert_f32_close(actual, expected, *, scale: float | None = None, err_msg: str = "") -> None:
    """``assert_allclose`` with the float32 allowance above.

    Args:
        actual, expected: arrays of one quantity computed two ways.
        scale: the size of the terms that were summed, when it is larger than the largest value
            compared (None: the largest |expected|).
        err_msg: shown on failure.
    """
    expected = np.asarray(expected)
    size = float(np.nanmax(np.abs(expected))) if scale is None and expected.size else float(scale or 0.0)
    np.testing.assert_allclose(actual, expected, rtol=F32_RTOL, atol=F32_RTOL * size, err_msg=err_msg)
