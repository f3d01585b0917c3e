"""tf.estimator: Estimator around a model_fn, RunConfig, train_and_evaluate, canned estimators, and the
input functions and export helpers they use (TF 1.15 / 2.15 semantics)."""
from __future__ import annotations

import types

from xlite.estimator import export, feature_column, inputs
from xlite.estimator.canned.dnn import DNNClassifier, DNNEstimator, DNNRegressor
from xlite.estimator.canned.head import BinaryClassHead, MultiClassHead, RegressionHead
from xlite.estimator.canned.dnn_linear_combined import DNNLinearCombinedClassifier, DNNLinearCombinedRegressor
from xlite.estimator.canned.linear import LinearClassifier, LinearEstimator, LinearRegressor
from xlite.estimator.estimator import Estimator, WarmStartSettings, add_metrics
from xlite.estimator.exporters import Exporter, FinalExporter, LatestExporter
from xlite.estimator.keras_estimator import model_to_estimator
from xlite.estimator.mode_keys import ModeKeys
from xlite.estimator.model_fn import EstimatorSpec
from xlite.estimator.run_config import RunConfig
from xlite.estimator.training import EvalSpec, TrainSpec, train_and_evaluate

keras_namespace = types.SimpleNamespace(model_to_estimator=model_to_estimator)   # tf.keras.estimator

__all__ = ["BinaryClassHead", "DNNClassifier", "DNNEstimator", "DNNLinearCombinedClassifier",
           "DNNLinearCombinedRegressor", "DNNRegressor", "Estimator", "EstimatorSpec", "EvalSpec", "Exporter", "FinalExporter", "LatestExporter",
           "LinearClassifier",
           "LinearEstimator", "LinearRegressor", "ModeKeys", "MultiClassHead", "RegressionHead", "RunConfig",
           "TrainSpec", "WarmStartSettings", "add_metrics", "export", "feature_column", "inputs", "keras_namespace",
           "model_to_estimator", "train_and_evaluate"]
