"""The session's language and the helpers a page translates with: ``_()``, ``ngettext()``, ``fmt_*()``.

The language of a session is ``?lang=en|zh|es`` in the URL if there is one (an unknown value is
English, with no error), else the one this session chose, else the browser's (``st.context.locale``)
on the first visit. It is kept in ``st.session_state`` and mirrored into the URL, so a teacher can
copy the address and send a link that opens in Chinese. The sidebar switch changes it; no other
session key is touched, so the query and the sliders stay as they were.

A page writes ``st.header(_("Three ways to answer"))`` and ``_("top-{k} keeps {share}").format(...)``;
``python -m ui.locales update`` extracts the strings into ``ui/locales``. Never call ``_()`` inside an
``st.cache_data`` function: the cache does not know the language. Translate at the page and pass the
translated labels in (they are then part of the cache key).

A page translates a few hundred strings per run. The language and its catalogue are resolved on the
first call of each script run (two session lookups) and kept for the rest of that run, keyed by the
run's own object: every run, a fragment's alone included, starts with a new one, so a switch, a
``?lang=`` change or a fragment rerun resolves the language again; the sidebar switch drops the
run's entry when it changes the language.
"""

from __future__ import annotations

import functools
import gettext
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from retrieval_attention import i18n
from retrieval_attention.i18n import LANGUAGES, N_, normalize_lang

__all__ = [
    "LANGUAGES",
    "N_",
    "_",
    "category_name",
    "chart_labels",
    "current_lang",
    "fmt_compact",
    "fmt_list",
    "fmt_number",
    "fmt_percent",
    "fmt_setting",
    "fmt_significant",
    "fmt_tex",
    "setting_labels",
    "language_switch",
    "ngettext",
    "resolve_lang",
    "translations",
]

#: The app's catalogues: ``<lang>/LC_MESSAGES/messages.po`` (see ``ui/locales/__init__.py``).
UI_LOCALES = Path(__file__).resolve().parents[1] / "locales"
UI_DOMAIN = "messages"
#: The URL's query parameter.
QUERY_PARAM = "lang"
#: session_state: the language of this session. Not a widget key, so no page can drop it.
LANG_KEY = "ui_lang"
#: session_state: the sidebar switch's widget key.
SWITCH_KEY = "ui_lang_switch"


def resolve_lang(query: object, session: object, browser: object) -> str:
    """The session's language from what the URL, the session and the browser say, in that order.

    Args:
        query: the ``?lang=`` value, or None when the URL has none.
        session: the language this session has used so far, or None on the first visit.
        browser: the browser's locale (``"zh-CN"``), read only when the other two say nothing.

    Returns:
        ``"en"``, ``"zh"`` or ``"es"``: a ``?lang=`` value that names none of them is English.

    Example:
        >>> resolve_lang("zh", "es", "en-US"), resolve_lang("klingon", "es", None), resolve_lang(None, None, "es-MX")
        ('zh', 'en', 'es')
    """
    if query is not None:
        return normalize_lang(query)
    if session in LANGUAGES:
        return str(session)
    return normalize_lang(browser)


@dataclass(frozen=True)
class _RunLanguage:
    """What one script run translates with."""

    lang: str  # "en", "zh" or "es"
    translations: gettext.NullTranslations  # the app's catalogue in that language


#: The language each script run resolved, by the run's own object (:func:`_run_token`). A cache, like
#: ``functools.cache``: an entry goes with its run (weak key), and no entry outlives a run's language.
_BY_RUN: weakref.WeakKeyDictionary[object, _RunLanguage] = weakref.WeakKeyDictionary()


def _run_token() -> object | None:
    """An object that exists for this script run only, or None outside a run (bare mode, the CLI).

    Streamlit's ``ScriptRunContext.reset()`` starts every run, a fragment's alone included, and makes
    a new ``parallel_coordinator`` each time ("single-use: a fresh instance is created at the start of
    every script run"). A Streamlit without one gives None: the language is then read on every call.
    """
    ctx = get_script_run_ctx(suppress_warning=True)
    return getattr(ctx, "parallel_coordinator", None) if ctx is not None else None


def _session_lang() -> str:
    """The session's language from session_state, the URL and the browser; puts it in both places."""
    session = st.session_state.get(LANG_KEY)
    query = st.query_params.get(QUERY_PARAM)
    if session is not None and query == session:
        return session  # every run after the first: two lookups
    lang = resolve_lang(query, session, None if session in LANGUAGES else st.context.locale)
    st.session_state[LANG_KEY] = lang
    st.query_params[QUERY_PARAM] = lang  # a page switch may drop the parameter: put it back
    return lang


def _run_language() -> _RunLanguage:
    """This run's language and catalogue: resolved on the run's first call, then one dictionary lookup."""
    token = _run_token()
    if token is not None:
        known = _BY_RUN.get(token)
        if known is not None:
            return known
    lang = _session_lang()
    run = _RunLanguage(lang, i18n.load_translations(lang, UI_LOCALES, UI_DOMAIN))
    if token is not None:
        _BY_RUN[token] = run
    return run


def current_lang() -> str:
    """The language of this session (see the module's docstring), kept in session_state and the URL.

    Returns:
        ``"en"``, ``"zh"`` or ``"es"``; read once per script run.
    """
    return _run_language().lang


def _switched() -> None:
    lang = normalize_lang(st.session_state.get(SWITCH_KEY))
    st.session_state[LANG_KEY] = lang
    st.query_params[QUERY_PARAM] = lang
    token = _run_token()
    if token is not None:
        _BY_RUN.pop(token, None)  # this run may have translated before the callback: read it again


