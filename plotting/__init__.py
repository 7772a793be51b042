"""Statistics for comparing HPO methods: IQM and stratified-bootstrap intervals, probability of improvement,
paired-seed tests, average ranks and normalized regret."""

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
    percentile_band,
    stratified_bootstrap,
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
    "paired_comparison",
    "pairwise_matrix",
    "percentile_band",
    "poi_interval",
    "probability_of_improvement",
    "stratified_bootstrap",
    "trimmed_mean",
]
