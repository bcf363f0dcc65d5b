"""Chart templates (issue 22, "Charts"): a specification built once per kind, options and language, filled with a
new query's rows, is exactly the specification a fresh Altair build of that query makes.

Three layers. The rows: the template writes a frame's records as Altair's own converter does, for
every dtype, and a dataset made without pandas (``Columns``) the records of its frame. The main
page's four chart kinds on the real default model: for several queries, the template built from the
first query and filled with another's rows equals a fresh build of that other query (the public
``*_chart`` builder through ``inline_spec``), dataset names aside, in en, zh and es and in
presentation mode's size. The page's whole document: built for query B after query
A (templates warm) equals the document built for B alone (every cache empty).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from altair.utils.data import to_values
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval_attention.charts import continuum as cc
from retrieval_attention.charts import retrieval as cr
from retrieval_attention.charts.template import TEMPLATES, ChartParts, Columns, _rows, columns_of, dataset_name
from retrieval_attention.charts.theme import projector_spec
from retrieval_attention.core.attention import temperature_sweep
from retrieval_attention.export.blocks import walk
from retrieval_attention.export.specs import filled_spec, inline_spec, signs
from retrieval_attention.i18n import translated

QUERIES = ("funny cat videos", "how to cook pasta", "football highlights", "learn the guitar")
LANGS = ("en", "zh", "es")


def normalised(spec: dict) -> dict:
    """``spec`` with each dataset named by a hash of its rows: two specs with the same rows compare equal."""
    datasets = spec.get("datasets") or {}
    names = {
        name: "rows-" + hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:16]
        for name, rows in datasets.items()
    }

    def walk(node):
        if isinstance(node, list):
            return [walk(x) for x in node]
        if not isinstance(node, dict):
            return node
        return {
            k: {**v, "name": names[v["name"]]} if k == "data" and isinstance(v, dict) and v.get("name") in names
            else walk(v)
            for k, v in node.items()
        }  # fmt: skip

    out = walk({k: v for k, v in spec.items() if k != "datasets"})
    out["datasets"] = {names[n]: rows for n, rows in datasets.items()}
    return out


def test_rows_are_the_records_altair_writes_for_every_dtype() -> None:
    frame = pd.DataFrame(
        {
            "int": np.arange(5, dtype=np.int64),
            "small": np.arange(5, dtype=np.int8),
            "float": [0.5, np.nan, np.inf, -np.inf, 1e-300],
            "f32": np.array([0.1, 0.2, 0.3, 0.4, 0.5], dtype=np.float32),
            "bool": [True, False, True, False, True],
            "text": ["a", None, "猫", "ñ", np.nan],
            "objects": [np.array([1, 2]), np.float64(0.25), np.int64(3), "x", None],
            "category": pd.Categorical(["a", "b", None, "a", "b"]),
            "string": pd.array(["a", None, "b", "c", None], dtype="string"),
            "str": pd.Series(["a", "b", None, "猫", "d"], dtype="str"),
            "nullable": pd.array([1, None, 3, 4, 5], dtype="Int64"),
        }
    )
    for columns in (list(frame.columns), ["int", "float", "text"], ["category", "int"], ["str", "string", "float"]):
        part = frame[columns]
        assert _rows(part) == to_values(part)["values"], columns
        assert _rows(part.iloc[:0]) == to_values(part.iloc[:0])["values"]
    assert _rows(frame.iloc[[4, 0, 2]]) == to_values(frame.iloc[[4, 0, 2]])["values"]  # any index


texts = st.one_of(st.none(), st.text(max_size=6))
numbers = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 12).flatmap(
        lambda n: st.tuples(
            st.lists(numbers, min_size=n, max_size=n),
            st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n),
            st.lists(st.booleans(), min_size=n, max_size=n),
            st.lists(texts, min_size=n, max_size=n),
            st.floats(-1e9, 1e9),
        )
    )
)
def test_columns_write_the_rows_altair_writes_for_their_frame(data) -> None:
    """A dataset made without pandas (:class:`Columns`) writes exactly the records Altair writes for its frame."""
    floats, ints, bools, words, scalar = data
    with np.errstate(over="ignore"):  # a float64 beyond float32's range is inf there
        f32 = np.array(floats, dtype=np.float64).astype(np.float32)
    columns = {
        "float": np.array(floats, dtype=np.float64),
        "f32": f32,
        "int": np.array(ints, dtype=np.int64),
        "bool": np.array(bools, dtype=bool),
        "text": words,
        "scalar": scalar,
    }
    made = columns_of(columns)
    if words and all(w is None for w in words):  # only missing texts: pandas types those otherwise
        assert isinstance(made, pd.DataFrame)
        return
    assert isinstance(made, Columns) and len(made) == len(floats)
    assert _rows(made) == to_values(made.frame())["values"]
    assert made.kinds == tuple(map(str, made.frame().dtypes))  # the template key reads what the frame would be


def test_columns_fall_back_to_a_frame_for_what_they_do_not_type() -> None:
    dates = {"when": np.array(["2026-12-07"], dtype="datetime64[D]")}
    mixed = {"x": ["a", 1]}
    for data in (dates, mixed):
        assert isinstance(columns_of(data), pd.DataFrame), data
    with pytest.raises(ValueError, match="same length"):  # pandas' own error, as before
        columns_of({"a": np.arange(2), "b": ["x"]})
    frame = pd.DataFrame({"w": [0.5, 0.25], "t": pd.Series(["a", None], dtype="str"), "o": [object(), None]})
    assert columns_of(frame) is frame  # an object column: the frame as it is, for Altair's own conversion
    typed = columns_of(frame[["w", "t"]])
    assert isinstance(typed, Columns) and _rows(typed) == to_values(frame[["w", "t"]])["values"]


def test_rows_keep_their_columns_and_the_app_draws_the_same_arrow_table_from_either() -> None:
    """The app builds Arrow from a template's columns; from plain rows it must build the very same table."""
    from ui.components.document import arrow_rows

    frame = pd.DataFrame(
        {
            "rank": np.arange(1, 5),
            "weight": np.array([0.5, 0.25, 0.125, 0.125], dtype=np.float32),
            "title": ["猫", None, "ñ", "=1+1"],
            "kept": [True, True, False, False],
        }
    )
    rows = _rows(frame)
    assert rows.columns == {name: [row[name] for row in rows] for name in frame.columns}
    assert arrow_rows(rows).equals(arrow_rows(list(rows)))  # columns kept, and the rows taken apart
    assert arrow_rows(rows).to_pylist() == list(rows)
    mixed = [{"x": 1}, {"x": "a"}]  # a column Arrow cannot type: left to Streamlit
    assert arrow_rows(mixed) is mixed


