"""The source articles' own worked examples, on real vectors (issue 16).

``riley`` is article 004's self-attention in three parts (values only, keys only, queries against
keys) on all-MiniLM-L6-v2's q, k, v; ``alignment`` is articles 000/001's translation attention
(我爱吃苹果 aligned with "I love eating apples") on the multilingual encoder's word vectors;
``worked_example`` is article 001's hand calculation (112 and 96, ÷ 8, softmax 0.88 / 0.12). One
token's steps (article 001), words, projections and positions live with the model, in
:mod:`retrieval_attention.inspector`.
"""

from retrieval_attention.articles.alignment import (
    ALIGN_EN,
    ALIGN_ES,
    ALIGN_ZH,
    MAX_WORDS,
    Alignment,
    align,
    split_words,
)
from retrieval_attention.articles.riley import (
    ARTICLE_RATIO,
    RILEY_EN,
    RILEY_ES,
    RileyPair,
    RileyParts,
    RileyUpdate,
    mix_values,
    normalise_by_sum,
    pairwise_update,
    relevance_update,
    riley_parts,
    unit_rows,
    values_mix,
)
from retrieval_attention.articles.worked_example import (
    ARTICLE_DK,
    ARTICLE_SCORES,
    ARTICLE_WORDS,
    EXAMPLE_VALUES,
    MAX_WORDS_BY_HAND,
    ScoreSteps,
    score_steps,
)

__all__ = [
    "ALIGN_EN",
    "ALIGN_ES",
    "ALIGN_ZH",
    "ARTICLE_DK",
    "ARTICLE_RATIO",
    "ARTICLE_SCORES",
    "ARTICLE_WORDS",
    "EXAMPLE_VALUES",
    "MAX_WORDS",
    "MAX_WORDS_BY_HAND",
    "RILEY_EN",
    "RILEY_ES",
    "Alignment",
    "RileyPair",
    "RileyParts",
    "RileyUpdate",
    "ScoreSteps",
    "align",
    "mix_values",
    "normalise_by_sum",
    "pairwise_update",
    "relevance_update",
    "riley_parts",
    "score_steps",
    "split_words",
    "unit_rows",
    "values_mix",
]
