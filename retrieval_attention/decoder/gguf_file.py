"""Reading a GGUF file: its metadata as Python values and its tensors dequantised to float32.

A GGUF file (llama.cpp's format) holds a model's settings and tokenizer as key-value metadata
(``llama.block_count``, ``tokenizer.ggml.tokens``, ...) and its weights as quantised tensors
(``blk.0.attn_q.weight`` in Q4_1 blocks of 32 numbers sharing a scale and a minimum, ...).
The header (metadata and the tensor directory) is parsed here, straight from a memory map (see
:class:`_Header` for why not with ``gguf.GGUFReader``); the ``gguf`` package (llama.cpp's own,
pure Python + numpy) dequantises each tensor's blocks. This is the only module that reads GGUF.

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

__all__ = ["GGUFContents", "read_gguf", "read_metadata"]

log = logging.getLogger(__name__)

#: Called as progress(done, total) while tensors are dequantised.
Progress = Callable[[int, int], None]
_CHUNK = 1 << 22  # numbers dequantised between two progress reports (Gemma's embedding is 168 million)


@dataclass(frozen=True, eq=False)
class GGUFContents:
    """Everything a decoder needs from one GGUF file."""

    metadata: dict[str, object]  # key -> str, int, float, bool or a list of them (the tokenizer's tokens, ...)
    tensors: dict[str, NDArray[np.float32]]  # GGUF tensor name -> float32 array in numpy (out, in) order


# GGUF's value types (gguf.GGUFValueType): numeric codes -> numpy dtype; 8 is a string, 9 an array.
_SCALARS = {0: "u1", 1: "i1", 2: "u2", 3: "i2", 4: "u4", 5: "i4", 6: "f4", 7: "?", 10: "u8", 11: "i8", 12: "f8"}
_STRING, _ARRAY = 8, 9


class _Header:
    """A GGUF file's header read straight from a memory map: the metadata and where each tensor lies.

    The ``gguf`` package's ``GGUFReader`` makes a numpy view and a Python list entry for every
    element of every metadata array before anything can be read: for Gemma 3's 262,144-token
    vocabulary (tokens, scores, types) that is most of a first load (24 s of 63 measured, far more
    on a busy machine). Here numeric arrays are one ``np.frombuffer`` each and a string array is one
    pass over its length prefixes; the values are the same Python values ``GGUFReader`` gives (the
    tests compare the two on both models). Tensors are left in the file and dequantised by ``gguf``.
    """

    def __init__(self, data: np.memmap) -> None:
        self.data = data
        self.buf = memoryview(data)
        if bytes(self.buf[:4]) != b"GGUF":
            raise ValueError("GGUF magic invalid")
        version = self._scalar(4, "u4")
        if not version & 0xFFFF:
            raise ValueError("the file is big-endian; only little-endian GGUF files are read")
        if version not in (2, 3):
            raise ValueError(f"file appears to be version {version}, which this reader cannot handle")
        self.pos = 8
        n_tensors, n_kv = self._next("u8"), self._next("u8")
        self.metadata: dict[str, object] = {}
        for _ in range(n_kv):
            key = self._string()
            if key in self.metadata:
                raise KeyError(f"duplicate metadata key {key}")
            self.metadata[key] = self._value(self._next("u4"))
        infos = []
        for _ in range(n_tensors):
            name = self._string()
            if any(name == n for n, *_ in infos):
                raise ValueError(f"duplicate tensor {name}")
            dims = [self._next("u8") for _ in range(self._next("u4"))]
            infos.append((name, dims, self._next("u4"), self._next("u8")))
        align = self.metadata.get("general.alignment", 32)
        if not isinstance(align, int) or align <= 0 or align & (align - 1):
            raise ValueError(f"invalid alignment {align!r}: must be a power of two")
        self.data_offset = -(-self.pos // align) * align
        self.tensors = infos  # (name, dims as GGUF lists them, ggml type, offset from data_offset)

    def _scalar(self, pos: int, code: str) -> int | float | bool:
        return np.frombuffer(self.buf, "<" + code, 1, pos)[0].item()

    def _next(self, code: str) -> int | float | bool:
        v = self._scalar(self.pos, code)
        self.pos += np.dtype(code).itemsize
        return v

    def _string(self) -> str:
        n = self._next("u8")
        s = str(self.buf[self.pos : self.pos + n], encoding="utf-8")
        self.pos += n
        return s

    def _value(self, kind: int) -> object:
        if kind == _STRING:
            return self._string()
        if kind in _SCALARS:
            return self._next(_SCALARS[kind])
        if kind != _ARRAY:
            raise ValueError(f"unknown GGUF value type {kind}")
        item, count = self._next("u4"), self._next("u8")
        if item in _SCALARS:
            a = np.frombuffer(self.buf, "<" + _SCALARS[item], count, self.pos)
            self.pos += a.nbytes
            return a.tolist()
        if item == _STRING:
            return self._strings(count)
        raise ValueError(f"nested arrays (metadata of type array of {item}) are not read")

    def _strings(self, count: int) -> list[str]:
        buf, pos, out = self.buf, self.pos, []
        for _ in range(count):  # each length is needed to find the next string: one cheap pass
            n = int.from_bytes(buf[pos : pos + 8], "little")
            out.append(str(buf[pos + 8 : pos + 8 + n], encoding="utf-8"))
            pos += 8 + n
        self.pos = pos
        return out


def read_metadata(path: str | Path) -> tuple[dict[str, object], list[tuple[str, list[int], int, int]], int]:
    """A GGUF file's metadata and tensor directory, without reading any weight.

    Args:
        path: a ``.gguf`` file.

    Returns:
        ``(metadata, tensors, data_offset)``: metadata key -> str, int, float, bool or a list of
        them; per tensor ``(name, dims as GGUF lists them, ggml type code, offset after data_offset)``.

    Raises:
        ModelNotFoundError: the file is missing or is not a GGUF file this reader can parse.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"no GGUF file at {str(path)!r}")
    try:
        h = _Header(np.memmap(path, mode="r"))
    except (ValueError, OSError, KeyError, IndexError, UnicodeDecodeError) as exc:
        raise ModelNotFoundError(f"{str(path)!r} is not a GGUF file this reader can parse: {exc}") from None
    return h.metadata, h.tensors, h.data_offset


