"""The languages the app and the CLI speak: gettext catalogues read with Babel, numbers formatted by Babel.

Source strings are English; a catalogue per language (``locales/<lang>/LC_MESSAGES/<domain>.po``)
holds the translations. A ``.po`` file is read directly, with no build step and no ``.mo`` file in
git: :func:`load_translations` parses it with Babel's ``read_po``, compiles it in memory with
``write_mo`` and wraps the bytes in a :class:`gettext.GNUTranslations`, once per process. The CLI's
catalogue (domain ``retrieval_attention``) ships inside the package, so ``--lang`` works from an
installed wheel; the app's catalogue lives in ``ui/locales`` and is read with the same function.

The maths never sees a language: only the CLI and the app translate what they print.
"""

from __future__ import annotations

import copy
import functools
import gettext
import logging
import math
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Babel loads on the first translation or number, not with the package (N_ needs none of it)
    from babel import Locale

__all__ = [
    "CATEGORY_NAMES",
    "DEFAULT_LANG",
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "category_name",
    "fmt_compact",
    "fmt_list",
    "fmt_number",
    "fmt_percent",
    "fmt_setting",
    "fmt_significant",
    "load_translations",
    "normalize_lang",
    "number_signs",
    "tex_number",
]

logger = logging.getLogger(__name__)

#: The languages, each named in itself (a switch shows "中文" to a reader who cannot read "Chinese").
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文", "es": "Español"}
#: The language of the source strings, and of any unknown or missing choice.
DEFAULT_LANG = "en"
#: The gettext domain of the package's own messages (the CLI's text, category names).
DOMAIN = "retrieval_attention"
#: Where the package's catalogues live; package data, so they ship in the wheel.
LOCALE_DIR = Path(__file__).parent / "locales"
#: The Babel locale that formats numbers for each language: Simplified Chinese, Spanish of Spain.
_BABEL_LOCALES = {"en": "en", "zh": "zh_Hans_CN", "es": "es"}


def N_(message: str) -> str:  # noqa: N802 (the name gettext tools look for)
    """Mark ``message`` for extraction without translating it (a constant defined before a language is known).

    Args:
        message: the English source string.

    Returns:
        ``message`` unchanged; translate it later with the session's ``gettext``.

    Example:
        >>> N_("pets")
        'pets'
    """
    return message


def translated(english: Mapping[str, str], lang: str = DEFAULT_LANG) -> dict[str, str]:
    """A chart's text mapping (its module's English, marked with :func:`N_`) in ``lang``.

    The chart modules hold each chart's labels once, in English; the app and the exported lessons
    both translate them here, through this package's catalogue.

    Args:
        english: e.g. :data:`retrieval_attention.charts.retrieval.WEIGHTS_LABELS`.
        lang: the language code.

    Returns:
        The same keys, each value translated (placeholders such as ``{k}`` kept for the builder).

    Example:
        >>> translated({"y": "weight"}, "es")
        {'y': 'peso'}
    """
    gettext_ = load_translations(lang).gettext
    return {key: gettext_(text) for key, text in english.items()}


def normalize_lang(value: object) -> str:
    """The language code for ``value``: ``"en"``, ``"zh"`` or ``"es"``; anything else is English.

    Accepts a code in any case and a browser or POSIX locale with a region or script
    (``zh-CN``, ``zh_Hant_TW``, ``es-419``, ``en_US.UTF-8``).

    Args:
        value: a ``?lang=`` value, a browser locale, or None.

    Returns:
        A key of :data:`LANGUAGES`; :data:`DEFAULT_LANG` for an unknown, empty or non-string value.

    Example:
        >>> normalize_lang("zh-TW"), normalize_lang("ES"), normalize_lang("fr"), normalize_lang(None)
        ('zh', 'es', 'en', 'en')
    """
    if not isinstance(value, str):
        return DEFAULT_LANG
    code = value.strip().lower().replace("_", "-").split("-")[0].split(".")[0]
    return code if code in LANGUAGES else DEFAULT_LANG


@functools.cache
def _cached_translations(lang: str, localedir: str, domain: str) -> gettext.NullTranslations:
    if lang == DEFAULT_LANG:
        return gettext.NullTranslations()  # the source strings are English
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    path = Path(localedir) / lang / "LC_MESSAGES" / f"{domain}.po"
    try:
        with path.open("rb") as f:
            catalog = read_po(f, locale=lang, domain=domain)
    except OSError as exc:
        logger.warning("no %s catalogue for %r (%s): showing English", domain, lang, exc)
        return gettext.NullTranslations()
    mo = BytesIO()
    write_mo(mo, catalog)  # untranslated and fuzzy entries are left out: they fall back to English
    mo.seek(0)
    return Translations(mo, domain=domain)