def test_the_cached_arrow_bytes_are_the_bytes_streamlit_would_send() -> None:
    """A chart's dataset is handed to st.vega_lite_chart as IPC bytes, which it sends as they are."""
    from streamlit import dataframe_util

    from ui.components.document import arrow_bytes, arrow_rows

    rows = _rows(pd.DataFrame({"rank": np.arange(1, 4), "w": [0.5, np.nan, 0.25], "t": ["猫", None, "=1+1"]}))
    table = arrow_rows(rows)
    assert arrow_bytes(table) == dataframe_util.convert_arrow_table_to_arrow_bytes(table)


def _results(store, query: str):
    return store.retrieve(query, k=5)


def _weights(store, soft, k: int, log: bool, lang: str):
    from retrieval_attention.views.retrieval import weights_columns

    frame = pd.DataFrame(weights_columns(store, soft, lang))
    title = "Weight of every key, sorted"
    text = translated(cr.WEIGHTS_LABELS, lang)
    return cr.weights_view, cr.weights_parts(frame, k, log, title, text), cr.weights_bar(frame, k, log, title, text)


def _continuum(store, soft, lang: str):
    labels = [store.corpus[p].title for p in soft.positions]
    W = temperature_sweep(soft.scores * soft.scale, cc.CONTINUUM_TEMPERATURES)
    text = translated(cc.CONTINUUM_LABELS, lang)
    args = (cc.CONTINUUM_TEMPERATURES, W, labels, float(soft.temperature))
    return cc.continuum_view, cc.continuum_parts(*args, text=text), cc.continuum_chart(*args, text=text)


def _scaling(store, soft, lang: str):
    curves = []
    for name, t in (("÷√d", 1.0), ("cosine", float(soft.temperature))):
        w = np.sort(np.exp(soft.all_scores / t - np.max(soft.all_scores / t)))[::-1]
        w = w / w.sum()
        curves.append(pd.DataFrame({"rank": np.arange(1, len(w) + 1), "weight": np.maximum(w, 1e-12), "setting": name}))
    frame = pd.concat(curves)
    text = translated(cr.SCALING_LABELS, lang)
    return cr.scaling_view, cr.scaling_parts(frame, text), cr.scaling_chart(frame, text)


