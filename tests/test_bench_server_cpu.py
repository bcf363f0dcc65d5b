"""benchmarks/bench_server_cpu.py: every action types a query no other typed; its section reads its own result."""

from __future__ import annotations

from benchmarks.bench_server_cpu import SIZED, queries, report_section


def test_every_query_is_typed_once_so_no_cache_answers_it():
    typed = queries(2 * (7 * 10 + 1))  # two pages, 7 rounds of 10 and the first query
    assert len(set(typed)) == len(typed) == 142
    assert all(q.strip() for q in typed)


def test_the_sized_app_writes_as_many_elements_as_it_says():
    import streamlit.testing.v1 as st_test

    at = st_test.AppTest.from_string(SIZED).run()
    assert not at.exception
    assert len(at.markdown) + len(at.slider) + len(at.metric) == 75


def test_the_section_states_the_lower_bound_from_its_own_numbers():
    res = {
        "date": "2026-12-07 23:49 UTC",
        "load_at_start": 1.07,
        "rounds": 9,
        "per_round": 10,
        "elements": 75,
        "commit": "new",
        "before_commit": "old",
        "forward_pass_ms": 12.4,
        "median_ms": {"floor": 5.0, "sized": 22.0, "new_query": 72.0, "k_revisit": 36.0}
        | {"new_query_before": 88.0, "k_revisit_before": 41.0},
    }
    text = report_section(res)
    assert "| a new query | 72 ms | 88 ms | 0.82× |" in text
    assert "about 48 ms" in text and "4.4× the three-line app" in text
    alone = report_section({k: v for k, v in res.items() if k != "before_commit"})
    assert "| a new query | 72 ms |" in alone and "same rounds" not in alone
    assert report_section(None) == ""
