"""The main page's document for a script or the CLI: :func:`retrieval_lesson`, and :func:`output_mix`.

:func:`retrieval_lesson` is the keyword-argument front of the main page's builder
(:func:`retrieval_attention.views.retrieval.retrieval_document`): it returns the very document the
app draws and "Save this view" writes, in the given language. :func:`output_mix` reads a blended
output back in one line (the recommender's lesson uses it). The recommender's lesson is
:func:`retrieval_attention.export.recommender.recommender_lesson`; the model page's is
:func:`retrieval_attention.views.model.model_lesson`.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.export.document import Lesson

if TYPE_CHECKING:
    from retrieval_attention.store import KeyValueStore

__all__ = ["output_mix", "retrieval_lesson"]

#: Decimals of the recommender lesson's tables: q·k (cosine) and the weights.
SCORE_DECIMALS, WEIGHT_DECIMALS = 3, 4


def output_mix(store: KeyValueStore, output: NDArray[np.floating], lang: str = "en") -> tuple[str, str]:
    """An output Σ wᵢ vᵢ read back: its category mix (top three) and the video nearest to it.

    Args:
        store: the store whose values were blended.
        output: (dv,) the blend, e.g. ``RetrievalResult.output``.
        lang: the language of the category names and percentages.

    Returns:
        ``(mix, nearest title)``; ``("—", "—")`` for an output of zeros (a miss: no weight anywhere).
    """
    from retrieval_attention.i18n import category_name, fmt_list, fmt_percent

    if not np.any(output):
        return "—", "—"
    s = store.describe_output(output)
    parts = [
        f"{category_name(c, lang)} {fmt_percent(x, lang)}" for c, x in list(s.category_mix.items())[:3] if x >= 0.005
    ]
    nearest = store.corpus.by_id(s.nearest[0][0]).title if s.nearest else "—"
    return fmt_list(parts, lang), nearest


def retrieval_lesson(
    store: KeyValueStore,
    query: str,
    *,
    k: int = 5,
    temperature: float | None = None,
    scale: str | float = "none",
    lang: str = "en",
    when: datetime.date | datetime.datetime | None = None,
) -> Lesson:
    """One query's three retrievals: the main page's document (the same the app draws and saves).

    Args:
        store: the key-value store (model and corpus).
        query: the query text.
        k: keys kept by top-k search.
        temperature: the softmax temperature T > 0 of top-k and soft attention; None: the encoder's own.
        scale: ``"none"``, ``"sqrt_d"`` or a number multiplying q·k before dividing by T.
        lang: ``"en"``, ``"zh"`` or ``"es"``: every text, category name and number sign.
        when: the date the lesson names; today for None.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson`; write it with
        :func:`~retrieval_attention.export.files.save_html`.

    Raises:
        QueryError: an empty or unusable query.
        InvalidParameterError: a bad k, temperature or scale.

    Example:
        >>> import retrieval_attention as ra
        >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
        >>> lesson = retrieval_lesson(store, "funny cat videos", k=3)
        >>> [s.heading for s in lesson.sections][1:3]
        ['The continuum: one knob from lookup to average', 'The arithmetic, with the real numbers']
    """
    from retrieval_attention.export.specs import lesson_date
    from retrieval_attention.views.retrieval import RetrievalSettings, retrieval_document

    day = lesson_date(when)
    settings = RetrievalSettings(query, k, temperature, scale, lang=lang, when=day)
    return retrieval_document(store, settings)
