"""Benchmarks: TouchBase against the bare minimum doing the same work (``python -m bench.run``)."""