@pytest.mark.parametrize("lang", LANGS)
def test_each_main_page_chart_filled_with_a_new_query_equals_its_fresh_build(store, lang) -> None:
    TEMPLATES.clear()
    sign = signs(lang)
    kinds = {
        "weights (log)": lambda soft: _weights(store, soft, 5, True, lang),
        "weights (linear)": lambda soft: _weights(store, soft, 3, False, lang),
        "continuum": lambda soft: _continuum(store, soft, lang),
        "scaling": lambda soft: _scaling(store, soft, lang),
    }
    for name, make in kinds.items():
        specs = []
        for query in QUERIES:
            soft = _results(store, query)["soft"]
            view, parts, chart = make(soft)
            hits = TEMPLATES.hits
            filled = filled_spec(view, parts, **sign)
            if query != QUERIES[0]:
                assert TEMPLATES.hits == hits + 1, f"{name}: {query!r} is drawn from the first query's template"
            built = inline_spec(chart, **sign, validate=False)
            assert normalised(filled) == normalised(built), f"{name}, {lang}: {query!r}"
            assert set(filled["datasets"]) == {dataset_name(n) for n in parts.data}
            assert normalised(projector_spec(filled, "present")) == normalised(projector_spec(built, "present"))
            locale = filled["config"].get("locale", {"number": {"decimal": "."}})  # Vega's default: no entry
            assert locale["number"]["decimal"] == sign["decimal"]
            assert filled["config"]["axis"]["labelFontSize"] == 15  # the projector theme
            specs.append(filled)
        assert specs[0]["datasets"] != specs[1]["datasets"], f"{name}: a new query brings new rows"


def test_the_output_mix_template_serves_every_query_and_retrieval_per_language(store) -> None:
    from retrieval_attention.i18n import category_name, load_translations

    TEMPLATES.clear()
    kinds, drawn, misses, hits = set(), 0, TEMPLATES.misses, TEMPLATES.hits
    for lang in LANGS:
        _ = load_translations(lang).gettext
        title, x_title = _("Output: category mix"), _("share of the output")
        for query in QUERIES:
            for kind, res in _results(store, query).items():
                shares = store.describe_output(res.output).category_mix
                mix = {category_name(c, lang): float(v) for c, v in shares.items()}
                parts = cr.category_mix_parts(mix, title, x_title)
                filled = filled_spec(cr.category_mix_view, parts, **signs(lang))
                built = inline_spec(cr.category_mix_chart(mix, title, x_title), **signs(lang), validate=False)
                assert normalised(filled) == normalised(built), f"{lang}, {query!r}, {kind}"
                lines = filled["title"] if isinstance(filled["title"], list) else [filled["title"]]
                assert "".join(lines) == "".join(title.split()) or " ".join(lines) == title  # in lines that fit a column
                assert filled["height"] == cr.MIX_STEP * max(len(parts.data["mix"]), 1)  # a pixel height per bar
                # a hard miss has no categories, drawn from the one-bar template (the same columns and types);
                # the height (bars × step) is an option
                kinds.add((title, x_title, signs(lang)["decimal"], parts.options["height"]))
                drawn += 1
    assert len(TEMPLATES) == TEMPLATES.misses - misses == len(kinds), "one template per options"
    assert TEMPLATES.hits - hits == drawn - len(kinds), "every other output filled a template"


def _svg(spec: dict) -> str:
    import re

    import vl_convert as vlc

    return re.sub(r"clip\d+", "clip", vlc.vegalite_to_svg({**spec, "width": 500}))  # clip ids count per process


