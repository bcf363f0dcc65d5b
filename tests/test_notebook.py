"""The notebook tour (docs/tour.ipynb): committed without outputs, and run top to bottom in a real kernel.

The kernel is ipykernel started by nbclient with *this* interpreter (the project's venv): a
kernelspec written to a temporary folder names ``sys.executable``, so a user-level ``python3``
kernel elsewhere on the machine is never picked up, and a last cell reports which interpreter ran.
The kernel's working directory, IPython's profile and Jupyter's runtime files live in temporary
folders; the embedding cache is the session's (warmed by the ``store`` fixture, so the corpus is
embedded once per test run). A Python audit hook, installed in the kernel before the notebook's
first cell, records every file the kernel opens for writing, creates or renames inside the
repository, and the test fails if there is one (writes from C code, such as FAISS saving an index,
are not seen by the hook; the notebook's caches go through Python). The same hook records every
network request made from Python (a socket connecting or resolving a name, a urllib request):
there must be none.

Every numbered section must draw a chart offline: an SVG picture drawn in the kernel (Altair's
``"svg"`` renderer) or a document's frame whose charts are Vega-Lite specs with the Vega JavaScript
inlined and a Content-Security-Policy that forbids every request. No output may ask the browser to
load anything (no ``<script src>``, no CDN, no Altair HTML renderer calling ``vegaEmbed``).
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from retrieval_attention.export.document import CONTENT_SECURITY_POLICY

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "tour.ipynb"
KERNEL = "retrieval-attention-test"
#: A chart of a document shown in a frame (``Lesson._repr_html_``): one Vega-Lite spec each.
DOCUMENT_CHART = "data-lesson-chart="
#: In an output, what would make the browser fetch something: a script or stylesheet by address, a CDN,
#: an image by http(s) address, or Altair's HTML renderer (which loads Vega from a CDN).
FETCHES = re.compile(
    r"<script[^>]*\bsrc=|<link[^>]*\bhref=|cdn\.jsdelivr|unpkg\.com|(src|href)=[\"']?https?:|vegaEmbed\("
)

#: Runs in the kernel before the notebook: collects writes inside the repository in _repo_writes.
AUDIT = f"""
import json, os, sys

_repo, _repo_writes, _network = {str(ROOT)!r}, [], []


def _audit(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request"):
        _network.append([event, repr(args)[:200]])
        return
    if event == "open":
        path, mode, flags = args
        writing = any(c in (mode or "") for c in "wax+") or bool((flags or 0) & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
    elif event in ("os.rename", "os.mkdir", "os.symlink", "os.link"):
        path, writing = args[1] if event == "os.rename" else args[0], True
    else:
        return
    if writing and isinstance(path, (str, bytes, os.PathLike)):
        real = os.path.realpath(os.fsdecode(path))
        if (real == _repo or real.startswith(_repo + os.sep)) and "__pycache__" not in real:
            _repo_writes.append([event, real])


sys.addaudithook(_audit)
"""
#: Runs in the kernel after the notebook: which interpreter ran it, and what it wrote.
PROBE = (
    'print(json.dumps({"prefix": sys.prefix, "executable": sys.executable, "writes": _repo_writes, '
    '"network": _network}))'
)


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _text(cell: nbformat.NotebookNode, mime: str = "text/plain") -> str:
    """Everything a code cell printed (stdout and stderr) and displayed as ``mime``, as one string."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(str(out.data.get(mime, "")))
    return "".join(parts)


def _sections(nb: nbformat.NotebookNode) -> dict[str, list[nbformat.NotebookNode]]:
    """The code cells under each numbered heading ("## 1. The corpus: ..."), by heading."""
    sections: dict[str, list[nbformat.NotebookNode]] = {}
    current = None
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            heading = cell.source.splitlines()[0][3:]
            current = heading if re.match(r"\d+\. ", heading) else None
            if current:
                sections[current] = []
        elif cell.cell_type == "code" and current:
            sections[current].append(cell)
    return sections


def _charts(cell: nbformat.NotebookNode) -> list[str]:
    """The charts a code cell drew: "svg" for an SVG picture, "document:N" for a document's frame of N charts."""
    drawn = []
    for out in cell.get("outputs", []):
        if out.output_type not in ("execute_result", "display_data"):
            continue
        if "<svg" in str(out.data.get("image/svg+xml", "")):
            drawn.append("svg")
        shown = str(out.data.get("text/html", ""))
        if shown.startswith("<iframe ") and DOCUMENT_CHART in shown:
            drawn.append(f"document:{shown.count(DOCUMENT_CHART)}")
    return drawn


def _fetches(cell: nbformat.NotebookNode) -> list[str]:
    """What a cell's outputs would ask the browser to load; a frame's document is read unescaped."""
    found = []
    for out in cell.get("outputs", []):
        for mime, value in (out.get("data") or {}).items():
            text = str(value)
            if mime == "text/html" and text.startswith("<iframe "):
                srcdoc = html.unescape(text.split('srcdoc="', 1)[1].split('"', 1)[0])
                policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', srcdoc)
                if not policy or html.unescape(policy.group(1)) != CONTENT_SECURITY_POLICY:
                    found.append(f"{cell.id}: a frame without the no-request Content-Security-Policy")
                text = re.sub(r"<script>.*?</script>", "", srcdoc, flags=re.DOTALL)  # inlined Vega: no fetch
            found += [f"{cell.id} {mime}: {m.group()}" for m in FETCHES.finditer(text)]
    return found


def test_committed_notebook_is_valid_and_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count or c.metadata.get("execution"))
    ]
    assert not dirty, (
        f"code cells {dirty} of {NOTEBOOK.name} carry outputs, execution counts or timings: clear them before "
        "committing (Jupyter: Edit > Clear Outputs of All Cells, then save)"
    )
    assert len(_code_cells(nb)) >= 10 and sum(c.cell_type == "markdown" for c in nb.cells) >= 8
    assert list(_sections(nb)) and all(_sections(nb).values()), "every numbered section has code"


