"""What a page says when the library refuses its input: one wording, for the app and the saved file.

A page (or a builder) that catches the library's error shows :func:`query_problem`'s text in an info
box; the library's own reason follows, escaped, so a query is never read as markdown or HTML.

Example:
    >>> from retrieval_attention.errors import QueryError
    >>> query_problem(QueryError("the query is empty"))
    'This query cannot be used: the query is empty'
"""

from __future__ import annotations

from retrieval_attention.errors import QueryError, RetrievalAttentionError
from retrieval_attention.export.markup import md

__all__ = ["query_problem"]


def query_problem(exc: RetrievalAttentionError, lang: str = "en") -> str:
    """The sentence for a query the library refused, in our markdown.

    Args:
        exc: what the library raised.
        lang: the language of the sentence.

    Returns:
        "This query cannot be used: <reason>" for a :class:`~retrieval_attention.errors.QueryError`;
        the reason alone for any other refusal. The reason is escaped (:func:`~retrieval_attention.export.markup.md`).
    """
    from retrieval_attention.i18n import load_translations

    if not isinstance(exc, QueryError):
        return md(str(exc))
    _ = load_translations(lang).gettext
    return _("This query cannot be used: {detail}").format(detail=md(str(exc)))
