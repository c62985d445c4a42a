"""Benchmarks (DESIGN §4): each prints one JSON object on its last stdout line."""