@pytest.fixture
def kernel_env(tmp_path, monkeypatch, store, cache_dir) -> Path:
    """A kernelspec that runs this interpreter, and temporary homes for everything a kernel writes.

    ``store`` has embedded the bundled corpus into the session's ``cache_dir``, which the kernel
    reads as ``$RETRIEVAL_ATTENTION_CACHE``. Returns the working directory the kernel starts in.
    """
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))  # searched before the user's own kernels
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))  # connection files
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))  # profile and history database
    monkeypatch.setenv("RETRIEVAL_ATTENTION_CACHE", str(cache_dir))  # embeddings, read back
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    work = tmp_path / "work"
    work.mkdir()
    return work


@pytest.mark.slow
def test_notebook_runs_top_to_bottom_in_a_real_kernel(kernel_env, artifacts):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    n_code = len(_code_cells(nb))
    nb.cells.insert(0, nbformat.v4.new_code_cell(AUDIT, id="test-audit"))
    nb.cells.append(nbformat.v4.new_code_cell(PROBE, id="test-probe"))

    client = NotebookClient(
        nb, kernel_name=KERNEL, timeout=600, allow_errors=False, resources={"metadata": {"path": str(kernel_env)}}
    )
    try:
        client.execute()  # raises CellExecutionError, naming the cell, on the first error
    finally:
        nbformat.write(nb, artifacts / "tour.executed.ipynb")  # to look at the numbers and charts

    ran = json.loads(_text(nb.cells[-1]))
    assert ran["prefix"] == sys.prefix, f"the kernel ran {ran['executable']}, not this venv's {sys.executable}"
    assert not ran["writes"], f"the notebook wrote into the repository: {ran['writes']}"
    assert not any(kernel_env.iterdir()), f"the notebook wrote into its folder: {sorted(kernel_env.iterdir())}"
    assert not ran["network"], f"the notebook asked the network: {ran['network']}"

    cells = _code_cells(nb)[1 : n_code + 1]
    assert all(c.execution_count for c in cells), "a code cell did not run"
    sections = _sections(nb)
    assert len(sections) == 8, list(sections)
    drawn = {heading: [f"{c.id}={d}" for c in code for d in _charts(c)] for heading, code in sections.items()}
    assert all(drawn.values()), f"a section without a chart: {drawn}"
    fetches = [f for c in cells for f in _fetches(c)]
    assert not fetches, f"outputs that would load something from the network: {fetches}"
    printed, html = "".join(_text(c) for c in cells), "".join(_text(c, "text/html") for c in cells)
    streams = "".join(o.text for c in cells for o in c.outputs if o.output_type == "stream")  # stdout, stderr
    assert "Traceback" not in streams and "Warning" not in streams, streams  # (a title says "Storm Warning")
    assert "max |ours − model's own attention|" in printed and "top-32 via IVF" in printed
    assert "the diagonal is the largest of its row in 14 of 14 rows" in printed  # what section 1's text says
    assert "miss: no key equals" in html and "top-k, IVF index" in html  # the side-by-side and timing tables
    (document,) = [c for c in cells if c.id == "document-code"]
    (shown,) = [o.data["text/html"] for o in document.outputs if o.output_type == "execute_result"]
    assert shown.startswith("<iframe ") and "srcdoc=" in shown, shown[:200]  # the offline file, charts inside
    assert shown.count("data-lesson-chart=") == 4 and "position_series" in _text(document)
