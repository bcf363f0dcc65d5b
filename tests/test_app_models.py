"""The sidebar's model box under AppTest (real app, real default model): issue 24, families 1, 3 and 9.

A name that is no model is one line under the box and every page goes on with the radio's encoder;
spellings of one model share one copy of the session's upload, and a session keeps at most a few;
a deployment's ``$RETRIEVAL_ATTENTION_MODELS`` turns the box into a drop-down (no paths typed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import retrieval_attention as ra
from retrieval_attention.config import CORPUS_ENV_VAR, MODELS_ENV_VAR
from ui.components.store import MAX_SESSION_STORES

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
GOOD = b"id,title\nl1,Linear algebra review\nl2,Backpropagation by hand\nl3,Attention and transformers\n"
#: Every page of the app (the articles included): a bad model name must break none of them.
PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ui" / "pages").glob("*.py") if p.name != "__init__.py")


def plain(markdown: str) -> str:
    return markdown.replace("\\", "")


def keys_caption(at: AppTest) -> str:
    return next(plain(c.value) for c in at.caption if " keys from " in c.value)


@pytest.fixture
def at(monkeypatch) -> AppTest:
    monkeypatch.delenv(MODELS_ENV_VAR, raising=False)
    app = AppTest.from_file(APP, default_timeout=180).run()
    assert not app.exception, app.exception
    return app


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("~no-such-user-xyz/model", "cannot be checked"),
        ("a" * 300, "File name too long"),
        ("/tmp/" + "a" * 300 + "/model", "File name too long"),
        ("all-MiniLM-L6-v3", "not in the local Hugging Face cache"),
    ],
    ids=["other-user", "long-name", "long-component", "typo"],
)
def test_a_bad_name_is_one_line_and_every_page_still_works(at, model, reason):
    at.text_input(key="custom_model").set_value(model).run()
    assert not at.exception, at.exception
    [error] = [plain(e.value) for e in at.sidebar.error]
    assert reason in error and "The pages use all-MiniLM-L6-v2 instead" in error and "\n" not in error
    assert "312 keys from bundled videos" in keys_caption(at), "the page goes on with the radio's encoder"
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert not at.main.error, (page, [e.value for e in at.main.error])


def test_a_bad_name_is_said_in_chinese_and_spanish(monkeypatch):
    monkeypatch.delenv(MODELS_ENV_VAR, raising=False)
    for lang, words in (("zh", "无法使用这个模型"), ("es", "Este modelo no se puede usar")):
        app = AppTest.from_file(APP, default_timeout=180)
        app.query_params["lang"] = lang
        app.run()
        app.text_input(key="custom_model").set_value("~no-such-user-xyz/model").run()
        assert not app.exception
        assert words in plain(app.sidebar.error[0].value)


SERVER_AFTER_TYPO = """
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=180).run()
at.text_input(key="custom_model").set_value("all-MiniLM-L6-v3").run()
assert not at.exception and at.sidebar.error, at.exception
print(sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules))
"""


def test_a_typo_in_the_box_imports_no_torch_into_the_server(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HOME": str(tmp_path)}
    env.pop(MODELS_ENV_VAR, None)
    proc = subprocess.run(
        [sys.executable, "-c", SERVER_AFTER_TYPO, APP], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-1] == "[]", "+300 MB for good in a shared server, before this fix"


def folder_copies(tmp_path: Path, n: int) -> list[str]:
    """``n`` folders each holding links to the default model's files: distinct models to the app."""
    source = Path(ra.resolve_model_path())
    out = []
    for i in range(n):
        folder = tmp_path / f"minilm-{i}"
        folder.mkdir()
        for item in source.iterdir():
            (folder / item.name).symlink_to(item)
        out.append(str(folder))
    return out


def test_spellings_share_one_upload_copy_and_a_session_keeps_a_few(at, tmp_path, monkeypatch):
    # each folder below is a new model to the app, which loads the server's corpus with it too: a tiny
    # server corpus keeps that to three titles (the bundled 312 cost ~15 s a folder; the point is the upload)
    shared = tmp_path / "shared.csv"
    shared.write_text("title\nFunny cats\nBread at home\nStock news\n", encoding="utf-8")
    monkeypatch.setenv(CORPUS_ENV_VAR, str(shared))
    at.file_uploader(key="own_file").set_value(("lectures.csv", GOOD, "text/plain")).run()
    assert not at.exception and "3 keys from lectures.csv" in keys_caption(at)
    default_folder = ra.resolve_model_path()
    for spelling in (
        "all-minilm-l6-v2",
        " sentence-transformers/all-MiniLM-L6-v2 ",
        default_folder,
        default_folder + "/",
    ):
        at.text_input(key="custom_model").set_value(spelling).run()
        assert not at.exception and not at.sidebar.error, at.exception
        assert "3 keys from lectures.csv" in keys_caption(at)
    assert list(at.session_state["own_stores"]) == ["all-MiniLM-L6-v2"], "one copy for one model"
    for folder in folder_copies(tmp_path, MAX_SESSION_STORES + 2):
        at.text_input(key="custom_model").set_value(folder).run()
        assert not at.exception and "3 keys from lectures.csv" in keys_caption(at)
        assert len(at.session_state["own_stores"]) <= MAX_SESSION_STORES
    assert list(at.session_state["own_stores"])[-1] == folder, "the one in use is kept"


def test_a_deployment_list_turns_the_box_into_a_drop_down(monkeypatch, tmp_path):
    [extra] = folder_copies(tmp_path, 1)
    monkeypatch.setenv(MODELS_ENV_VAR, f"all-MiniLM-L6-v2,multilingual-e5-small,{extra}")
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception
    assert not [t for t in at.sidebar.text_input if t.key == "custom_model"], "no box to type paths into"
    box = at.sidebar.selectbox(key="offered_model")
    assert box.options == ["none: the encoder above", extra]
    box.set_value(extra).run()
    assert not at.exception and not at.error
    assert f"encoder {extra}" in keys_caption(at) and "312 keys from bundled videos" in keys_caption(at)

    monkeypatch.setenv(MODELS_ENV_VAR, "all-MiniLM-L6-v2,multilingual-e5-small")  # the replica script's list
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception and not at.sidebar.selectbox and "custom_model" not in [t.key for t in at.text_input]
