"""The wheel carries the bundled data: load_corpus() works from an install, not only a checkout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_contains_and_loads_the_bundled_corpus(installed_wheel, tmp_path):
    _wheel, site = installed_wheel
    code = (
        "import retrieval_attention as ra, sys; c = ra.load_corpus(); h = ra.load_histories(corpus=c); "
        "print(ra.__file__); print(len(c), len(h))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(site)}
    )
    assert run.returncode == 0, run.stderr
    where, counts = run.stdout.split("\n")[:2]
    assert where.startswith(str(site)), "imported from the installed wheel, not the checkout"
    n, personas = map(int, counts.split())
    assert n >= 250 and personas >= 6


@pytest.mark.skipif(tomllib is None, reason="tomllib needs Python 3.11")
def test_every_subpackage_is_listed_for_the_wheel():
    """pyproject lists packages by hand (data/ is mapped in); a new room must not be left out of the wheel."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "retrieval_attention").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    dirs = {p for p in (ROOT / "retrieval_attention").rglob("*.py") if p.parent != ROOT / "retrieval_attention"}
    assert all((d.parent / "__init__.py").exists() for d in dirs if "locales" not in d.parts), (
        "a folder without __init__.py"
    )


@pytest.mark.slow
def test_the_wheel_builds_without_packaging_warnings(installed_wheel):
    """The configuration says what it means: data folders are package data, not unlisted packages."""
    wheel, _site = installed_wheel
    log = (wheel.parent.parent / "build.log").read_text(encoding="utf-8")
    assert "Successfully built" in log or "Created wheel" in log, log[-2000:]
    for warning in (
        "Package would be ignored",
        "absent from the `packages` configuration",
        "SetuptoolsDeprecationWarning",
    ):
        assert warning not in log, f"{warning!r} while building the wheel:\n{log[-4000:]}"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lang", "heading", "number"),
    [("en", "SOFT ATTENTION", "0."), ("zh", "软注意力", "0."), ("es", "ATENCIÓN SUAVE", "0,")],
)
def test_an_installed_wheel_answers_a_query_in_each_language(
    installed_wheel, cache_dir, tmp_path, lang, heading, number
):
    """The real models, the catalogues and the bundled corpus, all read from the install.

    The three languages share one embedding cache (zh and es both answer with the multilingual encoder).
    """
    _wheel, site = installed_wheel
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    env["RETRIEVAL_ATTENTION_CACHE"] = str(cache_dir / "wheel")
    run = subprocess.run(
        [sys.executable, "-m", "retrieval_attention", "funny cats", "--lang", lang, "--top", "2"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert heading in run.stdout and "312" in run.stdout, run.stdout
    assert "Cats" in run.stdout.split("\n", 3)[3], "a cat video is retrieved for 'funny cats'"
    assert f" {number}" in run.stdout, f"numbers in {lang}'s decimal sign"
