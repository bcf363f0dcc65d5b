"""benchmarks/bench_revisit_owners.py gives each py-spy sample of the script thread to the right owner."""

from __future__ import annotations

from benchmarks.bench_revisit_owners import owner, shares

RUN = "Thread.run (threading.py:982);ScriptRunner._run_script (streamlit/runtime/scriptrunner/script_runner.py:961)"


def test_the_innermost_frame_outside_the_standard_library_owns_a_sample():
    raw = "\n".join(
        [
            f"{RUN};main (ui/pages/retrieval.py:85);_draw (ui/components/document.py:160);"
            "DeltaGenerator._enqueue (streamlit/delta_generator.py:641);deepcopy (copy.py:128) 6",
            f"{RUN};main (ui/pages/retrieval.py:85);weights_parts (retrieval_attention/charts/retrieval.py:110) 2",
            f"{RUN};main (ui/pages/retrieval.py:85);DataFrame.__init__ (pandas/core/frame.py:700) 1",
            f"{RUN};ScriptCache.get_bytecode (streamlit/runtime/scriptrunner/script_cache.py:60);compile (<built-in>) 1",
            "Thread.run (threading.py:982);AppTest._tree (streamlit/testing/v1/app_test.py:300) 40",  # not the script
        ]
    )
    found, n = shares(raw)
    assert n == 10
    assert found == {"streamlit": 0.6, "ours": 0.2, "compile": 0.1, "other": 0.1}
    assert owner("json.dumps (json/__init__.py:231)") is None, "the standard library passes to its caller"
