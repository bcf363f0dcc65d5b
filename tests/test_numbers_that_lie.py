"""Numbers that lie (issue 24, family 5): a count with thousands separators or a fraction is refused,
never rounded; the effective number of videos read is between 1 and the history's length with
softmax off too; float16 attention gives torch's answer, not NaN."""

from __future__ import annotations

import numpy as np
import pytest

import retrieval_attention as ra
from retrieval_attention.core.attention import effective_num_keys, scaled_dot_product_attention, softmax


def refused(raw: bytes, name: str = "c.csv") -> str:
    with pytest.raises(ra.CorpusError) as info:
        ra.parse_corpus(raw, name)
    return str(info.value)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("1.234", "views must be a plain number, got '1.234' (a point between thousands? write 1234"),
        ('"1,234"', "views must be a plain number, got '1,234' (a comma between thousands? write 1234"),
        ("1.234.567", "write 1234567 with no separator"),
        ("12 345", "a space between thousands? write 12345"),
        ("2.5", "views is a count and must be a whole number, got '2.5'"),
    ],
)
def test_a_view_count_that_would_be_misread_is_refused(cell, message):
    assert message in refused(f"title,views\nCats,{cell}\n".encode())


def test_a_fractional_count_in_json_is_refused_and_whole_floats_are_counts():
    assert "views is a count and must be a whole number, got 2.5" in refused(
        b'[{"title": "a", "views": 2.5}]', "c.json"
    )
    c = ra.parse_corpus(b'[{"title": "a", "views": 1234.0}, {"title": "b", "views": 1.5e3}]', "c.json")
    assert [v.views for v in c] == [1234, 1500] and all(type(v.views) is int for v in c)


def test_durations_keep_their_decimals_and_refuse_a_decimal_comma():
    c = ra.parse_corpus(b"title,duration_s\nCats,61.5\nDogs,1e3\n", "c.csv")
    assert [v.duration_s for v in c] == [61.5, 1000.0]
    assert "duration_s must be a plain number, got '61,5' (write decimals with a point" in refused(
        b'title,duration_s\nCats,"61,5"\n'
    )


# -- effective number of keys ---------------------------------------------------------------------


def brute_effective(w: np.ndarray) -> float:
    """The participation ratio of the shares, written the long way."""
    shares = [abs(x) / sum(abs(y) for y in w) for x in w]
    return 1.0 / sum(p * p for p in shares)


@pytest.mark.parametrize(
    "w", [[0.3] * 12, [0.1, 0.1, 0.1], [0.9, -0.2, 0.05, 0.0], [0.25] * 4, [1.0, 0.0, 0.0], [0.02, 0.01]]
)
def test_effective_count_is_between_1_and_n_for_any_weights(w):
    eff = effective_num_keys(w)
    n = np.count_nonzero(w)
    assert 1 - 1e-12 <= eff <= n + 1e-12
    assert eff == pytest.approx(brute_effective(np.array(w)))


def test_effective_count_of_softmax_weights_is_unchanged():
    w = softmax(np.linspace(-1, 1, 9), temperature=0.3)
    assert effective_num_keys(w) == pytest.approx(1.0 / np.sum(w * w), rel=1e-12)
    assert effective_num_keys(np.zeros(4)) == 0.0


def test_recommender_without_softmax_never_reads_more_videos_than_the_history_holds(store):
    personas = ra.load_histories(corpus=store.corpus)
    target = next(v.id for v in store.corpus if v.id not in set(personas[0].history))
    for p in personas:
        ta = ra.target_attention(store, list(p.history), target, normalize=False)
        h = len(p.history)
        assert 1.0 <= ta.effective_num_keys <= h + 1e-9, (p.id, ta.effective_num_keys, h)
        assert 0.0 <= ta.entropy <= np.log(h) + 1e-9
    lesson = ra.recommender_lesson(store, list(personas[0].history), target, normalize=False)
    (weights,) = [b for b in lesson.section("compare").blocks if b.kind == "table"]
    raw = np.array([row[-1] for row in weights.rows])  # DIN's raw weights, as the page shows them
    assert abs(raw.sum() - 1.0) > 0.05, "without the softmax the weights do not sum to 1"
    assert 1.0 <= effective_num_keys(raw) <= len(personas[0].history) + 1e-9


# -- float16 attention against torch --------------------------------------------------------------


@pytest.mark.parametrize("spread", [1.0, 40.0, 300.0])
def test_float16_attention_matches_torch(spread):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    q, K, V = (
        (rng.normal(size=shape) * s).astype(np.float16)
        for shape, s in (((2, 4, 64), spread), ((2, 6, 64), spread), ((2, 6, 8), 1.0))
    )
    out, w = scaled_dot_product_attention(q, K, V)
    ref = torch.nn.functional.scaled_dot_product_attention(*(torch.from_numpy(x) for x in (q, K, V)))
    assert out.dtype == np.float16 and w.dtype == np.float16
    assert not np.isnan(out).any()
    np.testing.assert_allclose(out.astype(np.float32), ref.float().numpy(), atol=2e-3, rtol=2e-3)
    np.testing.assert_allclose(w.astype(np.float32).sum(-1), 1.0, atol=2e-3)


def test_float16_softmax_of_a_wide_gap_is_one_hot_not_nan():
    w = softmax(np.array([0.0, 20.0, 30.0], dtype=np.float16), temperature=0.01)
    assert w.dtype == np.float16 and w.tolist() == [0.0, 0.0, 1.0]


# -- the refusals in the reader's language ----------------------------------------------------------


def test_the_new_refusals_are_said_in_chinese_and_spanish():
    with pytest.raises(ra.corpus.SaidCorpusError) as info:
        ra.parse_corpus(b"title,views\nCats,1.234\n", "c.csv")
    assert info.value.said("zh") == (
        "c.csv, line 2：views 必须是不带格式的数字，而这里是 '1.234'（点号是千位分隔符吗？请写成 1234，不要分隔符）"
    )
    assert "(¿un punto entre los miles? escribe 1234 sin separador)" in info.value.said("es")
    with pytest.raises(ra.corpus.SaidCorpusError) as info:
        ra.parse_corpus(b"title,views\nCats,2.5\n", "c.csv")
    assert "views es un recuento y debe ser un número entero, pero es '2.5'" in info.value.said("es")
    with pytest.raises(ra.corpus.SaidCorpusError) as info:
        ra.corpus.parse_titles("1\tFunny cats\t100\n", source="t.txt")
    assert info.value.said("zh").startswith("t.txt, line 1 含有用制表符分隔的单元格（'1', 'Funny cats', '100'）")


def test_cli_says_a_misread_count_in_its_language(tmp_path):
    import os
    import subprocess
    import sys

    bad = tmp_path / "es.csv"
    bad.write_bytes(b"Title;Views\nGatos;1.234\n")
    p = subprocess.run(
        [sys.executable, "-m", "retrieval_attention", "gatos", "--corpus", str(bad), "--lang", "es"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONIOENCODING="utf-8"),
        timeout=120,
    )
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "views debe ser un número sin formato, pero es '1.234' (¿un punto entre los miles?" in p.stderr
