"""The values of the key-value store: what a value vector holds and how an output is read back.

Value vectors (one row of V per video) are laid out so that a weighted sum reads directly::

    [ one-hot category (C) | duration in minutes | log10(views + 1) | embedding of title + description (d) ]

so the output ``weights @ V`` has as its first C numbers the category mix, the next two the
weighted mean duration and (geometric-style) mean views, and the last d a vector that can be
decoded back to the nearest videos. Unknown durations / views are filled with the corpus mean of
the known ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.core.topk import topk_order
from retrieval_attention.corpus import Corpus

__all__ = ["ValueLayout", "ValueSummary", "build_values", "describe_output"]


@dataclass(frozen=True)
class ValueLayout:
    """Where each part of a value vector lives."""

    categories: tuple[str, ...]  # order of the one-hot block
    dim: int  # d of the embedding block

    @property
    def category_slice(self) -> slice:
        return slice(0, len(self.categories))

    @property
    def duration_index(self) -> int:
        return len(self.categories)

    @property
    def log_views_index(self) -> int:
        return len(self.categories) + 1

    @property
    def embedding_slice(self) -> slice:
        start = len(self.categories) + 2
        return slice(start, start + self.dim)

    @property
    def size(self) -> int:
        return len(self.categories) + 2 + self.dim


@dataclass(frozen=True)
class ValueSummary:
    """An output vector read back as a student would: category mix, payload, nearest videos."""

    category_mix: dict[str, float]  # category -> share of the weight, sums to 1
    duration_s: float | None  # weighted mean duration in seconds (None if the corpus has none)
    views: float | None  # 10 ** (weighted mean of log10(views + 1)) - 1
    nearest: list[tuple[str, float]]  # (video id, cosine) of the videos closest to the output embedding


def build_values(corpus: Corpus, layout: ValueLayout, value_embeddings: NDArray[np.float32]) -> NDArray[np.float32]:
    """The value matrix V (n, dv) of a corpus, laid out as ``layout`` says.

    Args:
        corpus: the records, one value per video.
        layout: where each part lives (categories in order, embedding size d).
        value_embeddings: (n, d) unit embeddings of title + description.

    Returns:
        V, shape (n, layout.size), float32.
    """
    videos = corpus.videos
    V = np.zeros((len(videos), layout.size), dtype=np.float32)  # (n, dv)
    cat_pos = {c: j for j, c in enumerate(layout.categories)}
    V[np.arange(len(videos)), [cat_pos[v.category] for v in videos]] = 1.0
    V[:, layout.duration_index] = _fill_mean([None if v.duration_s is None else v.duration_s / 60 for v in videos])
    V[:, layout.log_views_index] = _fill_mean([None if v.views is None else math.log10(v.views + 1) for v in videos])
    V[:, layout.embedding_slice] = value_embeddings
    return V


def describe_output(
    output: NDArray[np.floating],
    layout: ValueLayout,
    value_embeddings: NDArray[np.float32],
    corpus: Corpus,
    nearest: int = 3,
) -> ValueSummary:
    """Read an output vector (a blend of values) back into category mix, payload and videos.

    Args:
        output: (dv,) a weighted sum of rows of V.
        layout: the layout V was built with.
        value_embeddings: (n, d) the value embeddings, to find the videos nearest the blend.
        corpus: the records, for ids and for which numeric fields are known.
        nearest: how many nearest videos to list.

    Returns:
        A :class:`ValueSummary`; an all-zero output (a dictionary miss) has an empty mix and no payload.
    """
    mix = output[layout.category_slice]
    total = float(mix.sum())
    shares = {c: float(x) / total for c, x in zip(layout.categories, mix)} if total > 0 else {}
    emb = np.asarray(output[layout.embedding_slice], dtype=np.float32)
    norm = float(np.linalg.norm(emb))
    near: list[tuple[str, float]] = []
    if norm > 0:
        cos = value_embeddings @ (emb / norm)  # (n,)
        top = topk_order(cos)[:nearest]
        near = [(corpus.videos[i].id, float(cos[i])) for i in top]
    dur = float(output[layout.duration_index]) * 60 if corpus.has_numeric("duration_s") and total > 0 else None
    views = 10 ** float(output[layout.log_views_index]) - 1 if corpus.has_numeric("views") and total > 0 else None
    shares = dict(sorted(shares.items(), key=lambda kv: -kv[1]))
    return ValueSummary(category_mix=shares, duration_s=dur, views=views, nearest=near)


def _fill_mean(values: Sequence[float | None]) -> NDArray[np.float32]:
    known = [v for v in values if v is not None]
    mean = float(np.mean(known)) if known else 0.0
    return np.array([mean if v is None else v for v in values], dtype=np.float32)
