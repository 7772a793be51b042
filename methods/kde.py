"""TPE-like Bayesian optimisation with kernel density estimators: the searcher of KDE, BOHB and SyncBOHB.

As defined in the BOHB paper (Falkner, Klein & Hutter, ICML 2018; Syne Tune's ``KernelDensityEstimator``):

1. Data: the results at one level. Under FIFO the results at ``max_t``; under a multi-fidelity scheduler the
   largest rung level (or ``max_t``) with at least ``N_min + 2`` results, ``N_min = num_min_data_points``
   (default: the number of hyperparameters + 1, the paper's; Syne Tune uses the number of hyperparameters).
   Until some level has that many, suggestions are random.
2. Split: the best ``n_good = max(N_min, floor(top_n_percent / 100 * n))`` results are "good", the others "bad".
3. One product-kernel density per part, ``l(x)`` (good) and ``g(x)`` (bad), over the configuration's
   coordinates: numbers in [0, 1] (log scale where the domain has one; integers, ordinals and grids by position)
   with a Gaussian kernel, categoricals by index with the Aitchison–Aitken kernel (the value itself with weight
   1 − λ, each other choice λ / (c − 1)). Bandwidths by the normal reference rule
   ``1.06 · std · n^(−1 / (4 + d))`` (statsmodels' ``normal_reference``, as BOHB) clipped below at
   ``min_bandwidth`` (1e-3, the paper's; Syne Tune's multi-fidelity searcher uses 0.1). A categorical λ is also
   capped at (c − 1) / c, where the kernel is flat (uncapped, the kernel would favour every other value).
   ``c`` is the domain's number of choices; statsmodels' kernel (and so BOHB's and Syne Tune's) counts the
   choices present in the data instead, and divides by zero when there is one. Otherwise the densities equal
   statsmodels' ``KDEMultivariate`` (checked to 1e-15 on mixed data).
4. A fraction ``random_fraction`` (1/3) of model-based suggestions is drawn at random instead. Otherwise
   ``num_candidates`` (64) candidates are sampled from ``l``: a random good point, each number moved by a
   Gaussian truncated to [0, 1] with standard deviation ``bandwidth_factor`` (3) × its bandwidth, each
   categorical kept with probability 1 − λ, else drawn uniformly; the candidate maximising ``l(x) / g(x)`` (both
   floored at 1e-32, as BOHB) and not proposed before wins. With ``restrict_configurations`` every remaining
   candidate is scored instead.

Pending evaluations are ignored (as BOHB). An inactive conditional hyperparameter sits at coordinate 0 (index 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logsumexp
from scipy.stats import truncnorm

from methods.model_searcher import ModelSearcher
from searchspace import Config, SearchSpace
from searchspace.domains import Categorical

DENSITY_FLOOR = 1e-32  # BOHB's floor of both densities in the ratio
_LOG_FLOOR = float(np.log(DENSITY_FLOOR))
_LOG_SQRT_2PI = 0.5 * float(np.log(2.0 * np.pi))
_CHUNK = 4096  # candidates per block of the (candidates × data) kernel matrix


@dataclass(frozen=True)
class ProductKDE:
    """A kernel density over mixed coordinates: Gaussian kernels for numbers, Aitchison–Aitken for categoricals.

    ``choices[j]`` is the number of choices of coordinate j (0: a number in [0, 1]); a categorical coordinate
    holds the choice's index."""

    data: np.ndarray  # n × d
    bandwidths: np.ndarray  # d
    choices: np.ndarray  # d

    @classmethod
    def fit(cls, data: np.ndarray, choices: np.ndarray, min_bandwidth: float) -> ProductKDE:
        """Bandwidths by the normal reference rule, clipped at ``min_bandwidth`` (and at (c − 1) / c)."""
        n, d = data.shape
        bandwidths = 1.06 * data.std(axis=0) * n ** (-1.0 / (4 + d))
        bandwidths = np.maximum(bandwidths, min_bandwidth)
        categorical = choices > 0
        flat = (choices[categorical] - 1) / choices[categorical]
        bandwidths[categorical] = np.minimum(bandwidths[categorical], np.maximum(flat, min_bandwidth))
        return cls(data, bandwidths, choices)

    def log_pdf(self, points: np.ndarray) -> np.ndarray:
        """log density at each row of ``points``."""
        return np.concatenate(
            [self._log_pdf(points[start : start + _CHUNK]) for start in range(0, max(len(points), 1), _CHUNK)]
        )[: len(points)]

    def _log_pdf(self, points: np.ndarray) -> np.ndarray:
        log_kernel = np.zeros((len(points), len(self.data)))
        for j, (h, c) in enumerate(zip(self.bandwidths, self.choices)):
            if c > 0:
                same = points[:, j, None] == self.data[None, :, j]
                other = np.log(h / (c - 1)) if c > 1 else -np.inf
                log_kernel += np.where(same, np.log1p(-h), other)
            else:
                z = (points[:, j, None] - self.data[None, :, j]) / h
                log_kernel -= 0.5 * z * z + np.log(h) + _LOG_SQRT_2PI
        return logsumexp(log_kernel, axis=1) - np.log(len(self.data))

    def sample_around(self, rng: np.random.Generator, count: int, bandwidth_factor: float) -> np.ndarray:
        """``count`` points near random data points: numbers from Gaussians truncated to [0, 1] with standard
        deviation ``bandwidth_factor`` × bandwidth, categoricals kept with probability 1 − λ, else uniform."""
        centres = self.data[rng.integers(len(self.data), size=count)]
        points = centres.copy()
        numeric = self.choices == 0
        if numeric.any():
            scale = np.broadcast_to(bandwidth_factor * self.bandwidths[numeric], (count, int(numeric.sum())))
            mean = centres[:, numeric]
            points[:, numeric] = truncnorm.rvs(
                -mean / scale, (1.0 - mean) / scale, loc=mean, scale=scale, random_state=rng
            )
        for j in np.flatnonzero(~numeric):
            redraw = rng.random(count) >= 1.0 - self.bandwidths[j]
            points[redraw, j] = rng.integers(int(self.choices[j]), size=int(redraw.sum()))
        return points


