"""The source articles' own worked examples, on real vectors (issue 16).

``riley`` is article 004's self-attention in three parts (values only, keys only, queries against
keys) on all-MiniLM-L6-v2's q, k, v; ``alignment`` is articles 000/001's translation attention
(我爱吃苹果 aligned with "I love eating apples") on the multilingual encoder's word vectors. One
token's steps (article 001), words, projections and positions live with the model, in
:mod:`retrieval_attention.inspector`.
"""

from retrieval_attention.lessons.alignment import ALIGN_EN, ALIGN_ES, ALIGN_ZH, MAX_WORDS, Alignment, align, split_words
from retrieval_attention.lessons.riley import (
    ARTICLE_RATIO,
    RILEY_EN,
    RILEY_ES,
    RileyPair,
    RileyParts,
    mix_values,
    normalise_by_sum,
    riley_parts,
    values_mix,
)

__all__ = [
    "ALIGN_EN",
    "ALIGN_ES",
    "ALIGN_ZH",
    "ARTICLE_RATIO",
    "MAX_WORDS",
    "RILEY_EN",
    "RILEY_ES",
    "Alignment",
    "RileyPair",
    "RileyParts",
    "align",
    "mix_values",
    "normalise_by_sum",
    "riley_parts",
    "split_words",
    "values_mix",
]