def test_the_weights_log_axis_takes_its_floor_from_the_rows_and_draws_as_with_the_floor_written_in() -> None:
    TEMPLATES.clear()
    frame = pd.DataFrame({"rank": [1, 2, 3], "weight": [0.9, 0.1, 1e-7], "score": [0.5, 0.2, 0.1],
                          "title": ["a", "b", "c"], "category": ["x", "y", "x"]})  # fmt: skip
    for f, floor in (
        (frame, 1e-7),
        (frame.assign(weight=[0.9, 0.0999, 1e-4]), 1e-4),
        (frame.assign(weight=0.0), 1e-12),
    ):
        parts = cr.weights_parts(f, 2)
        filled = filled_spec(cr.weights_view, parts, ",", ".")
        assert normalised(filled) == normalised(inline_spec(cr.weights_bar(f, 2), ",", ".", validate=False))
        assert [row["base"] for row in filled["datasets"]["data-weights"]] == pytest.approx([floor] * 3)
        written = {**filled, "encoding": {**filled["encoding"], "y": {**filled["encoding"]["y"]}}}
        written["encoding"]["y"]["scale"] = {"type": "log", "domain": [floor, 1.0]}  # the floor as a number
        assert _svg(filled) == _svg(written), f"floor {floor}: the axis runs from the floor to 1"
    assert len(TEMPLATES) == 1, "one template for every floor"


def test_a_view_whose_datasets_cannot_be_told_apart_is_built_fresh_every_time() -> None:
    import altair as alt

    def twins(data):
        a = alt.Chart(data["a"]).mark_point().encode(x="x:Q")
        return alt.layer(a, alt.Chart(data["b"]).mark_line().encode(x="x:Q"))

    TEMPLATES.clear()
    same = pd.DataFrame({"x": [1.0, 2.0]})
    first = filled_spec(twins, ChartParts({"a": same, "b": same.copy()}))
    assert list(first["datasets"].values()) == [[{"x": 1.0}, {"x": 2.0}]]  # Altair's one dataset, as built
    other = ChartParts({"a": same, "b": pd.DataFrame({"x": [5.0]})})
    assert normalised(filled_spec(twins, other)) == normalised(inline_spec(twins(other.data), validate=False))


def test_the_main_page_document_for_a_new_query_equals_the_same_document_built_cold(store) -> None:
    from retrieval_attention.views import retrieval as vr

    for lang in LANGS:
        vr.retrieval_document(store, vr.RetrievalSettings(query=QUERIES[0], lang=lang))  # templates warm
        warm = vr.retrieval_document(store, vr.RetrievalSettings(query=QUERIES[1], k=3, lang=lang))
        TEMPLATES.clear()
        vr.chart_cache().clear()
        cold = vr.retrieval_document(store, vr.RetrievalSettings(query=QUERIES[1], k=3, lang=lang))
        warm_charts = [b for s in warm.sections for b in walk(s.content()) if b.kind == "chart"]
        cold_charts = [b for s in cold.sections for b in walk(s.content()) if b.kind == "chart"]
        assert len(warm_charts) == len(cold_charts) >= 5
        for w, c in zip(warm_charts, cold_charts):
            assert w.title == c.title
            assert normalised(w.spec) == normalised(c.spec), f"{lang}: {w.title}"


@pytest.mark.parametrize("lang", LANGS)
def test_the_recommender_bars_for_a_new_temperature_are_the_template_filled_and_equal_a_fresh_build(
    store, lang
) -> None:
    from retrieval_attention.charts import recommender as rc
    from retrieval_attention.views.recommender import results as vrec

    history = ("v270", "v010", "v028", "v101", "v150")
    text = translated(rc.REC_TEXT, lang)
    for targets, half_life, normalize in (
        (("v252", "v030"), None, True),
        (("v252",), 3.0, True),
        (("v030",), None, False),
    ):
        hits = None
        for temperature in (0.05, 0.1, 0.3):
            s = vrec.RecommenderSettings(history, targets, temperature, normalize, half_life, lang=lang)
            frames = list(vrec._frames(store, vrec._attention(store, s), lang).values())
            args = (frames, list(dict.fromkeys(frames[0]["category"])), rc.weight_domain(frames, normalize))
            kw = {"recency": half_life is not None, "normalize": normalize, "half_life": half_life, "text": text}
            before = TEMPLATES.hits
            filled = filled_spec(rc.history_weights_view, rc.history_weights_parts(*args, **kw), **signs(lang))
            built = inline_spec(rc.history_weights_chart(*args, **kw), **signs(lang), validate=False)
            assert normalised(filled) == normalised(built), f"{targets}, T = {temperature}, {lang}"
            assert normalised(projector_spec(filled, "present")) == normalised(projector_spec(built, "present"))
            if normalize and hits is not None:  # softmax: the x range stays (0, 1), a new T is a fill
                assert TEMPLATES.hits == before + 1, f"{targets}: T = {temperature} fills the template"
            hits = TEMPLATES.hits
