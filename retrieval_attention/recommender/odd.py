"""Odd picks, measured: a recommendation whose topic differs from the watched video that explains it.

An attention recommendation is explained by the history item it attends to most
(:class:`~retrieval_attention.recommender.Explanation`). When that item's category differs from
the pick's (a *nature* video about pythons because of a *programming* video about Python), the pick
looks odd. The reason is usually visible in the text: the keys are title embeddings and the values
title + description embeddings, and a text encoder places two titles that share a word close
together even when the word means two things (Python the snake and the language, bass the fish and
the instrument, Apple the fruit and the company). :func:`cross_topic_picks` finds these picks and
the words the two titles share, so a page can say which word did it, or that there is none.

Words: the titles are case-folded and cut into runs of letters and digits; a word of at most two
characters and a few function words in the corpus's three languages are left out; a trailing "s"
is dropped from words of four or more letters, so "Pythons" matches "Python". A run of Chinese or
Japanese characters has no spaces, so it gives its two-character pieces (苹果 from 自制苹果派教程).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval_attention.corpus import Corpus
from retrieval_attention.recommender.ranking import Recommendations

__all__ = [
    "CrossTopicPick",
    "cross_topic_picks",
    "shared_words",
]

#: Function words of English and Spanish left out of the shared words (they carry no topic).
STOP_WORDS = frozenset(
    "the and for with how why what your you from into that this are was its our out one all not "
    "del los las una por para con que como más sin sus".split()
)
_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+")


def _words(text: str) -> dict[str, str]:
    """Matching form -> the first way the title writes it."""
    out: dict[str, str] = {}
    for run in _CJK.findall(text):
        for i in range(max(len(run) - 1, 0)):
            out.setdefault(run[i : i + 2], run[i : i + 2])
    for raw in _WORD.findall(_CJK.sub(" ", text)):
        w = raw.casefold()
        if len(w) <= 2 or w in STOP_WORDS or w.isdigit():
            continue
        out.setdefault(w[:-1] if len(w) >= 4 and w.endswith("s") else w, raw)
    return out


def shared_words(a: str, b: str) -> tuple[str, ...]:
    """The words two titles share (as ``a`` writes them), in ``a``'s order.

    Example:
        >>> shared_words("How Pythons Swallow Prey Whole", "Learn Python in One Hour")
        ('Pythons',)
        >>> shared_words("自制苹果派教程", "苹果发布新款手机")
        ('苹果',)
    """
    wb = _words(b)
    return tuple(shown for key, shown in _words(a).items() if key in wb)


@dataclass(frozen=True)
class CrossTopicPick:
    """An attention pick whose category differs from the watched video that explains it."""

    video_id: str  # the recommended video
    title: str
    category: str
    because_id: str  # the history item with the largest weight
    because_title: str
    because_category: str
    weight: float  # that item's attention weight
    similarity: float  # cosine of the two titles' embeddings (key · query)
    shared: tuple[str, ...]  # words both titles contain (see the module docstring); may be empty


def cross_topic_picks(rec: Recommendations, corpus: Corpus) -> tuple[CrossTopicPick, ...]:
    """The attention picks explained by a watched video of another category, best pick first.

    Args:
        rec: an ``attention`` ranking from :func:`~retrieval_attention.recommender.recommend`
            (the other methods have no explanations, so they give ()).
        corpus: the corpus the ranking came from.

    Returns:
        One :class:`CrossTopicPick` per such pick, with the words the two titles share.

    Example:
        >>> import retrieval_attention as ra
        >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
        >>> ana = {p.id: p for p in ra.load_histories()}["p3_traveler_musician_investor"]
        >>> odd = cross_topic_picks(ra.recommend(store, list(ana.history), k=10), store.corpus)
        >>> any("Bass" in p.shared for p in odd)
        True
    """
    out = []
    for e in rec.explanations:
        if e.because_id is None:
            continue
        pick, because = corpus.by_id(e.video_id), corpus.by_id(e.because_id)
        if pick.category == because.category:
            continue
        out.append(
            CrossTopicPick(
                video_id=pick.id, title=pick.title, category=pick.category, because_id=because.id,
                because_title=because.title, because_category=because.category, weight=float(e.weight),
                similarity=float(e.similarity), shared=shared_words(pick.title, because.title),
            )
        )  # fmt: skip
    return tuple(out)
