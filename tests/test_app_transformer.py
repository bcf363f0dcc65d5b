"""AppTest of the "Inside a transformer" page with the real all-MiniLM-L6-v2 (no browser).

One app session per module: the model loads once (about 5 s) and each rerun is a few forward passes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests import widget_state

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "ui/pages/transformer.py"
RILEY = "Evan's dog Riley is so hyperactive, she never stops moving"
CHINESE = "我爱吃苹果"
JAPANESE = "日本の首都は東京です"
BADGE = re.compile(r"max difference ([0-9.]+e[-+]?\d+)")


@pytest.fixture(scope="module")
def session() -> tuple[AppTest, dict]:
    app = AppTest.from_file(APP, default_timeout=180)
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    assert not _badges(app), "the check against transformers waits for the toggle"
    app.toggle(key="tr_check").set_value(True).run()  # the badge tests below compare with transformers
    assert not app.exception, app.exception
    return app, widget_state.remember(app)


@pytest.fixture
def at(session) -> AppTest:
    """The module's app, with every widget back where the first run left it (any test order works)."""
    app, start = session
    return widget_state.restore(app, start)


def _markdown(app: AppTest) -> str:
    return "\n".join(m.value for m in app.markdown)


def _badges(app: AppTest) -> list[str]:
    """The check's verdict (a green box when our numbers are the model's, a red one otherwise)."""
    return [b.value for b in [*app.success, *app.error] if "max difference" in b.value]


def _badge_diff(app: AppTest) -> float:
    badges = _badges(app)
    assert badges, "no badge rendered"
    found = BADGE.search(badges[0])
    assert found, badges[0]
    return float(found.group(1))


def _set_sentence(app: AppTest, sentence: str) -> None:
    app.text_input(key="tr_sentence").set_value(sentence)
    app.run()
    assert not app.exception, app.exception


def test_default_sentence_renders_with_badge_and_tokens(at: AppTest) -> None:
    assert at.text_input(key="tr_sentence").value == RILEY
    assert _badge_diff(at) < 1e-5
    assert [b.value for b in at.success if "max difference" in b.value], "green: our numpy code reproduces the model"
    text = _markdown(at)
    assert "Tokens the model sees (16)" in text
    assert "riley" in text and "she" in text
    # the asymmetry lesson is on by default: layer 0, head 0, she -> riley
    assert "“she” → “riley”" in text
    assert [s.value for s in at.subheader][:1] == ["Self-attention · layer 0, head 0"]
    assert not at.warning  # an English sentence has no [UNK]


def test_chinese_sentence_shows_tokens_and_unk_warning(at: AppTest) -> None:
    _set_sentence(at, CHINESE)
    text = _markdown(at)
    assert "Tokens the model sees (7)" in text
    assert "我" in text and r"\[UNK\]" in text
    assert any("[UNK]" in w.value for w in at.warning)
    assert _badge_diff(at) < 1e-5


def test_japanese_sentence_has_known_characters(at: AppTest) -> None:
    _set_sentence(at, JAPANESE)
    text = _markdown(at)
    assert "東" in text and "京" in text
    assert not at.warning
    assert _badge_diff(at) < 1e-5


@pytest.mark.parametrize("toggle", ["tr_causal", "tr_cross", "tr_grid", "tr_concat"])
def test_each_view_renders(at: AppTest, toggle: str) -> None:
    _set_sentence(at, RILEY)
    at.toggle(key=toggle).set_value(True).run()
    assert not at.exception, at.exception
    headers = " ".join(h.value for h in at.header) + " ".join(s.value for s in at.subheader)
    expected = {
        "tr_causal": "Causal attention",
        "tr_cross": "Cross-attention",
        "tr_grid": "all 12 heads",
        "tr_concat": "Concatenate the heads",
    }[toggle]
    assert expected in headers
    at.toggle(key=toggle).set_value(False).run()
    assert not at.exception, at.exception


def test_all_views_together_at_another_layer_and_head(at: AppTest) -> None:
    _set_sentence(at, RILEY)
    for key in ("tr_causal", "tr_cross", "tr_grid", "tr_concat", "tr_relevance_on"):
        at.toggle(key=key).set_value(True)
    at.slider(key="tr_layer").set_value(5)
    at.slider(key="tr_head").set_value(11)
    at.run()
    assert not at.exception, at.exception
    assert "Causal attention · layer 5, head 11" in [s.value for s in at.subheader]
    assert "Why q·k must be asymmetric" in " ".join(h.value for h in at.header)
    # the K·Kᵀ view can be switched off
    at.toggle(key="tr_relevance_on").set_value(False).run()
    assert not at.exception, at.exception
    assert "Why q·k must be asymmetric" not in " ".join(h.value for h in at.header)


def test_example_pill_and_empty_sentence(at: AppTest) -> None:
    at.button_group(key="tr_example").set_value("日本語: 日本の首都は東京です").run()
    assert not at.exception, at.exception
    assert at.text_input(key="tr_sentence").value == JAPANESE
    _set_sentence(at, "   ")
    assert any("Type a sentence" in i.value for i in at.info)


def test_long_sentence_is_capped_with_a_message(at: AppTest) -> None:
    long = " ".join(["the hyperactive dog never stops moving"] * 10)  # 60 words
    _set_sentence(at, long)
    assert any("the heatmaps show the first 48" in i.value for i in at.info)
    assert _badge_diff(at) < 1e-5


NO_TORCH = """
import sys
from streamlit.testing.v1 import AppTest
app = AppTest.from_file(sys.argv[1], default_timeout=180)
app.run()
app.switch_page("ui/pages/transformer.py").run()
assert not app.exception, app.exception
for key in ("tr_causal", "tr_cross", "tr_grid", "tr_concat"):
    app.toggle(key=key).set_value(True)
app.run()
assert not app.exception, app.exception
assert any("numpy forward pass" in c.value for c in app.caption), [c.value for c in app.caption]
print(sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules))
"""


@pytest.mark.slow
def test_the_page_runs_without_torch_until_the_check_is_asked_for() -> None:
    """In a fresh process, every view of the page leaves torch and transformers unimported."""
    run = subprocess.run([sys.executable, "-c", NO_TORCH, APP], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == "[]", run.stdout
