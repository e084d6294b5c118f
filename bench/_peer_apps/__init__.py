"""The peer systems' no-op job definitions, imported by their own worker CLIs (configured through BENCH_* variables)."""
