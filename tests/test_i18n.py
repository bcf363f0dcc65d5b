"""English, 中文 and Español: the catalogues cover every marked string, the session's language follows
``?lang=`` / the session / the browser, numbers are formatted per locale, and the CLI speaks ``--lang``."""

from __future__ import annotations

import csv
import logging
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from streamlit.testing.v1 import AppTest

from retrieval_attention import i18n
from retrieval_attention.views.glossary import GLOSSARY
from ui.components.i18n import SWITCH_KEY, resolve_lang
from ui.locales import CATALOGUES, TARGET_LANGS, Catalogue, extract, placeholders, problems

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"


def read(path: Path, lang: str) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=lang)


# --- the catalogues ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def templates() -> dict[str, Catalog]:
    """What the code marks today, extracted with Babel as `make i18n` does."""
    return {cat.domain: extract(cat) for cat in CATALOGUES}


@pytest.mark.parametrize("lang", TARGET_LANGS)
@pytest.mark.parametrize("cat", CATALOGUES, ids=lambda c: c.domain)
def test_every_extracted_string_is_translated_with_the_same_placeholders(cat, lang, templates):
    template = templates[cat.domain]
    assert len(template) > 0, f"nothing extracted from {cat.sources}"
    found = problems(template, read(cat.po(lang), lang))
    assert found == [], "run `make i18n` and translate:\n" + "\n".join(found)


@pytest.mark.parametrize("cat", CATALOGUES, ids=lambda c: c.domain)
def test_the_committed_template_is_the_extraction(cat, templates):
    committed = {m.id for m in read(cat.template, "en") if m.id}
    extracted = {m.id for m in templates[cat.domain] if m.id}
    assert committed == extracted, "the .pot is stale: run `make i18n`"


def test_no_compiled_catalogue_in_the_repository():
    tracked = subprocess.run(["git", "ls-files", "*.mo"], cwd=ROOT, capture_output=True, text=True).stdout
    assert tracked == "", "the .po files are read directly; a .mo is a generated file"


@pytest.fixture
def synthetic_repo(tmp_path) -> tuple[Path, Catalogue]:
    """A page with one string the real catalogue knows and one it has never seen."""
    (tmp_path / "ui").mkdir()
    (tmp_path / "ui" / "page.py").write_text(
        "from ui.components.i18n import _, ngettext\n"
        "_('Language')\n"
        "# TRANSLATORS: a brand new heading\n"
        "_('A sentence nobody translated yet')\n"
        "ngettext('{n} key', '{n} keys', 3)\n"
    )
    return tmp_path, Catalogue("messages", ("ui",), tmp_path / "locales")


def test_a_new_english_string_without_translation_fails(synthetic_repo):
    root, cat = synthetic_repo
    template = extract(cat, root=root)
    new = template.get("A sentence nobody translated yet")
    assert new is not None and new.auto_comments == ["a brand new heading"], "the translators' comment reaches them"
    for lang in TARGET_LANGS:
        real = read(CATALOGUES[0].po(lang), lang)
        found = problems(template, real)
        assert f"{lang}: not in the catalogue: 'A sentence nobody translated yet'" in found
        assert f"{lang}: not in the catalogue: '{{n}} key'" in found
        assert not any("'Language'" in p for p in found), "a translated string is no problem"
        real.update(template)  # what `pybabel update` does: the new strings arrive empty
        after = problems(template, real)
        assert f"{lang}: not translated: 'A sentence nobody translated yet'" in after


def synthetic(lang: str, entries: list[tuple[object, object, bool]]) -> tuple[Catalog, Catalog]:
    template, translated = Catalog(), Catalog(locale=lang)
    for msgid, msgstr, fuzzy in entries:
        template.add(msgid)
        translated.add(msgid, msgstr, flags=["fuzzy"] if fuzzy else [])
    return template, translated


