"""Every cache in the code is named in the README's cache table (issue 22: "about 37 caches exist and
nothing names them").

A cache is a function decorated with ``st.cache_data``, ``st.cache_resource``, ``functools.cache`` or
``functools.lru_cache`` in the package, the app's ``ui/`` or ``app.py``. Each must appear in the
README's "Caches" section as ``module.function`` in backticks, with what it holds and its bound.
Run this file as a script to print a table row for each cache the README does not name yet.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DECORATORS = {"cache_data", "cache_resource", "cache", "lru_cache"}


def caches() -> dict[str, str]:
    """``module.function`` -> the decorator as written, for every cached function in the code."""
    files = sorted([*ROOT.glob("retrieval_attention/**/*.py"), *ROOT.glob("ui/**/*.py"), ROOT / "app.py"])
    found: dict[str, str] = {}
    for path in files:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        module = module.removeprefix("retrieval_attention.")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for deco in node.decorator_list:
                func = deco.func if isinstance(deco, ast.Call) else deco
                if ast.unparse(func).split(".")[-1] in DECORATORS:
                    found[f"{module}.{node.name}"] = ast.unparse(deco)
    return found


def readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^### Caches\n(.*?)(?=^#)", text, re.S | re.M)
    assert match, "the README has a '### Caches' section"
    return match.group(1)


def test_the_code_has_caches_to_name():
    assert len(caches()) > 30  # the walk finds them (a broken walk would pass the next test vacuously)


def test_every_cache_is_named_in_the_readme():
    section = readme_section()
    named = set(re.findall(r"`([\w.]+)`", section))
    missing = sorted(set(caches()) - named)
    assert not missing, f"caches the README's table does not name: {missing}"


def test_the_readme_names_no_cache_that_is_gone():
    rows = re.findall(r"^\| `([\w.]+)`", readme_section(), re.M)
    gone = sorted(set(rows) - set(caches()))
    assert not gone, f"the README's cache table names caches the code no longer has: {gone}"


if __name__ == "__main__":
    named = set(re.findall(r"`([\w.]+)`", readme_section())) if "### Caches" in (ROOT / "README.md").read_text() else set()
    for name, deco in caches().items():
        if name not in named:
            print(f"| `{name}` | {deco} |  |")
