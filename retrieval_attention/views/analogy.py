"""The search-engine analogy in a few sentences: the page's document (no model, no data).

Query, keys and values as a search engine's parts (section ``roles``); a dictionary, a search
engine and attention as three ways to answer, with the temperature between them (``three_ways``);
why a token has a query separate from its key (``three_vectors``).

Example:
    >>> lesson = analogy_lesson("en")
    >>> [s.key for s in lesson.sections]
    ['roles', 'three_ways', 'three_vectors']
"""

from __future__ import annotations

from retrieval_attention.export.blocks import Columns, LessonSection, Text
from retrieval_attention.export.document import Lesson

__all__ = ["analogy_lesson", "analogy_title", "roles_section", "three_vectors_section", "three_ways_section"]


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def analogy_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)  # the name "_" is what the catalogue's extractor looks for
    return _("The analogy in 60 seconds")


def roles_section(lang: str = "en") -> LessonSection:
    """Query, keys and values as a search engine's parts, side by side (no heading of its own)."""
    _ = _gettext(lang)
    roles = (
        (
            "query",
            "🔍 " + _("Query"),
            _("What you type into the search bar: *funny cat videos*.\n\nIn a transformer: the token that is asking."),
        ),
        (
            "keys",
            "🔑 " + _("Keys"),
            _(
                "What the search engine compares your query with: the **video titles**.\n\n"
                "In a transformer: every token's key vector."
            ),
        ),
        (
            "values",
            "📦 " + _("Values"),
            _("What you get back: the **videos** themselves.\n\nIn a transformer: every token's value vector."),
        ),
    )
    columns = tuple(
        (Text(name, style="subheader", key=f"{key}_name"), Text(text, key=f"{key}_text")) for key, name, text in roles
    )
    return LessonSection("", blocks=(Columns(columns, border=True, key="roles_columns"),), key="roles")


def three_ways_section(lang: str = "en") -> LessonSection:
    """Dictionary, search engine, attention, and the temperature between them."""
    _ = _gettext(lang)
    ways = "\n".join(
        (
            "1. "
            + _(
                "**A dictionary** answers only an exact key. One weight is 1, all the others are 0. "
                "*Cute kittens* ≠ *funny cats*: miss."
            ),
            "2. " + _("**A search engine (top-k)** scores every title, keeps the k best and throws the rest away."),
            "3. "
            + _(
                "**Attention** keeps *every* title, with a weight: `w = softmax(q·k / T)`. The answer is the "
                "weighted average of all values: mostly the best matches, a little of everything else."
            ),
        )
    )
    blocks = (
        Text(ways, key="three_ways_list"),
        Text(
            _(
                "The temperature T is the dial between them: T → 0 gives the dictionary's single winner; "
                "large T gives every key the same weight (average pooling)."
            ),
            style="info",
            key="three_ways_temperature",
        ),
    )
    return LessonSection(_("Three ways to answer"), blocks=blocks, key="three_ways")


def three_vectors_section(lang: str = "en") -> LessonSection:
    """Why a query separate from its key."""
    _ = _gettext(lang)
    text = _(
        "If a word used the same vector to ask and to be found, relevance would be **symmetric**: *Riley → dog* "
        "would be as strong as *dog → Riley*. Real relations are not symmetric, so a transformer gives every "
        "token a separate **query** (what I look for) and **key** (what I offer). Our multilingual encoder does "
        "the same thing in miniature: E5 encodes a query with `query:` and a title with `passage:`."
    )
    return LessonSection(
        _("Why three vectors, not one?"), blocks=(Text(text, key="three_vectors_text"),), key="three_vectors"
    )


def analogy_lesson(lang: str = "en") -> Lesson:
    """The whole page as one document (it has no settings, so no facts).

    Args:
        lang: the language of every text.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.
    """
    from retrieval_attention.export.specs import made_with, signs

    return Lesson(
        title=analogy_title(lang),
        facts=(),
        sections=(roles_section(lang), three_ways_section(lang), three_vectors_section(lang)),
        lang=lang,
        footer=made_with(lang),
        **signs(lang),
    )
