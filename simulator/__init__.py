"""Discrete-event simulation of asynchronous parallel HPO on tabulated benchmarks."""

from simulator.errors import SimulationError
from simulator.events import EventQueue
from simulator.result import OUTCOMES, SimulationResult
from simulator.simulation import StopCriteria, simulate

__all__ = ["OUTCOMES", "EventQueue", "SimulationError", "SimulationResult", "StopCriteria", "simulate"]