def read_gguf(path: str | Path, progress: Progress | None = None) -> GGUFContents:
    """Read a GGUF file's metadata and dequantise every tensor to float32.

    Args:
        path: a ``.gguf`` file.
        progress: called as ``progress(numbers done, total numbers)`` as tensors are dequantised
            (every few million numbers, so a big embedding moves the bar too).

    Returns:
        The metadata and the tensors (numpy ``(out, in)`` order, C-contiguous float32).

    Raises:
        ModelNotFoundError: the file is missing or is not a GGUF file the reader can parse.
    """
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType
    from gguf.quants import dequantize, quant_shape_to_byte_shape

    metadata, infos, start = read_metadata(path)
    data = np.asarray(np.memmap(path, mode="r"))  # a plain view: slices of a np.memmap cost a Python hook each
    sizes = [int(np.prod(dims, dtype=np.int64)) for _, dims, _, _ in infos]
    total, done = sum(sizes), 0
    tensors: dict[str, NDArray[np.float32]] = {}
    for (name, dims, code, offset), n in zip(infos, sizes):
        try:
            kind = GGMLQuantizationType(code)
            shape = tuple(reversed(dims))  # GGUF lists (in, out); numpy wants (out, in)
            byte_shape = quant_shape_to_byte_shape(shape, kind)  # F32 / F16 too: (1 number, 4 / 2 bytes) blocks
            block, size = GGML_QUANT_SIZES[kind]
            first = start + offset
            rows = data[first : first + n * size // block].reshape(-1, byte_shape[-1])
            step = max(1, _CHUNK // shape[-1])  # blocks never cross a row: rows dequantise independently
            if rows.shape[0] <= step:
                out = np.ascontiguousarray(dequantize(rows, kind), dtype=np.float32)
            else:  # a big tensor (an embedding) in pieces, so the bar moves while it is read
                out = np.empty((rows.shape[0], shape[-1]), dtype=np.float32)
                for r in range(0, rows.shape[0], step):
                    out[r : r + step] = dequantize(rows[r : r + step], kind)
                    if progress is not None:
                        progress(done + r * shape[-1], total)
            done += n
            if progress is not None:
                progress(done, total)
        except (ValueError, KeyError, NotImplementedError) as exc:
            raise ModelNotFoundError(f"{Path(path).name}: cannot read the tensor {name!r}: {exc}") from None
        tensors[name] = out.reshape(shape)
    log.info("read %s: %d tensors, %d metadata keys", Path(path).name, total, len(metadata))
    return GGUFContents(metadata=metadata, tensors=tensors)