def language_switch() -> str:
    """The sidebar's language switch (English / 中文 / Español); call it once per run, before any page.

    Returns:
        The language of this run.
    """
    lang = current_lang()
    if st.session_state.get(SWITCH_KEY) != lang:
        st.session_state[SWITCH_KEY] = lang  # follows ?lang= and the browser; set before the widget exists
    st.sidebar.radio(
        _("Language"),
        list(LANGUAGES),
        key=SWITCH_KEY,
        format_func=LANGUAGES.__getitem__,
        horizontal=True,
        on_change=_switched,
    )
    return lang


def translations() -> gettext.NullTranslations:
    """The app's translations in the session's language (the catalogue is read once per process)."""
    return _run_language().translations


def _(message: str) -> str:
    """``message`` in the session's language (the English source string if it has no translation).

    Args:
        message: a literal English string, so that Babel extracts it; ``{name}`` placeholders are
            filled afterwards with ``.format``.

    Returns:
        The translation.
    """
    return translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a counted message for ``n`` in the session's language (Chinese has one form).

    Args:
        singular: the English message for 1 (``"{n} key"``).
        plural: the English message for any other count (``"{n} keys"``).
        n: the count that picks the form; fill ``{n}`` with ``.format(n=fmt_number(n))``.

    Returns:
        The translation.
    """
    return translations().ngettext(singular, plural, n)


#: Formatted numbers kept per process (Babel takes 10 to 20 µs a number; a page writes 30 to 60 per
#: rerun, the same ones again when a slider comes back to a setting): (function, value, lang, decimals).
FORMATTED_NUMBERS = 8192


@functools.lru_cache(maxsize=FORMATTED_NUMBERS, typed=True)
def _formatted(how: str, value: float, lang: str, decimals: int | None) -> str:
    return getattr(i18n, how)(value, lang, decimals)


def _fmt(how: str, value: float, decimals: int | None) -> str:
    lang = current_lang()
    if value and value == value:  # 0.0 == -0.0 would share a key, NaN != NaN is never found: not cached
        try:
            return _formatted(how, value, lang, decimals)  # typed: 1, 1.0 and np.float32(1) are apart
        except TypeError:  # an unhashable number type
            pass
    return getattr(i18n, how)(value, lang, decimals)


def fmt_number(value: float, decimals: int | None = None) -> str:
    """``value`` with the session's digit grouping and decimal sign (:func:`retrieval_attention.i18n.fmt_number`)."""
    return _fmt("fmt_number", value, decimals)


def fmt_percent(fraction: float, decimals: int = 0) -> str:
    """``fraction`` (1.0 = 100 %) as the session's language writes a percentage."""
    return _fmt("fmt_percent", fraction, decimals)


def fmt_compact(value: float, decimals: int = 1) -> str:
    """A large count in the session's short form: ``206.6K``, ``20.7万``, ``206,6 mil``."""
    return _fmt("fmt_compact", value, decimals)


@functools.lru_cache(maxsize=4096)
def _setting(value: float, lang: str) -> str:
    return i18n.fmt_setting(value, lang)


def fmt_setting(value: float) -> str:
    """A setting with every digit the user picked, in the session's signs (:func:`retrieval_attention.i18n.fmt_setting`).

    Sliders call it for each of their options on every rerun: remembered per (value, language).
    """
    return _setting(float(value), current_lang())


def fmt_significant(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits in the session's decimal sign (``%.4g`` with ``0,7935``)."""
    return i18n.fmt_significant(value, current_lang(), digits)


def fmt_tex(value: float, decimals: int | None = None, *, significant: int | None = None, setting: bool = False) -> str:
    """A number for ``st.latex`` in the session's signs (``0{,}9137`` in Spanish: TeX puts no space after it).

    Args:
        value: the number.
        decimals: fixed decimals (as :func:`fmt_number`).
        significant: significant digits instead (as :func:`fmt_significant`).
        setting: write it as a setting the user picked (as :func:`fmt_setting`), e.g. T.
    """
    if setting:
        return i18n.tex_number(fmt_setting(value))
    if significant is not None:
        return i18n.tex_number(fmt_significant(value, significant))
    return i18n.tex_number(fmt_number(value, decimals))


def setting_labels(options: Sequence[float]) -> Callable[[float], str]:
    """A select_slider's ``format_func`` writing its options in the session's signs (``0,05`` in Spanish).

    Streamlit also calls ``format_func`` outside the script run (when it serialises the widget's
    value), where the session's language must not be read. So the labels are written here, in the
    run, and the function returned only looks them up; a value that is not an option (never the
    case for a select_slider's own value) is written as ``:g`` writes it.

    Args:
        options: the slider's options.

    Returns:
        option -> its label.
    """
    labels = {float(x): fmt_setting(x) for x in options}

    def label(x: float) -> str:
        return labels.get(float(x), f"{x:g}")

    return label


def fmt_list(items: list[str]) -> str:
    """``items`` joined as the session's language joins a list (``a, b and c``, ``a、b和c``)."""
    return i18n.fmt_list(items, current_lang())


def chart_labels(english: Mapping[str, str]) -> dict[str, str]:
    """A chart module's English labels (``WEIGHTS_LABELS``, ``REC_TEXT``, ...) in the session's language.

    The labels live once, in the chart modules, and are translated by the package's catalogue, which
    the exported lessons use too (:func:`retrieval_attention.i18n.translated`).
    """
    return i18n.translated(english, current_lang())


def category_name(category: str) -> str:
    """The display name of a bundled corpus's category in the session's language; others as written."""
    return i18n.category_name(category, current_lang())


def number_signs() -> tuple[str, str]:
    """The session's decimal sign and digit-grouping sign (:func:`retrieval_attention.i18n.number_signs`).

    Charts take them as their Vega number locale, so ``0,56`` in Spanish on the page and in the chart.
    """
    return i18n.number_signs(current_lang())
