"""What the article pages' documents share: the source articles' titles, the line naming the one a
view follows (with what to notice), a chart in the document's language, and a tiny number's format.

The articles' own titles are data, shown in their own language (Chinese or Spanish) whatever the
document's language is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from retrieval_attention.export.blocks import LessonChart, Text
from retrieval_attention.export.markup import md

if TYPE_CHECKING:
    import altair as alt

__all__ = ["ARTICLES", "article_chart", "fmt_small", "follows", "split_words"]

#: The source articles these pages follow (../shared/seeds/): number -> its title, in its own language.
ARTICLES = {
    "000": "注意力機制中的鍵、查詢和值到底是什麼?",
    "001": "注意力机制",
    "002": "Transformer 架构中的 Query、Key 和 Value 是什么？它们为什么被使用？",
    "003": "Transformer中的三种注意力机制",
    "004": "Motivando la Autoatención",
}


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def follows(numbers: tuple[str, ...], notice: str, lang: str = "en", key: str = "") -> tuple[Text, Text]:
    """The article(s) a view follows, by number and original title, and the one thing to notice.

    Args:
        numbers: article numbers, e.g. ("001",).
        notice: one translated line: what the reader should notice.
        lang: the document's language.
        key: the blocks' key prefix (``{key}_follows``, ``{key}_notice``).

    Returns:
        The line naming the articles, and the notice as an info box.

    Example:
        >>> line, notice = follows(("004",), "Look.", "en", "x")
        >>> line.text, notice.style
        ('**Follows** article 004 «Motivando la Autoatención»', 'info')
    """
    _ = _gettext(lang)
    article, follows_ = _("article"), _("Follows")
    names = " · ".join(f"{article} {n} «{md(ARTICLES[n])}»" for n in numbers)
    return (
        Text(f"**{follows_}** {names}", icon=":material/menu_book:", key=f"{key}_follows"),
        Text(notice, style="info", icon=":material/visibility:", key=f"{key}_notice"),
    )


def article_chart(chart: alt.TopLevelMixin, lang: str, key: str) -> LessonChart:
    """An article chart as the page draws it: projector theme, the language's number signs, its own size."""
    from retrieval_attention.export.specs import inline_spec, signs

    spec = inline_spec(chart, **signs(lang), validate=False, container_width=False)
    return LessonChart(spec, key=key, width="content")


def fmt_small(value: float, lang: str = "en", decimals: int = 3) -> str:
    """A number in ``lang``'s format, in scientific notation when it would round to 0 (a tiny weight).

    Example:
        >>> fmt_small(0.0134, "en"), fmt_small(1.5e-7, "es"), fmt_small(0.0, "en")
        ('0.013', '1,5e-07', '0.000')
    """
    from retrieval_attention.i18n import fmt_number, number_signs

    if value == 0 or abs(value) >= 10 ** (-decimals):
        return fmt_number(value, lang, decimals)
    decimal, _group = number_signs(lang)
    return f"{value:.1e}".replace(".", decimal)


def split_words(tokens: tuple[str, ...], lang: str = "en", key: str = "words") -> tuple[Text, bool]:
    """A caption naming the words the tokenizer split into pieces (or saying none is split).

    Args:
        tokens: the sentence's tokens.
        lang: the document's language.
        key: the block's key prefix (``{key}_split``, or ``{key}_none`` when no word is split).

    Returns:
        The caption, and whether at least one word is split.

    Example:
        >>> text, split = split_words(("[CLS]", "hip", "##era", "[SEP]"))
        >>> text.key, split
        ('words_split', True)
    """
    from retrieval_attention.inspector import word_groups, word_labels

    _ = _gettext(lang)
    groups = word_groups(tokens)
    split = [(w, [tokens[i] for i in g]) for w, g in zip(word_labels(tokens, groups), groups) if len(g) > 1]
    if not split:
        text = _("No word of this sentence is split into pieces: the word view equals the token view.")
        return Text(text, style="caption", key=f"{key}_none"), False
    shown = "; ".join(f"{md(w)} = {' + '.join(md(p) for p in pieces)}" for w, pieces in split)
    return Text(_("Words split into pieces: {words}").format(words=shown), style="caption", key=f"{key}_split"), True
