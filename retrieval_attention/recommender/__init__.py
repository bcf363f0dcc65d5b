"""Recommender mode: target attention over a watch history (Deep Interest Network, Alibaba 2018).

In search the query is what the user typed. In a recommender the query is the *candidate item*,
and the keys and values are the user's watch history: the user's interest is not one fixed vector
but depends on what is being recommended. A cooking video looks at the cooking part of a mixed
history, a Python tutorial at the programming part.

Vectors used (one choice, made once, for every function here):

* key of video i: its title embedding ``store.K[i]`` (unit, d);
* value of video i: its title + description embedding ``store.value_embeddings[i]`` (unit, d),
  so the interest vector lives in the same embedding space as the keys;
* query: the target's key ``store.K[target]``.

For one target with key q and a history with keys K (H, d) and values V (H, d)::

    s_i      = q·k_i                                  raw score (cosine), (H,)
    decay_i  = 0.5 ** (age_i / half_life)             recency, age 0 = most recent; 1 when off
    w_i      = softmax(s / T + log decay)_i           = relevance_i · decay_i / Σ_j relevance_j · decay_j
    interest = Σ_i w_i v_i                            target-specific interest vector, (d,)
    score    = interest · q                           how well the target fits that interest

``normalize=False`` is the DIN paper's choice: no softmax, ``w_i = s_i · decay_i`` (the temperature
is not used). DIN keeps raw weights so that the size of the interest vector says how *strongly*
the history supports the target (five cat videos weigh more than one); the weights then do not sum
to 1, can be negative for unrelated items, and grow with the history's length.

Temperature: scores are cosines of unit vectors, which differ by a few tenths at most, so the
temperature decides what the bars look like. Measured over the 10 bundled personas and their top-10
attention recommendations (all-MiniLM-L6-v2): at T = 1 (the issue's first suggestion) the weights
are almost uniform and attention *is* the mean baseline; at the package's retrieval default
T = 0.05 the median largest weight is 0.80 (about 1.5 effective items), so attention looks like
"nearest watched item"; at :data:`RECOMMENDER_TEMPERATURE` = 0.1 it is 0.45 (about 3.4 effective
items): one item leads and its neighbours still show. That is MiniLM's default here, chosen for
readable weights, not tuned on the leave-last-out numbers. The default follows the encoder
(:attr:`KeyValueStore.temperature_info`, twice its retrieval T): multilingual-e5-small's cosines sit
closer together, and at T = 0.1 its median largest weight is 0.10 (11.9 effective items, the mean
baseline again); at its own 0.02 it is 0.39 (4.4 effective items), as readable as MiniLM at 0.1.

Masking: a key equal to the query (the target itself sitting in the history, or a seen item ranked
with ``exclude_seen=False``) gets weight 0, exactly like a masked key in attention, because it would
otherwise explain itself with cosine 1. If nothing is left to attend to, the weights, the interest
and the score are all 0 (never NaN). Empty histories and unknown ids raise :class:`RecommenderError`.

Shapes: H history items, C candidates, d embedding size; the cross-attention matrix is (C, H).
"""

from __future__ import annotations

from retrieval_attention.recommender.attention import (
    METHODS,
    RECOMMENDER_TEMPERATURE,
    CrossAttention,
    Method,
    RecommenderError,
    TargetAttention,
    cross_attention_matrix,
    history_attention,
    recency_decay,
    target_attention,
)
from retrieval_attention.recommender.odd import CrossTopicPick, cross_topic_picks, shared_words
from retrieval_attention.recommender.ranking import (
    Explanation,
    LeaveLastOut,
    MethodScore,
    Recommendations,
    evaluate_leave_last_out,
    recommend,
)

__all__ = [
    "METHODS",
    "RECOMMENDER_TEMPERATURE",
    "CrossAttention",
    "CrossTopicPick",
    "Explanation",
    "LeaveLastOut",
    "Method",
    "MethodScore",
    "Recommendations",
    "RecommenderError",
    "TargetAttention",
    "cross_attention_matrix",
    "cross_topic_picks",
    "evaluate_leave_last_out",
    "history_attention",
    "recency_decay",
    "recommend",
    "shared_words",
    "target_attention",
]