@pytest.mark.parametrize(
    ("msgid", "msgstr", "fuzzy", "complaint"),
    [
        ("top-{k} keeps {share}", "top-{k} 保留", False, "placeholders"),
        ("top-{k} keeps {share}", "{share} que conserva el top-{k}", False, None),  # order may change
        ("%(n)s keys", "%(num)s claves", False, "placeholders"),
        ("%s keys", "%d claves", False, "placeholders"),
        ("{{literal}} and {x}", "{x} y {{literal}}", False, None),
        ("Softmax", "", False, "not translated"),
        ("Softmax", "softmax", True, "fuzzy"),
        (("{n} key", "{n} keys"), ("{n} clave", "{n} de claves", ""), False, "not translated"),
        (("{n} key", "{n} keys"), ("{n} clave", "{n} claves"), False, "2 of 3 plural forms"),
        (("{n} key", "{n} keys"), ("una clave", "{n} de claves", "{n} claves"), False, "placeholders"),
        (("{n} key", "{n} keys"), ("{n} clave", "{n} de claves", "{n} claves"), False, None),
    ],
)
def test_problems_on_a_synthetic_catalogue(msgid, msgstr, fuzzy, complaint):
    template, translated = synthetic("es", [(msgid, msgstr, fuzzy)])
    found = problems(template, translated)
    if complaint is None:
        assert found == []
    else:
        assert len(found) == 1 and complaint in found[0], found


def test_placeholders_are_format_fields_and_printf_conversions():
    assert placeholders("{n} keys, {share:.0%}, %(name)s, %s, %.2f, 100%%") == {
        "{n}": 1, "{share:.0%}": 1, "%(name)s": 1, "%s": 1, "%.2f": 1, "%%": 1,
    }  # fmt: skip
    assert placeholders("50 % of the weight, {{braces}}") == {}, "a bare percent sign is text"


# --- loading ----------------------------------------------------------------------------------------


def test_po_files_load_without_a_build_step():
    zh = i18n.load_translations("zh")
    assert zh.gettext("HARD LOOKUP (dict)") == "精确查找（字典）"
    assert i18n.load_translations("es").gettext("pets") == "mascotas"
    assert i18n.load_translations("zh") is zh, "read once per process"
    assert i18n.load_translations("en").gettext("pets") == "pets"
    assert i18n.load_translations("zh").gettext("a string nobody marked") == "a string nobody marked"


def test_plural_forms_come_from_the_catalogue(tmp_path):
    # Spanish has three forms in CLDR: one (1), many (a whole number of millions: "1000000 de claves"), other
    for lang, forms in (("zh", ("{n} 个键",) * 3), ("es", ("{n} clave", "{n} de claves", "{n} claves"))):
        cat = Catalog(locale=lang, domain="plurals")
        cat.add(("{n} key", "{n} keys"), forms[: cat.num_plurals])
        po = tmp_path / lang / "LC_MESSAGES" / "plurals.po"
        po.parent.mkdir(parents=True)
        with po.open("wb") as f:
            write_po(f, cat)
        t = i18n.load_translations(lang, tmp_path, "plurals")
        assert [t.ngettext("{n} key", "{n} keys", n) for n in (1, 1_000_000, 2)] == list(forms)


def test_a_missing_catalogue_is_english_and_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="retrieval_attention.i18n"):
        t = i18n.load_translations("es", tmp_path, "nowhere")
    assert t.gettext("pets") == "pets"
    assert "no nowhere catalogue for 'es'" in caplog.text


@pytest.mark.parametrize(
    ("value", "lang"),
    [("zh", "zh"), ("ZH", "zh"), ("zh-CN", "zh"), ("zh_Hant_TW", "zh"), ("es-419", "es"), ("en_US.UTF-8", "en"),
     ("fr", "en"), ("", "en"), ("   ", "en"), (None, "en"), (["zh"], "en"), ("<script>", "en")],
)  # fmt: skip
def test_normalize_lang(value, lang):
    assert i18n.normalize_lang(value) == lang


