"""The searcher seam: who listens, what a searcher is told when a scheduler takes it, and option conflicts."""

from __future__ import annotations

import pytest

from methods import ASHA, FIFOScheduler, RandomSearcher, RegularizedEvolution, Searcher, SyncHyperband
from methods.grid_search import GridSearcher
from searchspace import Float, SearchSpace

SPACE = SearchSpace({"x": Float(0.0, 1.0)})


class NeedsRungs(RandomSearcher):
    """A multi-fidelity searcher: refuses a scheduler without rung levels, keeps what it was told."""

    def configure(self, *, max_t, rung_levels):
        if not rung_levels:
            raise ValueError("NeedsRungs needs a multi-fidelity scheduler (rung levels)")
        self.told = (max_t, tuple(rung_levels))


def test_only_searchers_that_override_a_notification_are_told():
    assert not RandomSearcher.observes and not GridSearcher.observes
    assert RegularizedEvolution.observes

    class OnlyEnds(RandomSearcher):
        def on_end(self, trial_id, status):
            pass

    assert OnlyEnds.observes and issubclass(OnlyEnds, Searcher)


def test_a_scheduler_tells_its_searcher_its_schedule_and_may_be_refused():
    asha = ASHA(SPACE, metric="loss", max_t=27, seed=0, searcher=NeedsRungs(SPACE))
    assert asha.searcher.told == (27, (1, 3, 9))
    sync = SyncHyperband(SPACE, metric="loss", max_t=9, seed=0, searcher=NeedsRungs(SPACE), grace_period=3)
    assert sync.searcher.told == (9, (3,))
    with pytest.raises(ValueError, match="needs a multi-fidelity scheduler"):
        FIFOScheduler(SPACE, metric="loss", max_t=27, searcher=NeedsRungs(SPACE))


def test_options_of_the_default_searcher_go_to_a_given_searcher():
    with pytest.raises(ValueError, match="pass restrict_configurations, points_to_evaluate to the searcher"):
        ASHA(SPACE, metric="loss", max_t=9, searcher=RandomSearcher(SPACE), restrict_configurations=[{"x": 0.5}],
             points_to_evaluate=[])  # fmt: skip
    with pytest.raises(TypeError, match="must be a methods.Searcher"):
        FIFOScheduler(SPACE, metric="loss", max_t=9, searcher=object())


def test_model_free_methods_are_those_whose_searcher_fits_no_model():
    from methods.registry import REGISTRY, model_free_methods

    free = set(model_free_methods())
    for name, spec in REGISTRY.items():
        assert (name in free) == (spec.searcher in {"random", "grid", "rea", "morea", "nsga2", "zero_shot"}), name
    assert {"KDE", "BOHB", "BORE", "CQR", "BayesianOptimization"}.isdisjoint(free)


@pytest.mark.parametrize(
    "name, scheduler, searcher",
    [("KDE", "FIFOScheduler", "KDESearcher"), ("BOHB", "ASHA", "KDESearcher"),
     ("SyncBOHB", "SyncHyperband", "KDESearcher"), ("BORE", "FIFOScheduler", "BORESearcher"),
     ("ASHA-BORE", "ASHA", "BORESearcher"), ("CQR", "FIFOScheduler", "CQRSearcher"),
     ("ASHA-CQR", "ASHA", "CQRSearcher")],
)  # fmt: skip
def test_density_ratio_and_tree_methods_compose_as_syne_tune_defines_them(name, scheduler, searcher):
    from methods import make_method

    method = make_method(name, space=SPACE, metric="loss", max_t=27, seed=0)
    assert type(method).__name__ == scheduler and type(method.searcher).__name__ == searcher
    if scheduler == "ASHA":  # Syne Tune's BOHB, ASHABORE and ASHACQR: HyperbandScheduler defaults
        assert method.rule == "stopping" and method.searcher.levels == [1, 3, 9, 27]
