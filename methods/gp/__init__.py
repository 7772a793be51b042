"""Gaussian-process surrogate models (numpy/scipy): configuration encoding, GP priors over configurations and
resources, empirical-Bayes fitting, posteriors with fantasies, a second GP on another target over the same inputs
(``second_target``), and expected improvement (with the weights of constrained and cost-aware BO) and its
optimiser.

Used by the model-based searchers (``methods.bayesopt``, ``methods.hypertune``) and DyHPO; it knows nothing of
schedulers."""
