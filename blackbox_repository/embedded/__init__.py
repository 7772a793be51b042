"""Scripts that regenerate the benchmarks embedded in ``blackbox_repository/data``."""
