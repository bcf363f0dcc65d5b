"""The maths room: pure numpy, no I/O, no model, no index.

Attention and its summaries (``attention``), top-k attention and its error identities (``topk``),
scoring functions, their cost and the additive scorer's training (``scoring``, ``scoring_cost``,
``scoring_fit``), smoothing as attention
(``smoothing``), and every parameter check (``validate``). Import the submodule you need; this
file imports nothing, so ``import retrieval_attention.core.validate`` stays cheap.
"""