# --- formatting -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "en", "zh", "es"),
    [
        (lambda lang: i18n.fmt_number(1234567, lang), "1,234,567", "1,234,567", "1.234.567"),
        (lambda lang: i18n.fmt_number(0.6574, lang, 3), "0.657", "0.657", "0,657"),
        (lambda lang: i18n.fmt_number(-0.0004, lang, 2), "0.00", "0.00", "0,00"),
        (lambda lang: i18n.fmt_percent(0.392, lang, 1), "39.2%", "39.2%", "39,2\xa0%"),
        (lambda lang: i18n.fmt_percent(0.999, lang), "100%", "100%", "100\xa0%"),
        (lambda lang: i18n.fmt_percent(-0.001, lang), "0%", "0%", "0\xa0%"),
        (lambda lang: i18n.fmt_compact(4832566, lang), "4.8M", "483.3万", "4,8\xa0M"),
        # below the first compact unit Babel wrote the number as it came (1.0000058302392834)
        (lambda lang: i18n.fmt_compact(1.0000058302392834, lang), "1", "1", "1"),
        (lambda lang: i18n.fmt_compact(999.456, lang), "999.5", "999.5", "999,5"),
        # a setting keeps every digit the user picked, in the locale's signs (an export said "T 0.05" in Spanish)
        (lambda lang: i18n.fmt_setting(0.0316, lang), "0.0316", "0.0316", "0,0316"),
        (lambda lang: i18n.fmt_setting(20.0, lang), "20", "20", "20"),
        (lambda lang: i18n.fmt_list(["a", "b", "c"], lang), "a, b, and c", "a、b和c", "a, b y c"),
    ],
)
def test_numbers_and_lists_follow_the_locale(call, en, zh, es):
    assert [call("en"), call("zh"), call("es")] == [en, zh, es]


def test_fixed_decimals_are_written_exactly_as_babel_writes_them():
    """fmt_number's own writer (the page formats ~100 numbers a run) against Babel on the same float.

    Ties round half to even on the float's shortest repr, as Babel does (2.675 -> 2.68, 0.125 -> 0.12);
    float32 values, big numbers and every digit count the pages use; never a "-0.00".
    """
    import copy
    import random

    import numpy as np
    from babel.numbers import format_decimal

    def babel(value: float, lang: str, decimals: int) -> str:
        loc = i18n._locale(lang)
        pattern = copy.copy(loc.decimal_formats[None])
        pattern.frac_prec = (decimals, decimals)
        return format_decimal(0.0 if round(value, decimals) == 0 else value, format=pattern, locale=loc)

    rng = random.Random(7)
    values = [0.0, -0.0, 2.675, 0.125, 1.005, -1.005, 999.9995, 999999.5, 1234.0, -1234567.891, 1e-7, 2.5, -0.005]
    values += [rng.uniform(-1e6, 1e6) for _ in range(300)] + [rng.uniform(-2, 2) for _ in range(300)]
    values += [round(rng.uniform(-100, 100), rng.randint(0, 5)) for _ in range(300)]
    values += [float(np.float32(v)) for v in values[:300]] + [99999999999999.9, 123456789012345.0]
    for lang in ("en", "zh", "es"):
        assert i18n._plain_signs(lang) is not None, f"{lang} takes the fast writer"
        for value in values:
            for decimals in (0, 1, 2, 3, 4, 6):
                assert i18n.fmt_number(value, lang, decimals) == babel(value, lang, decimals), (lang, value, decimals)
    assert i18n.fmt_number(-0.004, "es", 2) == "0,00"


def test_non_finite_numbers_are_written_not_crashed():
    assert i18n.fmt_number(float("inf"), "es", 2) == "∞"
    assert i18n.fmt_number(float("nan"), "zh", 1) == "NaN"
    assert i18n.fmt_list([], "zh") == ""


def test_every_bundled_category_has_a_name_in_every_language():
    with (ROOT / "data" / "videos.csv").open(encoding="utf-8") as f:
        categories = {row["category"] for row in csv.DictReader(f)}
    assert categories == set(i18n.CATEGORY_NAMES), "a new category needs a display name"
    for lang in TARGET_LANGS:
        names = {c: i18n.category_name(c, lang) for c in categories}
        assert all(names[c] != i18n.category_name(c) for c in categories), f"untranslated in {lang}: {names}"
    assert i18n.category_name("ml_lectures") == "ML lectures"
    assert i18n.category_name("maths", "zh") == "maths", "another corpus's category is shown as written"


# --- the session's language (Streamlit) ---------------------------------------------------------------