def load_translations(lang: str, localedir: str | Path = LOCALE_DIR, domain: str = DOMAIN) -> gettext.NullTranslations:
    """The translations of ``domain`` for ``lang``, read from its ``.po`` file (once per process).

    Args:
        lang: a language code or locale; see :func:`normalize_lang`.
        localedir: the folder holding ``<lang>/LC_MESSAGES/<domain>.po``.
        domain: the catalogue's name.

    Returns:
        An object with ``gettext``, ``ngettext`` and ``pgettext``. English, a missing catalogue (logged
        as a warning) and any string the catalogue does not translate give the English source string.

    Example:
        >>> load_translations("zh").gettext("pets")
        '宠物'
        >>> load_translations("en").ngettext("{n} key", "{n} keys", 2)
        '{n} keys'
    """
    return _cached_translations(normalize_lang(lang), str(localedir), domain)


def _locale(lang: str) -> Locale:
    from babel import Locale

    return Locale.parse(_BABEL_LOCALES[normalize_lang(lang)])


def fmt_number(value: float, lang: str = DEFAULT_LANG, decimals: int | None = None) -> str:
    """``value`` with the locale's digit grouping and decimal sign.

    Args:
        value: any real number (NaN and infinities are written as the locale writes them).
        lang: the language code.
        decimals: exactly this many digits after the decimal sign; None keeps up to three.

    Returns:
        The formatted number.

    Example:
        >>> fmt_number(1234567, "en"), fmt_number(1234.5, "es", decimals=2), fmt_number(-0.001, "zh", 2)
        ('1,234,567', '1.234,50', '0.00')
    """
    from babel.numbers import format_decimal

    if decimals is None or not math.isfinite(value):
        return format_decimal(value, locale=_locale(lang))
    if round(value, decimals) == 0:
        value = 0.0  # never "-0.00"
    signs = _plain_signs(normalize_lang(lang))
    if signs is not None and 0 <= decimals <= 20 and abs(value) < 1e15:
        return _fixed(value, decimals, *signs)
    pattern = copy.copy(_locale(lang).decimal_formats[None])
    pattern.frac_prec = (decimals, decimals)
    return format_decimal(value, format=pattern, locale=_locale(lang))


@functools.lru_cache(maxsize=8)  # one entry per supported language
def _plain_signs(lang: str) -> tuple[str, str, str] | None:
    """(decimal sign, group sign, minus sign) when ``lang``'s decimal pattern is the plain ``#,##0.###``.

    Then :func:`_fixed` writes exactly what Babel writes, about 20 times faster (a page formats a
    hundred numbers a run); any other pattern (other grouping, affixes) is left to Babel.
    """
    from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

    loc = _locale(lang)
    pattern = loc.decimal_formats[None]
    plain = (
        pattern.grouping == (3, 3)
        and pattern.int_prec == (1, 4)  # Babel pads to at least one integer digit; 4 is the pattern's width
        and tuple(pattern.prefix) == ("", "-")
        and tuple(pattern.suffix) == ("", "")
        and pattern.scale == 0
        and not pattern.exp_prec
    )
    if not plain:
        return None
    return get_decimal_symbol(loc), get_group_symbol(loc), get_minus_sign_symbol(loc)


def _fixed(value: float, decimals: int, decimal_sign: str, group_sign: str, minus: str) -> str:
    """``value`` with exactly ``decimals`` digits, as Babel writes it for a ``#,##0.###`` locale.

    Babel reads a float through ``str`` into a ``Decimal`` and rounds half to even at ``decimals``
    (so 2.675 gives 2.68, not the 2.67 of ``f"{2.675:.2f}"``); the digits are grouped by three.
    """
    from decimal import Decimal

    exact = Decimal(str(value))
    rounded = abs(exact).quantize(Decimal(1).scaleb(-decimals))  # the default context: half to even, as Babel
    whole, _, frac = f"{rounded:f}".partition(".")
    groups = []
    while len(whole) > 3:
        whole, tail = whole[:-3], whole[-3:]
        groups.append(tail)
    text = group_sign.join([whole, *reversed(groups)])
    if decimals:
        text += decimal_sign + frac
    return (minus if exact.is_signed() else "") + text


@functools.lru_cache(maxsize=4096)  # a library caller may pass any float: bounded
def fmt_setting(value: float, lang: str = DEFAULT_LANG) -> str:
    """A setting as the user picked it (every digit ``:g`` writes, no rounding) with the locale's signs.

    Args:
        value: a temperature, a half-life, a bandwidth.
        lang: the language code.

    Returns:
        ``0.05`` in English, ``0,05`` in Spanish.

    Example:
        >>> fmt_setting(0.0316, "es"), fmt_setting(20.0, "zh")
        ('0,0316', '20')
    """
    text = f"{value:g}"
    if "e" in text or "n" in text:  # 1e-05, inf, nan: as Python writes them
        return text
    digits = len(text.partition(".")[2])
    return fmt_number(value, lang, digits)


