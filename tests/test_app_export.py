""" "Save this view (HTML)" writes the document the page drew, under AppTest with the real app.

Every page draws its builder's document (retrieval_attention.views) through one renderer, and its
button saves that same document; each page's own test file checks it (tests/test_app_retrieval.py,
test_app_views_recommender.py, test_app_model.py, test_app_views.py, ...). This file keeps what they
share: running the button's callable as a click does (:func:`click`, the file captured from
Streamlit's media file manager), a fragment-only rerun as a browser asks for one
(:func:`fragment_rerun`), and the smoothing page's check after a slider and a fragment rerun.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import streamlit.testing.v1.local_script_runner as local_script_runner
from streamlit.testing.v1 import AppTest

from tests.test_app_views import APP, click, html_charts, open_page

__all__ = ["APP", "click", "fragment_rerun", "html_charts", "open_page", "without_data"]  # shared with other tests


def without_data(spec: Any) -> Any:
    """A specification with its data removed (Arrow datasets on the page, inline JSON in the lesson)."""
    if isinstance(spec, dict):
        return {k: without_data(v) for k, v in spec.items() if k not in ("data", "datasets", "$schema")}
    if isinstance(spec, list):
        return [without_data(v) for v in spec]
    return spec


def fragment_rerun(at: AppTest, name: str) -> None:
    """Rerun only the fragment function ``name``, as the browser does when a widget inside it changes.

    AppTest always reruns the whole script, so this asks its script runner for a fragment-scoped
    rerun (Streamlit's RerunData with the fragment's id), which is what a browser's request carries.
    """

    def wraps(fragment: Any) -> bool:  # Streamlit keeps the page's function in the wrapper's closure
        return any(getattr(c.cell_contents, "__name__", "") == name for c in fragment.__closure__ or ())

    (fragment_id,) = [i for i, f in at._fragment_storage._fragments.items() if wraps(f)]
    real = local_script_runner.RerunData
    local_script_runner.RerunData = functools.partial(
        real, fragment_id=fragment_id, fragment_id_queue=[fragment_id], is_fragment_scoped_rerun=True
    )
    try:
        at.run()
    finally:
        local_script_runner.RerunData = real
    assert not at.exception, at.exception


def _page_specs(at: AppTest) -> list[dict[str, Any]]:
    return [without_data(json.loads(c.proto.spec)) for c in at.get("vega_lite_chart")]


def _file_specs(html: str) -> list[dict[str, Any]]:
    return [without_data(s) for s in html_charts(html)]


def _file_metrics(html: str) -> list[str]:
    rows = "".join(re.findall(r'<dl class="metrics">(.*?)</dl>', html, re.S))
    return re.findall(r"<dt>[^<]*</dt><dd>([^<]*)</dd>", rows)


def _comparable(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k not in ("width", "height", "autosize")}  # the page sizes these


def test_a_built_page_saves_the_document_it_drew_after_a_slider_and_a_fragment_rerun(clicks):
    """One author: the smoothing page draws views.smoothing's document; the file is that document."""
    at = open_page("ui/pages/lesson_smoothing.py")
    name = next(n for n in clicks if n.startswith("smoothing-"))
    first = click(clicks, name)
    assert [_comparable(s) for s in _file_specs(first)] == [_comparable(s) for s in _page_specs(at)]
    assert [m.value for m in at.metric] == _file_metrics(first)

    at.select_slider(key="kernel_width").set_value(16.0).run()  # a full run
    full, full_metrics = _page_specs(at), [m.value for m in at.metric]
    assert [_comparable(s) for s in _file_specs(click(clicks, name))] == [_comparable(s) for s in full]
    at.select_slider(key="content_width").set_value(1.0)
    fragment_rerun(at, "content_part")  # only section 2 reruns: AppTest's tree then holds only its elements
    saved = click(clicks, name)
    assert "σ = 16" in saved and "σ = 1)" in saved
    fragment = _page_specs(at)
    assert len(fragment) == 2, "section 2 draws two charts"
    assert [_comparable(s) for s in _file_specs(saved)] == [_comparable(s) for s in full[:2] + fragment]
    assert _file_metrics(saved) == full_metrics[:4] + [m.value for m in at.metric]
