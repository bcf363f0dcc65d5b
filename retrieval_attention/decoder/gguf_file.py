"""Reading a GGUF file: its metadata as Python values and its tensors dequantised to float32.

A GGUF file (llama.cpp's format) holds a model's settings and tokenizer as key-value metadata
(``llama.block_count``, ``tokenizer.ggml.tokens``, ...) and its weights as quantised tensors
(``blk.0.attn_q.weight`` in Q4_1 blocks of 32 numbers sharing a scale and a minimum, ...).
The ``gguf`` package (llama.cpp's own reader, pure Python + numpy) parses the file and
dequantises each block; this is the only module that imports it.

Shapes come back in numpy order, as PyTorch stores them: a projection from ``in`` to ``out``
numbers is ``(out, in)`` (GGUF lists the dimensions the other way round).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.errors import ModelNotFoundError

__all__ = ["GGUFContents", "read_gguf"]

log = logging.getLogger(__name__)

#: Called as progress(done, total) while tensors are dequantised.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, eq=False)
class GGUFContents:
    """Everything a decoder needs from one GGUF file."""

    metadata: dict[str, object]  # key -> str, int, float, bool or a list of them (the tokenizer's tokens, ...)
    tensors: dict[str, NDArray[np.float32]]  # GGUF tensor name -> float32 array in numpy (out, in) order


def _value(field) -> object:
    """A metadata field as a plain Python value (numpy scalars become int/float/bool)."""
    v = field.contents()
    if isinstance(v, list):
        return [x.item() if isinstance(x, np.generic) else x for x in v]
    return v.item() if isinstance(v, np.generic) else v


def read_gguf(path: str | Path, progress: Progress | None = None) -> GGUFContents:
    """Read a GGUF file's metadata and dequantise every tensor to float32.

    Args:
        path: a ``.gguf`` file.
        progress: called as ``progress(done, total)`` after each tensor.

    Returns:
        The metadata and the tensors (numpy ``(out, in)`` order, C-contiguous float32).

    Raises:
        ModelNotFoundError: the file is missing or is not a GGUF file the reader can parse.
    """
    from gguf import GGUFReader  # only here: the package is needed for a first load only
    from gguf.quants import dequantize

    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"no GGUF file at {str(path)!r}")
    try:
        reader = GGUFReader(path, "r")
    except (ValueError, OSError, KeyError) as exc:
        raise ModelNotFoundError(f"{str(path)!r} is not a GGUF file this reader can parse: {exc}") from None
    metadata = {name: _value(field) for name, field in reader.fields.items() if not name.startswith("GGUF.")}
    tensors: dict[str, NDArray[np.float32]] = {}
    total = len(reader.tensors)
    for i, t in enumerate(reader.tensors):
        shape = tuple(int(n) for n in reversed(t.shape.tolist()))  # GGUF lists (in, out); numpy wants (out, in)
        a = dequantize(t.data, t.tensor_type).reshape(shape)
        tensors[t.name] = np.ascontiguousarray(a, dtype=np.float32)
        if progress is not None:
            progress(i + 1, total)
    log.info("read %s: %d tensors, %d metadata keys", path.name, total, len(metadata))
    return GGUFContents(metadata=metadata, tensors=tensors)
