"""Inside a real transformer: all-MiniLM-L6-v2's own attention heads, from our numpy forward pass.

``model`` runs our forward pass on a sentence and recomputes its heads; ``results`` holds what comes
back and the helpers; ``reference`` runs transformers' own model for the check (torch, on demand only).
"""

from retrieval_attention.inspector.model import TransformerInspector, load_inspector
from retrieval_attention.inspector.results import (
    LayerAttention,
    LayerProjections,
    ModelCheck,
    Relevance,
    asymmetry,
    causal_mask,
    most_asymmetric_pair,
)

__all__ = [
    "LayerAttention",
    "LayerProjections",
    "ModelCheck",
    "Relevance",
    "TransformerInspector",
    "asymmetry",
    "causal_mask",
    "load_inspector",
    "most_asymmetric_pair",
]