def fmt_significant(value: float, lang: str = DEFAULT_LANG, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits, as ``%.4g`` writes it, with the locale's decimal sign.

    Example:
        >>> fmt_significant(0.79351, "es"), fmt_significant(1.0, "es"), fmt_significant(3.25e-05, "es", 3)
        ('0,7935', '1', '3,25e-05')
    """
    mantissa, e, exponent = f"{value:.{digits}g}".partition("e")
    return mantissa.replace(".", number_signs(lang)[0]) + (f"e{exponent}" if e else "")


def tex_number(text: str) -> str:
    """A formatted number made safe for TeX math: a comma (decimal or grouping) in braces, so TeX adds no space.

    Example:
        >>> tex_number(fmt_number(0.9137, "es", 4)), tex_number(fmt_number(12345.6, "en", 1))
        ('0{,}9137', '12{,}345.6')
    """
    return text.replace(",", "{,}")


def number_signs(lang: str = DEFAULT_LANG) -> tuple[str, str]:
    """The decimal sign and the digit-grouping sign :func:`fmt_number` writes in ``lang``.

    Charts take them as their Vega number locale, so a chart writes ``0,56`` where the text does.

    Args:
        lang: the language code.

    Returns:
        ``(decimal, thousands)``.

    Example:
        >>> number_signs("en"), number_signs("es")
        (('.', ','), (',', '.'))
    """
    decimal = fmt_number(0.5, lang, 1).strip("05") or "."
    group = fmt_number(1_000_000, lang, 0).strip("01") or ","
    return decimal[0], group[0]


def fmt_percent(fraction: float, lang: str = DEFAULT_LANG, decimals: int = 0) -> str:
    """``fraction`` as a percentage the way the locale writes one (``42%``, ``42 %`` in Spanish).

    Args:
        fraction: the share, 1.0 being 100 %.
        lang: the language code.
        decimals: digits after the decimal sign.

    Returns:
        The formatted percentage.

    Example:
        >>> fmt_percent(0.425, "en", 1), fmt_percent(0.425, "es", 1), fmt_percent(0.5, "zh")
        ('42.5%', '42,5\\xa0%', '50%')
    """
    from babel.numbers import format_decimal

    loc = _locale(lang)
    pattern = copy.copy(loc.percent_formats[None])
    pattern.frac_prec = (decimals, decimals)
    if math.isfinite(fraction) and round(fraction * 100, decimals) == 0:
        fraction = 0.0
    return format_decimal(fraction, format=pattern, locale=loc)


def fmt_compact(value: float, lang: str = DEFAULT_LANG, decimals: int = 1) -> str:
    """A large count in short form: ``206.6K``, ``20.7万``, ``206,6 mil``.

    Args:
        value: the number (a view count, a number of keys).
        lang: the language code.
        decimals: at most this many digits after the decimal sign.

    Returns:
        The number in the locale's compact notation.

    Example:
        >>> fmt_compact(206630, "en"), fmt_compact(206630, "zh"), fmt_compact(1.0000058, "es")
        ('206.6K', '20.7万', '1')
    """
    from babel.numbers import format_compact_decimal

    # Babel leaves a number below the locale's first compact unit as it came (1.0000058302392834):
    # rounding first keeps the promise of ``decimals`` at every size.
    rounded = round(float(value), decimals) if math.isfinite(value) else value
    return format_compact_decimal(rounded, format_type="short", locale=_locale(lang), fraction_digits=decimals)


def fmt_list(items: list[str], lang: str = DEFAULT_LANG) -> str:
    """``items`` joined as the locale joins a list: ``a, b, and c``, ``a、b和c``, ``a, b y c``.

    Args:
        items: the already formatted parts.
        lang: the language code.

    Returns:
        One string; empty for no items.

    Example:
        >>> fmt_list(["pets 60%", "news 30%"], "es"), fmt_list(["宠物 60%", "新闻 30%"], "zh")
        ('pets 60% y news 30%', '宠物 60%和新闻 30%')
    """
    from babel.lists import format_list

    return format_list(list(items), style="standard", locale=_locale(lang)) if items else ""


#: Display names of the bundled corpus's categories (data/videos.csv), translated with the package's
#: catalogue. A category of another corpus has none and is shown as it is written.
CATEGORY_NAMES: dict[str, str] = {
    "cooking": N_("cooking"),
    "diy": N_("DIY"),
    "finance": N_("finance"),
    "fitness": N_("fitness"),
    "gaming": N_("gaming"),
    "ml_lectures": N_("ML lectures"),
    "music": N_("music"),
    "nature": N_("nature"),
    "news": N_("news"),
    "pets": N_("pets"),
    "programming": N_("programming"),
    "science": N_("science"),
    "sports": N_("sports"),
    "travel": N_("travel"),
}


def category_name(category: str, lang: str = DEFAULT_LANG) -> str:
    """The display name of a bundled category in ``lang``; any other category as it is written.

    Args:
        category: the ``category`` field of a video (``"ml_lectures"``).
        lang: the language code.

    Returns:
        The name a reader of ``lang`` sees.

    Example:
        >>> category_name("ml_lectures"), category_name("ml_lectures", "zh"), category_name("maths", "es")
        ('ML lectures', '机器学习课程', 'maths')
    """
    name = CATEGORY_NAMES.get(category)
    return category if name is None else load_translations(lang).gettext(name)
