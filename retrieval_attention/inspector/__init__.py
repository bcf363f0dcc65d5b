"""Inside a real transformer: all-MiniLM-L6-v2's own attention heads, read and recomputed by our numpy code.

``model`` loads the model and recomputes its heads; ``results`` holds what comes back and the helpers.
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
