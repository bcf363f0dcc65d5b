"""The pages' documents by keyword, for a script, the CLI's ``--html`` or a notebook.

:func:`retrieval_lesson` (the main page) and :func:`recommender_lesson` (target attention) spell
the page's settings as keyword arguments and return the very document the app draws and "Save this
view" writes, built by the page's own builder (:mod:`~retrieval_attention.views.retrieval`,
:mod:`~retrieval_attention.views.recommender`). The model page's is
:func:`retrieval_attention.views.model.model_lesson`.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING

from retrieval_attention.export.specs import lesson_date
from retrieval_attention.views.recommender import RecommenderSettings, target_attention_lesson
from retrieval_attention.views.retrieval import RetrievalSettings, retrieval_document

if TYPE_CHECKING:
    from retrieval_attention.corpus import Persona
    from retrieval_attention.export.document import Lesson
    from retrieval_attention.store import KeyValueStore

__all__ = ["recommender_lesson", "retrieval_lesson"]


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
    day = lesson_date(when)
    settings = RetrievalSettings(query, k, temperature, scale, lang=lang, when=day)
    return retrieval_document(store, settings)


def recommender_lesson(
    store: KeyValueStore,
    history_ids: Sequence[str],
    target_id: str,
    *,
    compare_to: str | None = None,
    temperature: float | None = None,
    normalize: bool = True,
    half_life: float | None = None,
    history_name: str = "",
    history_about: str = "",
    evaluate_live: bool = False,
    personas: Sequence[Persona] | None = None,
    lang: str = "en",
    when: datetime.date | datetime.datetime | None = None,
) -> Lesson:
    """Target attention over one watch history, the recommendations three ways and leave-last-out: the page's document.

    Args:
        store: the key-value store (model and corpus).
        history_ids: watched video ids, oldest first.
        target_id: the candidate video, the query (target A).
        compare_to: a second target (B) over the same history, drawn side by side; None for one.
        temperature: T > 0 of the softmax over the history; None: the encoder's own for target attention.
        normalize: softmax weights (True) or DIN's raw q·k weights (False).
        half_life: recency half-life in videos; None switches recency off.
        history_name: whose history it is (a persona's name), shown in the facts; "" to leave it out.
        history_about: that persona's description, shown under the bars; "" for none.
        evaluate_live: leave-last-out at these settings (False: the package defaults, as the page opens).
        personas: the histories leave-last-out hides a video of; None: the bundled ones.
        lang: ``"en"``, ``"zh"`` or ``"es"``.
        when: the date the lesson names; today for None.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson`, the same the app's page draws for these settings.

    Raises:
        RecommenderError: an empty history, an unknown history or target id.
        InvalidParameterError: a bad temperature or half_life.

    Example:
        >>> import retrieval_attention as ra
        >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
        >>> lesson = recommender_lesson(store, ["v270", "v010", "v028"], "v252")
        >>> lesson.section("compare").blocks[-1].rows[0][2]
        'Funny Cats Compilation 2024'
    """
    settings = RecommenderSettings(
        history=tuple(history_ids),
        targets=(target_id,) if compare_to is None else (target_id, compare_to),
        temperature=temperature,
        normalize=normalize,
        half_life=half_life,
        who=history_name,
        about=history_about,
        live=evaluate_live,
        lang=lang,
    )
    return target_attention_lesson(store, settings, personas, when=when)
