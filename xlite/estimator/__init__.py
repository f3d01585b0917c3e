"""tf.estimator: Estimator around a model_fn, RunConfig, train_and_evaluate, canned estimators, and the
input functions and export helpers they use (TF 1.15 / 2.15 semantics)."""
from __future__ import annotations

from xlite.estimator import export, inputs
from xlite.estimator.estimator import Estimator, WarmStartSettings
from xlite.estimator.mode_keys import ModeKeys
from xlite.estimator.model_fn import EstimatorSpec
from xlite.estimator.run_config import RunConfig

__all__ = ["Estimator", "EstimatorSpec", "ModeKeys", "RunConfig", "WarmStartSettings", "export", "inputs"]
