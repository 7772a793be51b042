"""Comparative results from the results store that ``experiments`` writes (and nothing else).

- ``load``: stored runs of one or many tags as best-so-far curves on a common time grid, with a report
  of missing seeds, partial runs and methods missing on a benchmark; its parts: ``sources`` (reading runs,
  local or remote, through ``experiments.store_format`` only), ``curves`` (``Curves``, ``Steps``, time grids),
  ``report`` (``LoadReport``), ``commands`` (the ``experiments.run`` commands that fill gaps), ``errors``;
- ``stats``, ``paired``, ``ranks``, ``normalize``: IQM, mean, median and optimality gap as rliable defines them
  (scores per task, or a runs × tasks matrix) with stratified-bootstrap intervals, probability of improvement,
  paired-seed tests, average ranks, normalized regret (re-exported here); ``resample`` draws the resamples of
  every bootstrap;
- ``indicators``, ``hypervolume``: what a run's curve is (the best-so-far by default; or hypervolume over time
  with a reference point per benchmark, or the best feasible value of constrained runs), the exact hypervolume;
- ``figures``, ``colors``, ``tables``: paper figures (one colour per method everywhere) and tables; ``fronts``
  (Pareto-front figures) and ``feasibility`` (fractions of infeasible trials);
- ``spec``, ``steps`` and ``figure``: ``python -m plotting.figure SPEC.toml`` regenerates a figure set from a
  spec (``steps``: one aggregation and drawing step per figure or table).

Importing ``plotting`` loads neither ``methods``, ``simulator`` nor ``blackbox_repository``
(``tests/test_layering.py``).
"""

from plotting.normalize import normalize_frame, normalized_regret
from plotting.paired import (
    PairedResult,
    paired_comparison,
    pairwise_matrix,
    poi_interval,
    probability_of_improvement,
)
from plotting.ranks import average_ranks
from plotting.stats import (
    Band,
    Interval,
    aggregate,
    derive_seed,
    interval_table,
    iqm,
    optimality_gap,
    percentile_band,
    stratified_bootstrap,
    task_scores,
    trimmed_mean,
)

__all__ = [
    "Band",
    "Interval",
    "PairedResult",
    "aggregate",
    "average_ranks",
    "derive_seed",
    "interval_table",
    "iqm",
    "normalize_frame",
    "normalized_regret",
    "optimality_gap",
    "paired_comparison",
    "pairwise_matrix",
    "percentile_band",
    "poi_interval",
    "probability_of_improvement",
    "stratified_bootstrap",
    "task_scores",
    "trimmed_mean",
]
