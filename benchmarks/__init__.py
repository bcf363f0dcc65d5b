"""Benchmarks of retrieval_attention: run ``python -m benchmarks`` to regenerate docs/benchmarks.md."""
