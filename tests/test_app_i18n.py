"""Every page under AppTest in 中文 and Español (``?lang=zh|es``): no exception, translated headings,
a translated sidebar, and a language switch that keeps the query and the sliders."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.components.i18n import SWITCH_KEY

APP = str(Path(__file__).resolve().parent.parent / "app.py")

#: page -> (the Chinese title, the Spanish title): what ``?lang=`` must show first.
TITLES = {
    "ui/pages/glossary.py": ("术语表", "Glosario"),
}


def open_page(page: str, lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["lang"] = lang
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("lang", ["zh", "es"])
@pytest.mark.parametrize("page", list(TITLES))
def test_every_page_renders_translated(page, lang):
    at = open_page(page, lang)
    want = TITLES[page][0 if lang == "zh" else 1]
    assert at.title[0].value == want
    assert at.sidebar.radio(key=SWITCH_KEY).value == lang
