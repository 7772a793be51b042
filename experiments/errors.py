"""Errors of the experiments layer."""


class ExperimentError(ValueError):
    """An experiment cannot run as asked (a bad argument, an unknown name, a clashing results store)."""
