"""Gaussian-process surrogate models (numpy/scipy): configuration encoding, GP priors over configurations and
resources, empirical-Bayes fitting, posteriors with fantasies, and expected improvement with its optimiser.

Used by the model-based searchers (``methods.bayesopt``, ``methods.hypertune``) and DyHPO; it knows nothing of
schedulers."""