def test_resolve_lang_order():
    assert resolve_lang("es", "zh", "zh-CN") == "es", "the URL first"
    assert resolve_lang("xx", "zh", "zh-CN") == "en", "an unknown ?lang= is English"
    assert resolve_lang(None, "zh", "es-ES") == "zh", "then the session's choice"
    assert resolve_lang(None, None, "es-ES") == "es", "then the browser"
    assert resolve_lang(None, None, None) == "en"
    assert resolve_lang(None, "bogus", "zh-TW") == "zh"


def _switch_app() -> None:
    import streamlit as st

    from retrieval_attention.views.glossary import glossary_table
    from ui.components.document import table_frame
    from ui.components.i18n import _, category_name, current_lang, fmt_percent, language_switch

    language_switch()
    st.title(_("Language"))
    st.slider("k", 1, 20, 5, key="k")
    st.text_input("query", key="query")
    st.caption(f"{current_lang()} {fmt_percent(0.5)} {category_name('pets')}")
    st.dataframe(table_frame(glossary_table(current_lang())))


def run(query: dict | None = None, locale: str | None = None) -> AppTest:
    at = AppTest.from_function(_switch_app, default_timeout=30)
    at.query_params.update(query or {})
    at.context["locale"] = locale
    return at.run()


@pytest.mark.parametrize(
    ("query", "locale", "lang", "title", "caption"),
    [
        ({"lang": "zh"}, "en-US", "zh", "语言", "zh 50% 宠物"),
        ({"lang": "es"}, None, "es", "Idioma", "es 50\xa0% mascotas"),
        ({"lang": "klingon"}, "zh-CN", "en", "Language", "en 50% pets"),
        ({}, "zh-TW", "zh", "语言", "zh 50% 宠物"),
        ({}, "es-MX", "es", "Idioma", "es 50\xa0% mascotas"),
        ({}, "de-DE", "en", "Language", "en 50% pets"),
        ({}, None, "en", "Language", "en 50% pets"),
    ],
    ids=["url-zh", "url-es", "url-unknown", "browser-zh", "browser-es", "browser-other", "nothing"],
)
def test_the_language_of_a_first_visit(query, locale, lang, title, caption):
    at = run(query, locale)
    assert not at.exception, at.exception
    assert at.title[0].value == title
    assert at.caption[0].value == caption
    assert at.sidebar.radio(key=SWITCH_KEY).value == lang
    assert at.query_params["lang"] == [lang] or at.query_params["lang"] == lang, "mirrored into the URL"


def test_switching_language_keeps_the_query_and_the_sliders():
    at = run({"lang": "zh"})
    at.slider(key="k").set_value(9)
    at.text_input(key="query").set_value("猫咪视频")
    at.run()
    at.sidebar.radio(key=SWITCH_KEY).set_value("es").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Idioma"
    assert at.slider(key="k").value == 9 and at.text_input(key="query").value == "猫咪视频"
    assert at.session_state["k"] == 9
    assert at.query_params["lang"] in ("es", ["es"])
    headers = list(at.dataframe[0].value.columns)
    assert headers[:4] == ["English", "中文", "chino tradicional (artículo 000)", "Español"]


def test_the_session_keeps_its_language_when_the_url_loses_it():
    at = run({}, "en-US")
    at.sidebar.radio(key=SWITCH_KEY).set_value("zh").run()
    at.query_params.clear()  # a page switch may drop the parameter; the browser's locale is not read again
    at.run()
    assert at.title[0].value == "语言"
    assert at.query_params["lang"] in ("zh", ["zh"])


# --- the glossary -----------------------------------------------------------------------------------


