"""The "The articles, step by step" pages (issue 16) through Streamlit's AppTest, with the real models.

Every page renders with its defaults, in English, Chinese and Spanish, and with a Chinese and a
Spanish sentence; bad input (empty, too long, no words, [UNK], out of range) shows a message,
never an exception; and the numbers on the page are the library's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from retrieval_attention import i18n
from retrieval_attention.articles import ALIGN_EN, ALIGN_ES, ALIGN_ZH, RILEY_EN, RILEY_ES, align, riley_parts
from retrieval_attention.inspector import load_inspector, strongest_self_head, walkthrough
from ui.components.text import md

APP = str(Path(__file__).resolve().parents[1] / "app.py")
WALK, RILEY, ALIGN, PROJ = (f"ui/pages/article_{n}.py" for n in ("walkthrough", "riley", "alignment", "projections"))
PAGES = [WALK, RILEY, ALIGN, PROJ]
#: Each page's sentence box (the alignment page has two: queries, keys).
BOX = {WALK: "aw_sentence", RILEY: "ar_sentence", PROJ: "ap_sentence"}
TITLES = {
    "en": {WALK: "One token, step by step", RILEY: "Riley in three parts", ALIGN: "Bahdanau, and 我爱吃苹果 aligned",
           PROJ: "Why three vectors per word"},
    "zh": {WALK: "一个 token，一步一步", RILEY: "Riley：分三部分", ALIGN: "Bahdanau 注意力，以及“我爱吃苹果”的对齐",
           PROJ: "为什么每个词要三个向量"},
    "es": {WALK: "Un token, paso a paso", RILEY: "Riley en tres partes", ALIGN: "Bahdanau, y 我爱吃苹果 alineado",
           PROJ: "Por qué tres vectores por palabra"},
}  # fmt: skip
#: A Chinese sentence all-MiniLM-L6-v2 reads without [UNK], and one it cannot read.
CHINESE_OK, CHINESE_UNK = "中国人", "我爱吃苹果"


def open_page(page: str, lang: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def spec_titles(spec: dict) -> list[str]:
    """A chart's title and the titles of the charts inside it (layers, concatenations)."""
    found = []

    def walk(spec: dict) -> None:
        title = spec.get("title")
        if title:
            found.append(title.get("text", "") if isinstance(title, dict) else str(title))
        for part in ("hconcat", "vconcat", "layer"):
            for sub in spec.get(part, []):
                walk(sub)

    walk(spec)
    return found


def titles(at: AppTest) -> list[str]:
    """Every chart title on the page."""
    return [t for spec in specs(at) for t in spec_titles(spec)]


def label_exprs(spec: object) -> list[str]:
    """Every axis's label expression in a chart: the row and column labels, by position."""
    if isinstance(spec, dict):
        own = [spec["labelExpr"]] if isinstance(spec.get("labelExpr"), str) else []
        return own + [e for v in spec.values() for e in label_exprs(v)]
    if isinstance(spec, list):
        return [e for v in spec for e in label_exprs(v)]
    return []


def keyed(at: AppTest, prefix: str) -> str:
    """The session key of a widget whose key is ``prefix`` plus a suffix for the sentence."""
    return next(k for k in at.session_state.keys() if k.startswith(prefix))


