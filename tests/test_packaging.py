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
