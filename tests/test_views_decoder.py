"""The decoder pages' builders (retrieval_attention.views.next_word, ...), with the real models.

Their numbers are the decoder library's (generation steps, attention, next-token probabilities),
KV-cached rows equal rows recomputed over the whole text, every text is translated, and the
student's text stays text. Each model is loaded once per module (the converted copy: seconds).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from retrieval_attention.core.attention import softmax
from retrieval_attention.decoder import load_decoder
from retrieval_attention.errors import InvalidParameterError, QueryError
from retrieval_attention.export.blocks import LessonChart, Metrics, Text
from retrieval_attention.export.markup import markup_html, markup_plain
from retrieval_attention.i18n import fmt_number
from retrieval_attention.views import kv_cache as kv
from retrieval_attention.views import next_word as nw
from retrieval_attention.views import translation as tr

pytestmark = pytest.mark.slow

PROMPT = "The capital of France is"


@pytest.fixture(scope="module")
def smollm2():
    return load_decoder("smollm2")


@pytest.fixture(scope="module")
def gemma():
    return load_decoder("gemma3")


def chart_rows(chart: LessonChart) -> list[dict]:
    (rows,) = chart.spec["datasets"].values()
    return rows


def metrics(lesson) -> dict[str, str]:
    return {m.label: m.value for b in lesson.blocks() if isinstance(b, Metrics) for m in b.items}


def assert_every_text_translated(build, data: tuple[str, ...] = ("next_text",)) -> None:
    """Every text block is non-empty in each language, and a zh / es sentence is not the English one.

    ``data``: the keys of blocks that hold only the student's text and the model's (the same in every language).
    """
    english = {t.key: t.text for t in build("en").blocks() if isinstance(t, Text)}
    for lang in ("zh", "es"):
        lesson = build(lang)
        assert lesson.lang == lang and lesson.title != build("en").title
        for t in (b for b in lesson.blocks() if isinstance(b, Text)):
            assert markup_plain(t.text).strip(), (lang, t.key)
            if re.search("[A-Za-z]{4,}", markup_plain(english[t.key])) and t.key not in data:
                assert t.text != english[t.key], (lang, t.key, t.text)


def test_next_word_numbers_are_the_decoders(smollm2):
    lesson = nw.next_word_lesson(smollm2, nw.NextWordSettings(PROMPT, layer=15, head=3))
    assert [s.key for s in lesson.sections] == ["next", "attention"]
    assert [b.key for b in lesson.charts()] == ["next_chart", "attention_chart"]
    p = smollm2.next_token_probabilities(PROMPT)  # (V,) softmax at T = 1, one forward pass over the prompt
    top = np.argsort(-p)[: nw.TOP]
    rows = chart_rows(lesson.section("next").blocks[2])
    model = [r for r in rows if r["order"] == 0]
    assert [r["token"] for r in model] == [nw.label(smollm2, i) for i in top]
    np.testing.assert_allclose([r["p"] for r in model], p[top], atol=1e-5)
    drawn = [r["p"] for r in rows if r["order"] == 1]
    assert drawn[0] == 1.0 and not any(drawn[1:])  # greedy: the draw is one-hot on the top token
    assert metrics(lesson)["token written"] == "Paris" and metrics(lesson)["probability"] == f"{p.max():.1%}"
    attention = smollm2.attention(PROMPT, 15)[3, -1]  # the prompt's last query row, all at once
    got = [r["weight"] for r in chart_rows(lesson.section("attention").blocks[1])]
    np.testing.assert_allclose(got, attention, atol=1e-5)


def test_written_tokens_use_the_cache_and_equal_a_recomputation(smollm2):
    settings = nw.NextWordSettings(PROMPT, temperature=0.7, seed=2, written=3, layer=5, head=1)
    lesson = nw.next_word_lesson(smollm2, settings)
    steps = nw.written(smollm2, PROMPT, 0.7, 2, 3)
    assert len(steps) == 4 and nw.written(smollm2, PROMPT, 0.7, 2, 3) == steps  # one run, kept
    ids = smollm2.token_ids(PROMPT) + [s.token_id for s in steps[:3]]
    logits, traces = smollm2.run(ids)  # the whole text again, no cache
    np.testing.assert_allclose(steps[3].probabilities, softmax(logits[-1]), atol=1e-5)
    got = [r["weight"] for r in chart_rows(lesson.section("attention").blocks[1])]
    np.testing.assert_allclose(got, traces[5].weights[1, -1], atol=1e-5)
    assert metrics(lesson)["KV cache"] == str(len(ids))
    drawn = [r for r in chart_rows(lesson.section("next").blocks[2]) if r["order"] == 1]
    t = softmax(logits[-1].astype(np.float64), temperature=0.7)  # what the token was drawn from
    top = np.argsort(-t)[: nw.TOP]
    np.testing.assert_allclose([r["p"] for r in drawn][: nw.TOP], t[top], atol=1e-5)


def test_next_word_in_every_language(smollm2, gemma):
    assert_every_text_translated(lambda lang: nw.next_word_lesson(smollm2, nw.NextWordSettings(PROMPT, lang=lang)))
    lesson = nw.next_word_lesson(gemma, nw.NextWordSettings(nw.examples("zh")[0], written=1, lang="zh"))
    assert lesson.title == "下一个词" and "Gemma 3 270M" in lesson.intro[0].text
    assert lesson.section("attention").blocks[1].spec["datasets"]  # Gemma's row drawn
    assert nw.default_model("zh") == nw.default_model("es") == "gemma3" and nw.default_model("en") == "smollm2"


def test_user_text_stays_text(smollm2):
    prompt = "<b>bold</b> **star** $x$ <script>"
    lesson = nw.next_word_lesson(smollm2, nw.NextWordSettings(prompt))
    (line,) = [b for b in lesson.blocks() if b.key == "next_text"]
    html = markup_html(line.text)
    assert "<b>" not in html and "<script>" not in html and "&lt;b&gt;" in html
    assert "**star**" in markup_plain(line.text)


def test_bad_input_is_refused_clearly(smollm2, monkeypatch):
    for prompt in ("", "   ", "word " * 1100):
        with pytest.raises(QueryError):
            nw.next_word_lesson(smollm2, nw.NextWordSettings(prompt))
    for bad in ({"layer": 30}, {"head": 9}, {"written": nw.MAX_WRITTEN + 1}, {"written": -1}):
        with pytest.raises(InvalidParameterError):
            nw.next_word_lesson(smollm2, nw.NextWordSettings(PROMPT, **bad))
    monkeypatch.setattr(nw, "MAX_WRITTEN", 2)  # the cap, reached in three steps
    last = nw.next_word_lesson(smollm2, nw.NextWordSettings("Hello", written=2))
    assert {"next_limit", "next_stopped"} & {b.key for b in last.blocks()}


# ---- the KV cache as a key-value store ----------------------------------------------------------


def test_kv_store_numbers_are_the_caches(smollm2):
    settings = kv.KVSettings(PROMPT, written=2, layer=15, head=4)
    lesson = kv.kv_lesson(smollm2, settings)
    assert [s.key for s in lesson.sections] == ["store", "check"]
    step = nw.written(smollm2, PROMPT, 0.0, 0, 2)[-1]
    lk = smollm2.kv_lookup(step, 15, 4)  # the library's lookup: the cache's keys and values, the step's query
    S = len(smollm2.token_ids(PROMPT)) + 2
    assert lk.keys.shape[0] == S and lk.kv_head == 4 // 3  # 9 query heads share 3 key-value heads
    got = [r["weight"] for r in chart_rows(lesson.section("store").blocks[1])]
    np.testing.assert_allclose(got, lk.weights, atol=1e-6)
    np.testing.assert_allclose(softmax(lk.scores.astype(np.float64)), lk.weights, atol=1e-5)  # the retrieval
    np.testing.assert_allclose(lk.weights @ lk.values, lk.read, atol=1e-5)
    (table,) = [b for b in lesson.blocks() if b.key == "store_table"]
    assert len(table.rows) == S
    np.testing.assert_allclose([r[4] for r in table.rows], lk.scores, atol=1e-6)
    np.testing.assert_allclose([r[5] for r in table.rows], lk.weights, atol=1e-6)
    assert table.rows[0][2].startswith(f"{lk.keys[0, 0]:.2f}; ")
    cfg = smollm2.config
    assert metrics(lesson)["numbers cached"] == f"{2 * cfg.n_layers * cfg.n_kv_heads * cfg.head_dim * S:,}"
    gaps = [float(metrics(lesson)[k]) for k in ("attention gap", "probability gap", "softmax vs model")]
    assert max(gaps) < 1e-4  # cached = recomputed, and the weights are the softmax of q·K / √d
    ids = smollm2.token_ids(PROMPT) + [s.token_id for s in nw.written(smollm2, PROMPT, 0.0, 0, 2)[:-1]]
    check = kv.cache_check(smollm2, tuple(ids))  # the times the page shows: measured, positive
    assert metrics(lesson)["one step, cached"] == f"{1000 * check.cached_seconds:,.0f} ms"
    assert metrics(lesson)[f"all {S} again"] == f"{1000 * check.full_seconds:,.0f} ms"


def test_kv_page_in_every_language(smollm2):
    build = lambda lang: kv.kv_lesson(smollm2, kv.KVSettings(PROMPT, layer=3, lang=lang))  # noqa: E731
    assert_every_text_translated(build)  # one text: the timing runs once (cached), not once per language
    lesson = build("es")
    assert lesson.title == "La caché KV es un almacén clave-valor"
    S, cfg = len(smollm2.token_ids(PROMPT)), smollm2.config
    assert metrics(lesson)["números en caché"] == fmt_number(
        2 * cfg.n_layers * cfg.n_kv_heads * cfg.head_dim * S, "es", 0
    )
    with pytest.raises(InvalidParameterError):
        kv.kv_lesson(smollm2, kv.KVSettings(PROMPT, head=9))
    with pytest.raises(QueryError):
        kv.kv_lesson(smollm2, kv.KVSettings("  "))


# ---- 我爱吃苹果, translated and aligned ------------------------------------------------------------


def test_translation_numbers_are_the_librarys(gemma):
    lesson = tr.translation_lesson(gemma, tr.TranslationSettings("我爱吃苹果", "zh"))
    assert [s.key for s in lesson.sections] == ["alignment", "what"]
    t = gemma.translate("我爱吃苹果", "zh")  # the library's translation and alignment, computed again
    assert t.text == "I love eating apples." and (t.layer, t.head) == (5, 3)
    (chart,) = lesson.charts()
    rows = chart_rows(chart)
    got = np.zeros_like(t.alignment)
    for r in rows:
        got[r["r"], r["c"]] = r["value"]
    np.testing.assert_allclose(got, t.alignment, atol=1e-6)  # the heatmap is a_ij, rows renormalised
    np.testing.assert_allclose(t.alignment.sum(axis=1), 1.0, atol=1e-5)
    assert [r["col"] for r in rows[: len(t.source_tokens)]] == ["我", "爱", "吃", "苹果"]
    (table,) = [b for b in lesson.blocks() if b.key == "alignment_table"]
    assert [(row[0], row[1]) for row in table.rows[:4]] == [
        ("I", "我"),
        ("love", "爱"),
        ("eating", "吃"),
        ("apples", "苹果"),
    ]
    np.testing.assert_allclose([row[2] for row in table.rows], t.alignment.max(axis=1), atol=1e-6)
    assert [row[3] for row in table.rows] == [f"{m:.0%}" for m in t.source_mass]  # the raw share, stated
    low, high = f"{t.source_mass.min():.0%}", f"{t.source_mass.max():.0%}"
    assert metrics(lesson)["on the source, raw"] == f"{low}–{high}"
    texts = " ".join(b.text for b in lesson.blocks() if isinstance(b, Text))
    assert "causal self-attention from the output back to the prompt" in texts
    assert f"**c₃** = {t.alignment[2, 0]:.2f} · h(我)" in texts


def test_translation_in_every_language_and_bad_input(gemma, smollm2):
    data = ("alignment_translation", "alignment_context", "what_prompt")  # the sentences and the numbers
    assert_every_text_translated(lambda lang: tr.translation_lesson(gemma, tr.TranslationSettings(lang=lang)), data)
    es = tr.translation_lesson(gemma, tr.TranslationSettings("Me encanta comer manzanas.", "es", "es"))
    assert es.title == "我爱吃苹果, traducido y alineado"
    assert [row[1] for row in next(b for b in es.blocks() if b.key == "alignment_table").rows[:4]] == [
        "Me", "encanta", "comer", "manzanas"
    ]  # fmt: skip
    assert tr.default_source("es") == "es" and tr.default_source("zh") == tr.default_source("en") == "zh"
    for sentence in ("", "   ", "一\n二", "字" * 201):
        with pytest.raises(QueryError):
            tr.translation_lesson(gemma, tr.TranslationSettings(sentence))
    with pytest.raises(InvalidParameterError):
        tr.translation_lesson(gemma, tr.TranslationSettings("我爱吃苹果", "fr"))
    with pytest.raises(InvalidParameterError):
        tr.translation_lesson(smollm2, tr.TranslationSettings())  # the English decoder does not translate


class Counting:
    """A decoder whose generation steps are counted (each is one forward pass of the model)."""

    def __init__(self, decoder) -> None:
        self.decoder, self.name, self.steps = decoder, decoder.name, 0

    def generate(self, *args, **kwargs):
        for step in self.decoder.generate(*args, **kwargs):
            self.steps += 1
            yield step


def test_each_session_keeps_its_own_runs_so_a_click_is_one_step(smollm2):
    """Six students write at once, a click each in turn: with a store per session every click runs one
    step; with one store of four runs for the whole server, the runs push each other out and each
    click writes the text again from the prompt."""
    prompts = [f"{p} {w}" for p in ("The capital of France is", "Once upon a time") for w in ("", "a", "the")]
    clicks = 4
    per_session, shared = Counting(smollm2), Counting(smollm2)
    sessions, server = [nw.Runs(3) for _ in prompts], nw.Runs(4)
    for n in range(clicks):
        for prompt, runs in zip(prompts, sessions):
            mine = nw.written(per_session, prompt, 0.0, 0, n, runs)
            theirs = nw.written(shared, prompt, 0.0, 0, n, server)
            assert [s.token_id for s in mine] == [s.token_id for s in theirs]
    assert per_session.steps == len(prompts) * clicks, "one step per click"
    assert shared.steps == len(prompts) * sum(range(1, clicks + 1)), "every click from the prompt again"
    assert all(len(runs) == 1 for runs in sessions) and len(server) == 4


def test_a_run_keeps_only_its_newest_distributions_and_start_again_writes_the_same(smollm2):
    counted, runs = Counting(smollm2), nw.Runs(1)
    steps = nw.written(counted, PROMPT, 0.7, 5, 3, runs)
    vocab = steps[-1].probabilities.shape[0]
    assert vocab > 1000 and steps[-1].sampled_from.shape == (vocab,)
    assert all(s.probabilities.size == 0 and s.sampled_from.size == 0 for s in steps[:-1])  # 2 MB each for Gemma
    assert [s.attention.shape[-1] for s in steps] == [steps[0].attention.shape[-1] + i for i in range(4)]
    again = nw.written(counted, PROMPT, 0.7, 5, 0, runs)  # "Start again": step 0's distributions were dropped
    assert counted.steps == 4 + 1 and again[0].token_id == steps[0].token_id
    fresh = nw.written(smollm2, PROMPT, 0.7, 5, 0, nw.Runs(1))[0]
    np.testing.assert_array_equal(again[0].probabilities, fresh.probabilities)
    np.testing.assert_array_equal(again[0].sampled_from, fresh.sampled_from)
    with pytest.raises(InvalidParameterError):
        nw.Runs(0)
