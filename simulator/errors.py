"""Errors of the simulator."""


class SimulationError(ValueError):
    """A simulation cannot run as asked (bad argument, or a method broke the contract)."""
