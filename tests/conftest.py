"""Shared fixtures: a deterministic fake encoder and tiny corpus for the maths, and the real
default model over the bundled corpus for end-to-end tests (loaded once per session)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import retrieval_attention as ra
from retrieval_attention.infra.threads import ThreadSettings, configure_threads, current_threads

ARTIFACTS = Path(__file__).parent / "artifacts"


class FakeEncoder:
    """Bag of hashed words -> unit vector. Deterministic; texts sharing words are close."""

    name = "fake-bow"
    cache_id = "fake-bow-v1"
    dim = 32
    max_seq_length = 0

    def __init__(self) -> None:
        self.calls = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in ra.normalize_key(text).split():
            h = int.from_bytes(hashlib.sha256(w.encode()).digest()[:8], "little")
            rng = np.random.default_rng(h)
            v += rng.standard_normal(self.dim).astype(np.float32)
        n = np.linalg.norm(v)
        return v / n if n > 0 else v

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return np.stack([self._vec(t) for t in texts])

    def encode_documents(self, texts, batch_size=64, progress=None) -> np.ndarray:
        self.calls += 1
        out = np.stack([self._vec(t) for t in texts])
        if progress:
            progress(len(texts), len(texts))
        return out


TINY_CSV = """id,title,channel,category,duration_s,views,upload_date,description,language
a1,Funny cats compilation,Cat TV,pets,300,1000000,2024-01-01,Cats being silly,en
a2,Hilarious kitten moments,Cat TV,pets,240,50000,2024-02-01,Kittens doing funny things,en
a3,Learn Python in one hour,Code Lab,programming,3600,200000,2023-05-05,A Python crash course,en
a4,Python snake in the wild,Wild World,nature,600,30000,2022-03-03,A python hunting,en
a5,Homemade pizza dough,Kitchen,cooking,900,,2021-07-07,Pizza from scratch,en
"""


#: Every test process computes with the app's own thread settings from its first test on (numpy's BLAS
#: and FAISS on one thread each, as ``configure_threads("interactive")`` sets them when the app loads a
#: store). OpenBLAS splits a float32 product differently with one thread than with two, so a number a
#: page computed (under the app's settings) and the same number a test recomputes would otherwise
#: differ in the last bits whenever the page's value was cached under one setting and the test's under
#: another, and which one came first depends on the order tests run in (pytest-xdist, random order).
#: One thread per pool is also what two parallel test workers on two cores want.
configure_threads(ThreadSettings(torch=0, faiss=1, blas=1))


@pytest.fixture(autouse=True)
def _no_state_leaks_into_the_next_test():
    """Every test starts with the thread pools and environment the session started with.

    The app (``configure_threads("interactive")``, run by every AppTest) and a few tests change
    process-wide settings: numpy's BLAS thread count, torch's, FAISS's, environment variables.
    OpenBLAS splits a matrix product differently with one thread than with two, so float32 sums
    come out in another order and differ in the last bits; a session-scoped cache (the inspector's
    traces) filled before such a test then disagrees with a value computed after it. Putting the
    settings back after each test makes a test's numbers independent of what ran before it.
    """
    threads, environ = current_threads(), dict(os.environ)
    yield
    if current_threads() != threads:
        configure_threads(ThreadSettings(**{pool: max(0, n) for pool, n in threads.items()}))
    if dict(os.environ) != environ:
        os.environ.clear()
        os.environ.update(environ)


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def tiny_corpus() -> ra.Corpus:
    return ra.parse_corpus(TINY_CSV.encode(), "tiny.csv")


@pytest.fixture
def tiny_store(tiny_corpus, fake_encoder, tmp_path) -> ra.KeyValueStore:
    return ra.KeyValueStore.from_corpus(tiny_corpus, fake_encoder, cache_dir=tmp_path)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def corpus() -> ra.Corpus:
    return ra.load_corpus()


@pytest.fixture(scope="session")
def store(corpus, cache_dir) -> ra.KeyValueStore:
    """The real default model over the bundled corpus."""
    return ra.KeyValueStore.from_corpus(corpus, None, cache_dir=cache_dir)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory) -> tuple[Path, Path]:
    """The project built as a wheel and installed into a folder of its own, once per test run.

    Returns:
        (the wheel file, the folder it is installed in: put it on PYTHONPATH).
    """
    import subprocess
    import sys

    tmp = tmp_path_factory.mktemp("wheel")
    wheels, site = tmp / "wheels", tmp / "site"
    root = Path(__file__).resolve().parents[1]
    build = subprocess.run(  # -v: the build backend's warnings reach the log (tests/test_packaging.py reads it)
        [sys.executable, "-m", "pip", "wheel", str(root), "--no-deps", "--no-build-isolation", "-v", "-w", str(wheels)],
        capture_output=True,
        text=True,
        cwd=tmp,
    )
    assert build.returncode == 0, build.stderr
    (tmp / "build.log").write_text(build.stdout + build.stderr, encoding="utf-8")
    (wheel,) = wheels.glob("retrieval_attention-*.whl")
    inst = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
    )
    assert inst.returncode == 0, inst.stderr
    return wheel, site


@pytest.fixture
def clicks(monkeypatch) -> dict:
    """The callable each deferred download registers (what Streamlit runs on a click), by file name.

    For AppTest: a download button whose data is a callable is built only on a click, so a test
    takes the callable from here and runs it as Streamlit would (tests/test_app_export.py, test_app_views.py).
    """
    from streamlit.runtime.media_file_manager import MediaFileManager

    seen: dict = {}
    real = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        seen[file_name] = (data_callable, mimetype)
        return real(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return seen