def log_density_ratio(good: ProductKDE, bad: ProductKDE, points: np.ndarray) -> np.ndarray:
    """``log(max(l, 1e-32) / max(g, 1e-32))`` per row: larger is better (BOHB minimises the inverse)."""
    return np.maximum(good.log_pdf(points), _LOG_FLOOR) - np.maximum(bad.log_pdf(points), _LOG_FLOOR)


class KDESearcher(ModelSearcher):
    """TPE-like searcher with kernel density estimators (see the module docstring for every option)."""

    seed_salt = 31

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        top_n_percent: float = 15,
        num_min_data_points: int | None = None,
        min_bandwidth: float = 1e-3,
        num_candidates: int = 64,
        bandwidth_factor: float = 3.0,
        random_fraction: float = 1 / 3,
        **options: Any,
    ) -> None:
        if not 0 < top_n_percent < 100:
            raise ValueError(f"`top_n_percent` must lie in (0, 100), got {top_n_percent!r}")
        if num_min_data_points is not None and (not isinstance(num_min_data_points, int) or num_min_data_points < 1):
            raise ValueError(f"`num_min_data_points` must be an integer >= 1 or None, got {num_min_data_points!r}")
        if not min_bandwidth > 0:
            raise ValueError(f"`min_bandwidth` must be > 0, got {min_bandwidth!r}")
        if not isinstance(num_candidates, int) or num_candidates < 1:
            raise ValueError(f"`num_candidates` must be an integer >= 1, got {num_candidates!r}")
        if not bandwidth_factor > 0:
            raise ValueError(f"`bandwidth_factor` must be > 0, got {bandwidth_factor!r}")
        if not 0.0 <= random_fraction <= 1.0:
            raise ValueError(f"`random_fraction` must lie in [0, 1], got {random_fraction!r}")
        self._domains = [space[name] for name in space.names]
        self._choices = np.array([len(d.choices) if isinstance(d, Categorical) else 0 for d in self._domains])
        super().__init__(space, seed=seed, **options)  # allow_duplicates, restrict_configurations, ...
        self.top_n_percent = top_n_percent
        self.num_min_data_points = len(space) + 1 if num_min_data_points is None else num_min_data_points
        self.min_bandwidth = min_bandwidth
        self.num_candidates = num_candidates
        self.bandwidth_factor = bandwidth_factor
        self.random_fraction = random_fraction
        self.model_level: int | None = None  # the level of the last fit

    def _encode(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        rows = np.zeros((len(configs), len(self._domains)))
        for j, (name, domain, c) in enumerate(zip(self._names, self._domains, self._choices)):
            encode = domain.index if c > 0 else domain.encode
            rows[:, j] = [0.0 if config.get(name) is None else encode(config[name]) for config in configs]
        return rows

    def _decode(self, row: np.ndarray) -> Config:
        point = np.where(self._choices > 0, (row + 0.5) / np.maximum(self._choices, 1), row)
        return self.space.decode(point)

    def model_level_for(self, counts: Mapping[int, int]) -> int | None:
        """The level the densities are fitted at: the largest with at least ``N_min + 2`` results, or None."""
        enough = [level for level, n in counts.items() if n >= self.num_min_data_points + 2]
        return max(enough) if enough else None

    def fit_densities(self, level: int) -> tuple[ProductKDE, ProductKDE]:
        """``l`` (the best ``n_good`` results at ``level``) and ``g`` (the others)."""
        inputs, losses = self.level_data(level)
        order = np.argsort(losses, kind="stable")
        n_good = max(self.num_min_data_points, int(self.top_n_percent * len(losses) // 100))
        good = ProductKDE.fit(inputs[order[:n_good]], self._choices, self.min_bandwidth)
        bad = ProductKDE.fit(inputs[order[n_good:]], self._choices, self.min_bandwidth)
        return good, bad

    def _suggest_by_model(self) -> Config | None:
        level = self.model_level_for(self.level_counts())
        if level is None or self._rng.random() < self.random_fraction:
            return None
        self.model_level = level
        good, bad = self.fit_densities(level)
        if self._candidates is not None:
            configs, inputs = self.candidate_pool(0)
            if not configs:
                return None
            return dict(configs[int(np.argmax(log_density_ratio(good, bad, inputs)))])
        samples = good.sample_around(self._rng, self.num_candidates, self.bandwidth_factor)
        scores = log_density_ratio(good, bad, samples)
        for index in np.argsort(-scores, kind="stable"):
            config = self._decode(samples[index])
            if self.is_new(config):
                return config
        return None  # every candidate was proposed before: random

    def describe(self) -> str:
        where = (
            f"the largest of the levels {self.levels} with >= {self.num_min_data_points + 2} results"
            if len(self.levels) > 1
            else "the results"
        )
        scored = (
            "every remaining candidate scored"
            if self._candidates is not None
            else f"{self.num_candidates} candidates drawn from l (bandwidth x {self.bandwidth_factor:g})"
        )
        return (
            f"KDE (TPE, as BOHB): densities of the best {self.top_n_percent:g}% (l) and the rest (g) of {where}, "
            f"normal-reference bandwidths >= {self.min_bandwidth:g}; argmax l/g over {scored}; "
            f"{self.random_fraction:.2g} of model suggestions at random; pending trials ignored; random until "
            f"then ({self._random.describe()})"
        )

    def state_summary(self) -> dict[str, Any]:
        return {**super().state_summary(), "model_level": self.model_level}
