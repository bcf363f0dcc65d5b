"""Seeing the projections: a 2-D PCA of a sentence's x, and of one head's q and k (articles 002, 004).

Each token enters a layer as one vector x (d = 384 numbers). W_Q and W_K turn the same x into a
query and a key of hd = 32 numbers for each head, and they send the same word to different
places: what a word looks for is not what it offers. The picture is a PCA of our own (numpy SVD,
:func:`pca_2d`):

* x on its own axes (it lives in R^384, q and k in R^32, so they cannot share axes);
* q and k of one head in ONE PCA fitted on both together (they share R^32 and are compared by
  q·k there), so the distance between ``q_i`` and ``k_i`` is the head's own doing.

The value v is a third projection (W_V): what a token returns once matched, which need not look
like what it is matched on, so the head keeps it apart from k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from retrieval_attention.core.validate import check_index
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.inspector.model import TransformerInspector
from retrieval_attention.inspector.results import F32, _frozen
from retrieval_attention.inspector.walkthrough import check_model_sentence

__all__ = [
    "PCA2D",
    "ProjectionPicture",
    "pca_2d",
    "projection_picture",
]


@dataclass(frozen=True, eq=False)
class PCA2D:
    """The first two principal components of n points in R^e."""

    coords: F32  # (n, 2) the points on the two components (centred)
    components: F32  # (2, e) unit directions; a row is 0 when the points span fewer dimensions
    mean: F32  # (e,) the centre that was subtracted
    explained: F32  # (2,) share of the total variance along each component, in [0, 1]


def pca_2d(X: ArrayLike) -> PCA2D:
    """PCA to two dimensions by SVD of the centred points: ``X − mean = U S Vᵀ``, coords = U S.

    Each component's sign is fixed so its largest loading is positive (the same points always
    give the same picture).

    Args:
        X: (n, e) points, n >= 1, e >= 1, finite.

    Returns:
        PCA2D; with fewer than two directions of spread the missing coordinates are 0.

    Raises:
        InvalidParameterError: not a finite (n, e) array with n, e >= 1.

    Example:
        >>> p = pca_2d([[0.0, 0.0, 1.0], [2.0, 0.0, 1.0], [4.0, 0.0, 1.0]])
        >>> p.coords[:, 0].round(3), p.explained.round(3)
        (array([-2.,  0.,  2.], dtype=float32), array([1., 0.], dtype=float32))
    """
    A = np.asarray(X, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] < 1 or A.shape[1] < 1 or not np.isfinite(A).all():
        raise InvalidParameterError(f"PCA needs a finite (n, e) array with n, e >= 1, got shape {A.shape}")
    mean = A.mean(axis=0)  # (e,)
    C = A - mean  # (n, e)
    _, S, Vt = np.linalg.svd(C, full_matrices=False)  # S (r,), Vt (r, e)
    comps = np.zeros((2, A.shape[1]))
    k = min(2, Vt.shape[0])
    comps[:k] = Vt[:k]
    tol = max(S.max(initial=0.0) * max(C.shape) * np.finfo(float).eps, 1e-300)
    spread = np.zeros(2)
    spread[:k] = S[:k]
    comps[spread <= tol] = 0.0  # no spread along it: no direction
    for row in comps:
        i = int(np.argmax(np.abs(row)))
        if row[i] < 0:
            row *= -1.0
    total = float((S**2).sum())
    explained = (spread**2 / total) if total > 0 else np.zeros(2)
    return PCA2D(
        coords=_frozen(C @ comps.T), components=_frozen(comps), mean=_frozen(mean), explained=_frozen(explained)
    )


@dataclass(frozen=True, eq=False)
class ProjectionPicture:
    """One sentence's x, and one head's q and k, in two dimensions."""

    layer: int  # layer index, 0-based
    head: int  # head index, 0-based
    tokens: tuple[str, ...]  # T tokens with [CLS] and [SEP]
    x_2d: F32  # (T, 2) the hidden states entering the layer, on their own two components
    x_explained: F32  # (2,) variance share of x's two components
    q_2d: F32  # (T, 2) the head's queries, on the components fitted to q and k together
    k_2d: F32  # (T, 2) the head's keys, same axes as q_2d
    qk_explained: F32  # (2,) variance share of those components (over the 2T points)
    self_cosine: F32  # (T,) cos(q_i, k_i) in R^hd: 1 would mean W_Q and W_K agree on token i


def projection_picture(inspector: TransformerInspector, sentence: str, layer: int, head: int) -> ProjectionPicture:
    """x, q and k of every token of ``sentence`` for one head, each set in two dimensions.

    Args:
        inspector: the model.
        sentence: one sentence (checked by :func:`~retrieval_attention.inspector.walkthrough.check_model_sentence`).
        layer: 0..n_layers-1.
        head: 0..n_heads-1.

    Returns:
        ProjectionPicture: x on its own PCA, q and k on one shared PCA.

    Raises:
        QueryError / UnknownTokenError: bad sentence; InvalidParameterError: layer or head out of range.

    Example:
        >>> from retrieval_attention.inspector import load_inspector
        >>> p = projection_picture(load_inspector(), "Riley never stops moving", 0, 3)
        >>> p.x_2d.shape, p.q_2d.shape, p.k_2d.shape
        ((6, 2), (6, 2), (6, 2))
    """
    tokens = check_model_sentence(inspector, sentence)
    layer = check_index(layer, inspector.n_layers, "layer")
    head = check_index(head, inspector.n_heads, "head")
    t = inspector.trace(sentence).layers[layer]
    x, q, k = t.x[0], t.q[0, head], t.k[0, head]  # (T, d), (T, hd), (T, hd)
    T = len(tokens)
    px = pca_2d(x)
    pqk = pca_2d(np.concatenate([q, k]))  # (2T, hd): one set of axes for both
    norms = np.linalg.norm(q, axis=1) * np.linalg.norm(k, axis=1)  # (T,)
    cos = np.einsum("te,te->t", q, k) / np.where(norms > 0, norms, 1.0)
    return ProjectionPicture(
        layer=layer, head=head, tokens=tokens, x_2d=px.coords, x_explained=px.explained,
        q_2d=pqk.coords[:T], k_2d=pqk.coords[T:], qk_explained=pqk.explained, self_cosine=_frozen(cos),
    )  # fmt: skip
