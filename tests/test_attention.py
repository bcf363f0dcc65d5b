"""The numpy attention core against PyTorch's SDPA and against its defining properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from tolerances import assert_f32_close

import retrieval_attention as ra

torch.manual_seed(0)


def _torch_sdpa(q, K, V, **kw):
    kw = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    out = torch.nn.functional.scaled_dot_product_attention(
        torch.from_numpy(q), torch.from_numpy(K), torch.from_numpy(V), **kw
    )
    return out.numpy()


shapes = st.tuples(
    st.sampled_from([(), (2,), (2, 3)]),  # batch dims
    st.integers(1, 7),  # L
    st.integers(1, 9),  # S
    st.integers(1, 16),  # E
    st.integers(1, 8),  # Ev
)


@settings(max_examples=60, deadline=None)
@given(
    shapes,
    st.sampled_from(["none", "bool", "float", "causal"]),
    st.one_of(st.none(), st.floats(0.05, 3.0)),
    st.integers(0, 2**31 - 1),
)
def test_matches_torch_sdpa(shape, mask_kind, scale, seed):
    batch, L, S, E, Ev = shape
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((*batch, L, E)).astype(np.float32)
    K = rng.standard_normal((*batch, S, E)).astype(np.float32)
    V = rng.standard_normal((*batch, S, Ev)).astype(np.float32)
    kw: dict = {} if scale is None else {"scale": scale}
    if mask_kind == "bool":
        m = rng.random((L, S)) > 0.3
        m[:, 0] = True  # torch gives NaN for fully masked rows; we test that case separately
        kw["attn_mask"] = m
    elif mask_kind == "float":
        kw["attn_mask"] = rng.standard_normal((L, S)).astype(np.float32)
    elif mask_kind == "causal":
        kw["is_causal"] = True
        if L > S:  # rows beyond S are fully masked in torch's (L, S) tril: covered elsewhere
            return
    out, w = ra.scaled_dot_product_attention(q, K, V, **kw)
    ref = _torch_sdpa(q, K, V, **kw)
    assert out.shape == (*batch, L, Ev) and w.shape == (*batch, L, S)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)


def test_weights_match_torch_math_weights():
    rng = np.random.default_rng(1)
    q, K = rng.standard_normal((3, 8)).astype(np.float32), rng.standard_normal((5, 8)).astype(np.float32)
    _, w = ra.scaled_dot_product_attention(q, K, np.eye(5, dtype=np.float32))
    ref = torch.softmax(torch.from_numpy(q) @ torch.from_numpy(K).T / math.sqrt(8), dim=-1).numpy()
    assert_f32_close(w, ref)


def test_fully_masked_row_gives_zeros_not_nan():
    q = np.ones((2, 4), np.float32)
    K = np.ones((3, 4), np.float32)
    V = np.arange(6, dtype=np.float32).reshape(3, 2)
    mask = np.array([[False, False, False], [True, False, True]])
    out, w = ra.scaled_dot_product_attention(q, K, V, attn_mask=mask)
    assert not np.isnan(out).any() and not np.isnan(w).any()
    np.testing.assert_array_equal(w[0], 0.0)
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_allclose(w[1], [0.5, 0.0, 0.5])
    # a float mask of -inf everywhere is the same case
    out2, w2 = ra.scaled_dot_product_attention(q, K, V, attn_mask=np.full((2, 3), -np.inf, np.float32))
    assert np.all(w2 == 0) and np.all(out2 == 0)


def test_causal_zeroes_the_future():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 4))
    _, w = ra.scaled_dot_product_attention(x, x, x, is_causal=True)
    assert np.all(np.triu(w, k=1) == 0)
    np.testing.assert_allclose(w.sum(-1), 1.0)


def test_temperature_divides_scaled_scores():
    rng = np.random.default_rng(3)
    q, K, V = rng.standard_normal((1, 6)), rng.standard_normal((4, 6)), rng.standard_normal((4, 2))
    _, w = ra.scaled_dot_product_attention(q, K, V, scale=0.5, temperature=0.25)
    expected = np.exp((q @ K.T) * 0.5 / 0.25)
    np.testing.assert_allclose(w, expected / expected.sum(), rtol=1e-10)


def test_mask_and_causal_together_is_an_error():
    x = np.ones((2, 2))
    with pytest.raises(ra.InvalidParameterError, match="not both"):
        ra.scaled_dot_product_attention(x, x, x, attn_mask=np.ones((2, 2), bool), is_causal=True)


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ra.InvalidParameterError, match="features"):
        ra.scaled_dot_product_attention(np.ones((1, 3)), np.ones((2, 4)), np.ones((2, 1)))


finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


@given(arrays(np.float64, st.integers(1, 40), elements=finite), st.floats(1e-3, 1e3))
def test_softmax_sums_to_one(scores, t):
    w = ra.softmax(scores, temperature=t)
    assert np.all(w >= 0)
    assert math.isclose(w.sum(), 1.0, rel_tol=1e-9)


@given(arrays(np.float64, st.integers(1, 30), elements=st.integers(-5, 5).map(float)))
def test_temperature_to_zero_is_hard_top1_with_ties_split(scores):
    w = ra.softmax(scores, temperature=1e-9)
    top = scores == scores.max()
    np.testing.assert_allclose(w[top], 1.0 / top.sum())
    np.testing.assert_array_equal(w[~top], 0.0)


@given(arrays(np.float64, st.integers(1, 30), elements=st.floats(-1, 1)))
def test_huge_temperature_is_uniform(scores):
    w = ra.softmax(scores, temperature=1e9)
    np.testing.assert_allclose(w, 1.0 / len(scores), rtol=1e-6)


def test_softmax_is_stable_for_huge_scores():
    w = ra.softmax(np.array([1e6, 1e6 - 1.0, -1e6]))
    assert np.isfinite(w).all()
    np.testing.assert_allclose(w, [1 / (1 + math.exp(-1)), math.exp(-1) / (1 + math.exp(-1)), 0.0])


@pytest.mark.parametrize("bad", [0, 0.0, -1.0, float("nan"), float("inf"), "hot", None])
def test_bad_temperature_is_a_value_error(bad):
    with pytest.raises(ValueError, match="temperature"):
        ra.softmax([1.0, 2.0], temperature=bad)
    with pytest.raises(ra.InvalidParameterError):
        ra.scaled_dot_product_attention(np.ones((1, 2)), np.ones((2, 2)), np.ones((2, 1)), temperature=bad)


def test_entropy_and_effective_keys():
    assert ra.entropy([1.0, 0.0, 0.0]) == 0.0
    assert math.isclose(ra.entropy(np.full(8, 1 / 8)), math.log(8))
    assert ra.effective_num_keys([1.0, 0.0]) == 1.0
    assert math.isclose(ra.effective_num_keys(np.full(10, 0.1)), 10.0)
    assert ra.effective_num_keys([0.0, 0.0]) == 0.0


# -- edge cases of the numpy core (issue 18, item 8) -------------------------------------------------

_q, _K, _V = np.ones((2, 4)), np.ones((3, 4)), np.ones((3, 2))


@pytest.mark.parametrize(
    ("args", "kw", "match"),
    [
        ((np.ones((2, 4)), np.ones((0, 4)), np.ones((0, 2))), {}, "S=0 positions"),  # zero keys
        ((np.ones((2, 0)), np.ones((3, 0)), _V), {}, "E=0 features"),  # zero-width vectors
        ((np.ones(4), _K, _V), {}, "query must have at least 2 dimensions"),  # a 1-D query
        ((_q, np.ones(4), _V), {}, "key must have at least 2 dimensions"),
        ((_q, _K, np.ones(3)), {}, "value must have at least 2 dimensions"),
        ((_q, _K, _V), {"attn_mask": np.ones((2, 4), bool)}, "does not broadcast"),  # mask of the wrong shape
        ((_q, _K, _V), {"attn_mask": np.ones(2, bool)}, "does not broadcast"),
        ((_q, _K, _V), {"attn_mask": np.ones((5, 2, 3), bool)}, "does not broadcast"),  # would grow the result
        ((_q, _K, _V), {"attn_mask": np.ones((2, 3), np.int64)}, "boolean .* or float"),  # as torch refuses
        ((_q, _K, _V), {"scale": float("nan")}, "scale"),
        ((_q, _K, _V), {"scale": float("inf")}, "scale"),
        ((_q, _K, _V), {"temperature": float("nan")}, "temperature"),
        ((_q, _K, _V), {"temperature": float("inf")}, "temperature"),
        ((np.ones((2, 2, 4)), np.ones((3, 3, 4)), np.ones((3, 3, 2))), {}, "batch dimensions"),
        ((np.array([["a", "b"]]), _K, _V), {}, "real numbers"),
        (([[1.0, 2.0], [3.0]], _K, _V), {}, "rectangular"),
    ],
)
def test_sdpa_edge_cases_are_invalid_parameter_errors(args, kw, match):
    with pytest.raises(ra.InvalidParameterError, match=match):
        ra.scaled_dot_product_attention(*args, **kw)


@pytest.mark.parametrize(
    ("scores", "kw", "match"),
    [
        (3.0, {}, "at least one dimension"),
        (np.zeros(0), {}, "empty"),
        (np.zeros((2, 0)), {}, "empty"),
        (np.zeros(3), {"axis": 1}, "axis"),
        (["a", "b"], {}, "real numbers"),
        (np.ones(3, complex), {}, "real numbers"),
    ],
)
def test_softmax_edge_cases_are_invalid_parameter_errors(scores, kw, match):
    with pytest.raises(ra.InvalidParameterError, match=match):
        ra.softmax(scores, **kw)


def _nan_case(case: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    q, K, V = (rng.standard_normal(s).astype(np.float32) for s in ((4, 6), (5, 6), (5, 3)))
    kw: dict = {}
    if case == "nan key":
        K[1, 2] = np.nan
    elif case == "nan key, masked for every query":
        K[1, 2] = np.nan
        m = np.ones((4, 5), bool)
        m[:, 1] = False
        kw["attn_mask"] = m
    elif case == "nan query row":
        q[2, 0] = np.nan
    elif case == "+inf in a key":
        K[3, 1] = np.inf
    elif case == "-inf in a key":
        K[3, 1] = -np.inf
    elif case == "nan value":
        V[0, 1] = np.nan
    elif case == "nan value of a masked key":
        V[0, 1] = np.nan
        m = np.ones((4, 5), bool)
        m[:, 0] = False
        kw["attn_mask"] = m
    elif case == "nan in a float mask":
        m = np.zeros((4, 5), np.float32)
        m[1, 3] = np.nan
        kw["attn_mask"] = m
    elif case == "+inf in a float mask":
        m = np.zeros((4, 5), np.float32)
        m[0, 2] = np.inf
        kw["attn_mask"] = m
    elif case == "causal, nan in a future key":
        K[4, 0] = np.nan
        kw["is_causal"] = True
    return q, K, V, kw


NAN_CASES = [
    "nan key",
    "nan key, masked for every query",
    "nan query row",
    "+inf in a key",
    "-inf in a key",
    "nan value",
    "nan value of a masked key",
    "nan in a float mask",
    "+inf in a float mask",
    "causal, nan in a future key",
]


@pytest.mark.parametrize("case", NAN_CASES)
def test_nan_propagates_exactly_as_torch_sdpa(case):
    """The rule: NaN in, NaN out, in the same places as torch; never weights that look valid."""
    q, K, V, kw = _nan_case(case, np.random.default_rng(11))
    out, w = ra.scaled_dot_product_attention(q, K, V, **kw)
    ref = _torch_sdpa(q, K, V, **kw)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref), err_msg=case)
    np.testing.assert_allclose(out, ref, atol=1e-5, rtol=1e-5, equal_nan=True, err_msg=case)
    assert np.isnan(ref).any() or case == "-inf in a key"  # the case is a real one
    rows = np.isnan(w).any(axis=-1)  # (L,) a row is all NaN or a valid weight row
    assert np.isnan(w[rows]).all()
    np.testing.assert_allclose(w[~rows].sum(axis=-1), 1.0, atol=1e-5)


def test_softmax_nan_and_inf_give_nan_like_torch():
    for row in ([1.0, np.nan, 0.0], [1.0, np.inf, 0.0], [np.nan, -np.inf, -np.inf]):
        ours = ra.softmax(np.array([row, [0.0, 1.0, 2.0]], np.float32))
        ref = torch.softmax(torch.tensor([row, [0.0, 1.0, 2.0]], dtype=torch.float32), dim=-1).numpy()
        np.testing.assert_allclose(ours, ref, atol=1e-6, equal_nan=True)
    # the one documented difference: every key masked gives zeros here, NaN in torch.softmax
    assert ra.softmax([-np.inf, -np.inf]).tolist() == [0.0, 0.0]


def test_float_mask_is_divided_by_the_temperature_with_the_scores():
    rng = np.random.default_rng(5)
    q, K, V = rng.standard_normal((2, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 2))
    bias = rng.standard_normal((2, 3))
    _, w = ra.scaled_dot_product_attention(q, K, V, attn_mask=bias, scale=0.5, temperature=0.25)
    logits = ((q @ K.T) * 0.5 + bias) / 0.25
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(w, expected / expected.sum(axis=1, keepdims=True), rtol=1e-10)