def test_glossary_terms_are_complete_and_unique():
    assert len({t.en for t in GLOSSARY}) == len(GLOSSARY)
    for t in GLOSSARY:
        assert all((t.en, t.zh, t.zh_hant, t.es, t.meaning, t.source)), t


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the source articles are in shared/seeds, beside the repository")
def test_glossary_words_are_the_articles_words():
    text = {p.name[:3]: p.read_text(encoding="utf-8") for p in SEEDS.glob("00*.txt")}
    simplified = text["001"] + text["002"] + text["003"]
    by_en = {t.en: t for t in GLOSSARY}
    for en in ("query", "key", "value", "attention", "scaled dot-product attention", "multi-head attention",
               "self-attention", "cross-attention", "dot product", "embedding", "attention head"):  # fmt: skip
        assert by_en[en].zh in simplified, en
    for en in ("query", "key", "multi-head attention", "dot product", "one-hot vector", "encoder / decoder"):
        assert all(w.strip() in text["000"] for w in by_en[en].zh_hant.split("/")), en
    for en in ("query", "key", "value", "self-attention", "dot product", "embedding"):
        assert by_en[en].es in text["004"], en


# --- the CLI ------------------------------------------------------------------------------------------


def test_cli_help_in_each_language(capsys):
    from retrieval_attention.cli import main

    for lang, words in (("zh", ["用法：", "位置参数", "选项", "top-k 搜索保留的键数"]), ("es", ["uso:", "opciones"])):
        with pytest.raises(SystemExit) as exit_:
            main(["--lang", lang, "--help"])
        assert exit_.value.code == 0
        out = capsys.readouterr().out
        assert all(w in out for w in words), out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "positional arguments" in capsys.readouterr().out


def test_an_unknown_cli_language_is_a_one_line_error(capsys):
    from retrieval_attention.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["cats", "--lang", "fr"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and "--lang" in err


@pytest.mark.parametrize(
    ("lang", "present", "absent"),
    [
        ("en", ["HARD LOOKUP (dict)", "TOP-3 (FAISS, cosine)", "weight kept by top-3:", "entropy"], []),
        (
            "zh",
            ["精确查找（字典）", "TOP-3（FAISS，余弦）", "top-3 保留的权重：", "熵", "宠物"],
            ["HARD LOOKUP", "entropy"],
        ),
        ("es", ["BÚSQUEDA EXACTA", "peso que conserva el top-3:", "entropía", "mascotas"], ["HARD LOOKUP", "weight"]),
    ],
)
@pytest.mark.parametrize("width", [150, 80], ids=["wide", "stacked"])
def test_cli_text_in_each_language(tiny_store, lang, present, absent, width):
    from retrieval_attention.cli import render_text

    results = tiny_store.retrieve("funny cat videos", k=3, temperature=0.05)
    out = render_text(tiny_store, results, 3, 4, width, lang=lang)
    assert all(p in out for p in present), out
    assert not any(a in out for a in absent), out


@pytest.mark.slow
def test_the_wheel_carries_the_cli_catalogues(installed_wheel, tmp_path):
    wheel, site = installed_wheel
    names = zipfile.ZipFile(BytesIO(wheel.read_bytes())).namelist()
    for lang in TARGET_LANGS:
        assert f"retrieval_attention/locales/{lang}/LC_MESSAGES/retrieval_attention.po" in names
    assert not any(n.endswith(".mo") for n in names)
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    cli = subprocess.run(
        [sys.executable, "-m", "retrieval_attention", "--lang", "zh", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert cli.returncode == 0, cli.stderr
    assert "用法：" in cli.stdout and "精确查找" in cli.stdout
    where = subprocess.run(
        [sys.executable, "-c", "from retrieval_attention import i18n; print(i18n.LOCALE_DIR)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert where.stdout.startswith(str(site)), "read from the installed wheel, not the checkout"


@pytest.mark.parametrize("lang", ["zh", "es"])
def test_chart_labels_live_once_and_translate_for_the_app_and_the_lessons(lang):
    from retrieval_attention.charts.recommender import REC_TEXT
    from retrieval_attention.charts.continuum import CONTINUUM_LABELS
    from retrieval_attention.charts.retrieval import WEIGHTS_LABELS
    from retrieval_attention.charts.transformer import HEATMAP_TEXT

    for english in (WEIGHTS_LABELS, CONTINUUM_LABELS, REC_TEXT, HEATMAP_TEXT):
        text = i18n.translated(english, lang)
        assert text.keys() == english.keys()
        for key, value in text.items():
            assert value != english[key] or english[key] in ("q·k (cosine)", "factor"), (key, value)  # same word
            assert placeholders(value) == placeholders(english[key]), key