def text(at: AppTest) -> str:
    """Everything the page wrote as markdown, captions, messages and headers."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [h.value for h in at.header]
    parts += [w.value for w in at.warning] + [i.value for i in at.info] + [s.value for s in at.subheader]
    return "\n".join(parts)


# --- every view renders -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh", "es"])
@pytest.mark.parametrize("page", PAGES, ids=lambda p: Path(p).stem)
def test_every_view_renders_in_every_language(page, lang):
    at = open_page(page, lang)
    assert at.title[0].value == TITLES[lang][page]
    assert len(at.get("vega_lite_chart")) >= 1
    assert all(titles(at)), "every chart has a title"
    assert not at.warning or page == ALIGN, [w.value for w in at.warning]  # the alignment page warns what it is
    shown = text(at)
    assert "«" in shown and "»" in shown, "each view names the article it follows, in its own language"
    assert len(at.info) >= 1, "and says in one line what to notice"


def test_each_view_names_its_article_in_its_own_language():
    assert "article 001 «注意力机制»" in text(open_page(WALK))
    assert "article 004 «Motivando la Autoatención»" in text(open_page(RILEY))
    align = text(open_page(ALIGN))
    assert "article 000 «注意力機制中的鍵、查詢和值到底是什麼?»" in align and "article 001 «注意力机制»" in align
    proj = text(open_page(PROJ))
    assert "article 002 «Transformer 架构中的 Query、Key 和 Value 是什么？它们为什么被使用？»" in proj
    assert "文章 004 «Motivando la Autoatención»" in text(open_page(RILEY, "zh")), "the title stays Spanish in Chinese"


@pytest.mark.parametrize("page", [WALK, RILEY, PROJ], ids=lambda p: Path(p).stem)
@pytest.mark.parametrize("sentence", [CHINESE_OK, RILEY_ES], ids=["chinese", "spanish"])
def test_model_pages_with_a_chinese_and_a_spanish_sentence(page, sentence):
    at = open_page(page)
    at.text_input(key=BOX[page]).set_value(sentence)
    rerun(at)
    assert not at.warning, [w.value for w in at.warning]
    assert len(at.get("vega_lite_chart")) >= 1


@pytest.mark.parametrize(("queries", "keys"), [(ALIGN_EN, ALIGN_ZH), (ALIGN_ES, ALIGN_ZH), (ALIGN_EN, ALIGN_ES)])
def test_alignment_with_chinese_and_spanish_pairs(queries, keys):
    at = open_page(ALIGN)
    at.text_input(key="al_queries").set_value(queries)
    at.text_input(key="al_keys").set_value(keys)
    rerun(at)
    heat = [s for s in specs(at) if "Alignment weights α_ij" in spec_titles(s)]
    assert len(heat) == 1
    labels = " ".join(label_exprs(heat[0]))
    for word in (*queries.split(), *keys.split()):
        assert json.dumps(word, ensure_ascii=False) in labels, word


# --- what the student should see --------------------------------------------------------------------


def test_walkthrough_shows_the_five_steps_with_the_models_numbers():
    at = open_page(WALK)
    shown = text(at)
    assert "√32 ≈ 5.66" in shown and "√64 = 8" in shown, "the scale of this model and the article's"
    assert "The first 8 of 32 numbers" in shown, "vectors cut to a few dimensions say their full length"
    got = titles(at)
    for title in ("q·k_j", "÷ √32", "softmax → w_j", "z = Σ w_j·v_j"):
        assert title in got, (title, got)
    w = walkthrough(load_inspector(), "Thinking Machines", 0, 0, 1)
    best = w.tokens[int(w.weights.argmax())]
    assert f"“thinking” gives the most weight to “{md(best)}”: {w.weights.max():.2f}" in shown
    table = at.table[-1].value  # the matrix form, last (the tables of the hand calculation come first)
    assert list(table.iloc[0]) == ["X", "4 × 384", "2 × 512"], "X: this sentence's shape beside the article's"
    assert "8 × 2 × 64" in set(table.iloc[:, 2]), "the article's 8 heads of 64"


@pytest.mark.parametrize(
    ("lang", "weights", "z"),
    [
        ("en", "z = 0.88 · v₁ + 0.12 · v₂ = (0.88; 0.36; 1.88)", ["0.8808", "0.1192"]),
        ("zh", "z = 0.88 · v₁ + 0.12 · v₂ = (0.88; 0.36; 1.88)", ["0.8808", "0.1192"]),
        ("es", "z = 0,88 · v₁ + 0,12 · v₂ = (0,88; 0,36; 1,88)", ["0,8808", "0,1192"]),
    ],
)
def test_walkthrough_starts_with_the_articles_numbers_by_hand(lang, weights, z):
    """Article 001: 112 and 96, ÷ √64 = 8 -> 14 and 12, softmax -> 0.88 / 0.12, z = 0.88·v₁ + 0.12·v₂."""
    at = open_page(WALK, lang)
    steps = at.table[0].value  # one row per word, then Σ
    assert list(steps.iloc[:2, 1]) == ["112", "96"] and list(steps.iloc[:2, 2]) == ["14", "12"]
    assert list(steps.iloc[:2, -1]) == z
    assert weights in text(at)
    assert (at.number_input(key="aw_calc_s0").value, at.number_input(key="aw_calc_dk").value) == (112.0, 64)


def test_walkthrough_calculator_is_editable_and_resets():
    at = open_page(WALK)
    at.number_input(key="aw_calc_s1").set_value(112.0)
    rerun(at)
    assert list(at.table[0].value.iloc[:2, -1]) == ["0.5000", "0.5000"], "equal scores, equal weights"
    at.number_input(key="aw_calc_dk").set_value(1)
    at.toggle(key="aw_calc_three").set_value(True)
    rerun(at)
    steps = at.table[0].value
    assert len(steps) == 4 and list(steps.iloc[:3, 2]) == ["112", "112", "100"], "÷ √1 leaves the scores"
    assert "+ 0.00 · v₃" in text(at)
    at.button(key="aw_calc_reset").click()
    rerun(at)
    assert list(at.table[0].value.iloc[:2, -1]) == ["0.8808", "0.1192"]


def test_walkthrough_says_where_the_word_weighs_itself_most():
    """The default head rests on [SEP]; the page says so, sets [CLS]/[SEP] aside, and finds the head that agrees."""
    at = open_page(WALK)
    w = walkthrough(load_inspector(), "Thinking Machines", 0, 0, 1)
    shown = text(at)
    assert "Here “thinking” gives itself 0.15 and its most, 0.39, to “\\[SEP\\]”" in shown
    assert "the article's numbers are illustrative" in shown
    assert f"Here they take {w.weights[[0, -1]].sum():.2f} of “thinking”'s weight" in shown
    best = strongest_self_head(load_inspector(), "Thinking Machines", 1)
    assert best is not None and best.weight > w.weights[1]
    assert f"The strongest is layer {best.layer}, head {best.head}, with {best.weight:.2f}." in shown
    at.toggle(key="aw_hide_special").set_value(True)
    rerun(at)
    own = w.weights[1] / w.weights[1:3].sum()
    assert f"Among the words, “thinking” gives itself {own:.2f}" in text(at)
    assert "without [CLS], [SEP]" in json.dumps(specs(at))
    at.button(key="aw_go_self").click()
    rerun(at)
    assert (at.slider(key="aw_layer").value, at.slider(key="aw_head").value) == (best.layer, best.head)
    assert f"Here it does: “thinking” gives itself {best.weight:.2f}" in text(at)


def test_walkthrough_token_chip_and_words():
    at = open_page(WALK)
    at.text_input(key="aw_sentence").set_value(RILEY_ES)
    rerun(at)
    tokens = walkthrough(load_inspector(), RILEY_ES, 0, 0, 1).tokens
    assert at.get("button_group"), "the tokens are chips"
    assert "Query “riley”, layer 0, head 0" in titles(at), "riley is picked first when the sentence has it"
    at.button_group(key=keyed(at, "aw_token_")).set_value(tokens.index("hip"))
    rerun(at)
    assert "Query “hip”, layer 0, head 0" in titles(at)
    at.toggle(key="aw_words").set_value(True)
    rerun(at)
    assert "Merged to words: the row of “hiperactivo”" in titles(at)
    assert " + ".join(md(p) for p in ("hip", "##era", "##ct", "##ivo")) in text(at), "the pieces of the split word"


def test_riley_defaults_follow_the_language_and_parts_are_the_librarys():
    assert open_page(RILEY, "es").text_input(key="ar_sentence").value == RILEY_ES
    at = open_page(RILEY)
    assert at.text_input(key="ar_sentence").value == RILEY_EN
    assert (at.slider(key="ar_layer").value, at.slider(key="ar_head").value) == (4, 7)
    r = riley_parts(load_inspector(), RILEY_EN, 4, 7)
    p = r.pair(r.index("riley"), r.index("dog"))
    values = {m.label: m.value for m in at.metric}
    assert values["“riley” → “dog”: q_a·k_b"] == f"{p.qk_ab:.2f}"
    assert values["“dog” → “riley”: q_b·k_a"] == f"{p.qk_ba:.2f}"
    assert p.qk_ab != p.qk_ba
    shown = text(at)
    assert "Exactly the same number." in shown and f"{p.kk:.3f}" in shown, "part 2: k·k is the same both ways"
    assert "(0.00)" not in shown
    assert at.select_slider(key="ar_ratio").value == 0.75, "the article's mix"
    got = titles(at)
    for title in (
        "K·Kᵀ: keys only",
        "÷ row sum (the article's step)",
        "softmax of each row",
        "Q·Kᵀ: queries against keys",
    ):
        assert title in got


def test_riley_pair_picker_shows_both_directions_and_the_mix_slider_moves():
    at = open_page(RILEY, "es")
    at.slider(key="ar_layer").set_value(2)
    at.slider(key="ar_head").set_value(4)
    rerun(at)
    r = riley_parts(load_inspector(), RILEY_ES, 2, 4)
    at.selectbox(key=keyed(at, "ar_a_")).set_value(r.index("perro"))
    at.selectbox(key=keyed(at, "ar_b_")).set_value(r.index("riley"))
    rerun(at)
    values = {m.label: m.value for m in at.metric}
    p = r.pair(r.index("perro"), r.index("riley"))
    assert values["«perro» → «riley»: q_a·k_b"] == f"{p.qk_ab:.2f}".replace(".", ",")
    assert values["«riley» → «perro»: q_b·k_a"] == f"{p.qk_ba:.2f}".replace(".", ",")

    def mix() -> str:
        """The values chart of part 1, data included."""
        for chart, spec in zip(at.get("vega_lite_chart"), specs(at)):
            if any(t.startswith("Valores de la capa 2") for t in spec_titles(spec)):
                return str(chart.proto)
        raise AssertionError("no values chart")

    before = mix()
    at.select_slider(key="ar_ratio").set_value(1.0)
    rerun(at)
    assert mix() != before, "the mix follows the slider"
    assert f"tomaría un {i18n.fmt_percent(0.0, 'es')} de otra" in text(at), "and the sentence under it"


@pytest.mark.parametrize(
    ("lang", "sentence", "layer", "head", "other"),
    [("en", RILEY_EN, 4, 7, "dog"), ("zh", RILEY_EN, 4, 7, "dog"), ("es", RILEY_ES, 2, 4, "perro")],
)
def test_riley_carries_parts_2_and_3_to_the_end(lang, sentence, layer, head, other):
    """The article's pairwise update, its whole-sentence update and part 3's new value, with the numbers."""
    at = open_page(RILEY, lang)
    r = riley_parts(load_inspector(), sentence, layer, head)
    u = r.update(r.index("riley"), r.index(other))

    def num(x: float) -> str:
        return i18n.fmt_number(float(x), lang, 2)

    shown = text(at)
    assert "so its relevances lie between 0 and 1" not in shown, "the false sentence is gone"
    cos = r.cos_kk[np.triu_indices(len(r.labels), k=1)]
    assert num(cos.min()) in shown and num(cos.max()) in shown, "the measured range of the unit keys' cosines"
    assert (
        f"rel(“riley”, “{other}”) = {num(u.relevance)}" in shown
        or f"rel(«riley», «{other}») = {num(u.relevance)}" in shown
    )
    assert num(float(r.qk_row_sums[r.index("riley")])) in shown, "part 3: the sum the article divides by"
    tables = [t.value for t in at.table]
    assert len(tables) == 3
    pair, whole, part3 = tables
    assert list(pair.iloc[2])[1:] == [num(x) for x in u.pair_value[:8]], "rel · v_riley + (1 − rel) · v_other"
    assert list(whole.iloc[1])[1:] == [num(x) for x in u.key_value[:8]]
    assert list(part3.iloc[1])[1:] == [num(x) for x in u.query_value[:8]]
    assert list(part3.iloc[2])[1:] == [num(x) for x in u.softmax_value[:8]]


def test_riley_says_the_articles_relevance_range_needs_non_negative_vectors():
    shown = text(open_page(RILEY))
    assert "between −1 and 1" in shown and "needs such non-negative vectors" in shown
    es = text(open_page(RILEY, "es"))
    assert "1 de 105 pares quedan por debajo de 0" in es, "the Spanish sentence at layer 2, head 4: one pair below 0"


def test_riley_per_token_keeps_the_pieces():
    at = open_page(RILEY, "es")
    at.toggle(key="ar_words").set_value(False)
    rerun(at)
    assert any("##era" in str(o) for o in at.selectbox(key=keyed(at, "ar_a_")).options)


def test_alignment_writes_c1_out_and_says_what_it_is():
    at = open_page(ALIGN)
    shown = text(at)
    assert "not a trained translation model's attention" in shown
    assert "c₁** = 0.56 · h(我) + 0.17 · h(爱) + 0.14 · h(吃) + 0.13 · h(苹果)" in shown
    assert "apples → 苹果" in shown
    assert at.header[0].value.startswith("Bahdanau"), "in English the Q/K/V terms come first"
    assert open_page(ALIGN, "zh").header[0].value.startswith("“我爱吃苹果”"), "in Chinese the example comes first"


def test_the_alignment_pages_example_of_a_miss_is_true():
    a = align(ALIGN_ES, ALIGN_ZH)
    row = a.weights[a.query_words.index("manzanas")]
    assert row[a.key_words.index("吃")] > row[a.key_words.index("苹果")], "the page says manzanas weighs 吃 above 苹果"


def test_projections_and_the_shuffle():
    at = open_page(PROJ)
    values = {m.label: m.value for m in at.metric}
    assert float(values["without positions: largest difference"]) < 1e-5
    assert float(values["with positions: largest difference"]) > 0.1
    before = [m.value for m in at.markdown if m.value.startswith("**Shuffled:**")]
    at.button(key="ap_shuffle").click()
    rerun(at)
    after = [m.value for m in at.markdown if m.value.startswith("**Shuffled:**")]
    assert before and after and before != after
    assert "component 1" in json.dumps(specs(at)[0], ensure_ascii=False)


def test_spanish_numbers_use_a_decimal_comma():
    at = open_page(WALK, "es")
    assert "√32 ≈ 5,66" in text(at)
    assert all(s["config"]["locale"]["number"]["decimal"] == "," for s in specs(at))


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [WALK, RILEY, PROJ], ids=lambda p: Path(p).stem)
def test_bad_sentences_show_a_message(page):
    at = open_page(page)
    at.text_input(key=BOX[page]).set_value("")
    rerun(at)
    assert any(i.value.startswith("Type a sentence") for i in at.info), "an empty box asks for a sentence"
    if page != PROJ:  # the projections page has a second box, for the shuffle, with its own sentence
        assert not at.get("vega_lite_chart")
    at.text_input(key=BOX[page]).set_value(CHINESE_UNK)
    rerun(at)
    assert any("[UNK]" in w.value for w in at.warning), [w.value for w in at.warning]
    assert any("alignment page" in str(link.proto.label) for link in at.get("page_link")), "Chinese: go there"


@pytest.mark.parametrize("page", [WALK, RILEY, PROJ], ids=lambda p: Path(p).stem)
def test_the_sentence_box_holds_at_most_400_characters(page):
    at = open_page(page)
    at.session_state[BOX[page]] = "word " * 90  # 450 characters
    rerun(at)
    assert len(at.text_input(key=BOX[page]).value) <= 400


def _problem_page() -> None:
    from retrieval_attention.errors import QueryError
    from ui.components.articles import problem

    problem(QueryError("the sentence is 401 characters; the limit is 400"), "x" * 401)


def test_a_too_long_sentence_from_elsewhere_is_a_message():
    at = AppTest.from_function(_problem_page, default_timeout=30).run()
    assert not at.exception
    assert at.warning[0].value == "This sentence has 401 characters; these pages read one sentence of at most 400."
    assert "401 characters" in at.caption[0].value


def test_bad_pairs_show_a_message_on_the_alignment_page():
    at = open_page(ALIGN)
    at.text_input(key="al_keys").set_value("!!! ???")
    rerun(at)
    assert at.warning and any("no words" in c.value for c in at.caption)
    at.text_input(key="al_keys").set_value("")
    rerun(at)
    assert any("both boxes" in i.value for i in at.info)
    at.text_input(key="al_keys").set_value(" ".join(["palabra"] * 41))
    rerun(at)
    assert any("41 words" in c.value for c in at.caption)


def test_a_layer_out_of_range_is_a_message():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(WALK)
    at.session_state["aw_layer"] = 9
    rerun(at)
    assert any("Layer 9 does not exist" in w.value for w in at.warning)
    assert at.slider(key="aw_layer").value == 0


@pytest.mark.parametrize(
    ("page", "pills", "label", "boxes"),
    [
        (RILEY, "ar_sentence_examples", "The article's sentence (Spanish)", {"ar_sentence": RILEY_ES}),
        (ALIGN, "al_examples", "English → Spanish", {"al_queries": ALIGN_EN, "al_keys": ALIGN_ES}),
    ],
    ids=["one box", "two boxes"],
)
def test_one_example_pills_fills_one_box_or_several(page, pills, label, boxes):
    """ui.components.query.example_pills is the app's one home for examples: one text per box."""
    at = open_page(page)
    at.pills(key=pills).set_value(label)
    rerun(at)
    for key, text in boxes.items():
        assert at.text_input(key=key).value == text, key
