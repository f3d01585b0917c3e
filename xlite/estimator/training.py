"""tf.estimator.train_and_evaluate with TrainSpec / EvalSpec, in one process: train, and evaluate after each
new checkpoint (every `throttle_secs` at most), until max_steps; then a final evaluation."""
from __future__ import annotations

import os
import time
from typing import NamedTuple

from xlite import tf_logging
from xlite.train.basic_hooks import CheckpointSaverListener


class TrainSpec(NamedTuple("TrainSpec", [("input_fn", object), ("max_steps", object), ("hooks", tuple),
                                         ("saving_listeners", tuple)])):
    """What to train on and for how long (max_steps None: until input_fn's data ends)."""

    def __new__(cls, input_fn, max_steps=None, hooks=None, saving_listeners=None):
        if not callable(input_fn):
            raise TypeError(f"`input_fn` must be callable, given: {input_fn}")
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        return super().__new__(cls, input_fn, max_steps, tuple(hooks or ()), tuple(saving_listeners or ()))


class EvalSpec(NamedTuple("EvalSpec", [("input_fn", object), ("steps", object), ("name", object),
                                       ("hooks", tuple), ("exporters", tuple), ("start_delay_secs", int),
                                       ("throttle_secs", int)])):
    """What to evaluate on, how many batches (None: all), and at most how often (throttle_secs)."""

    def __new__(cls, input_fn, steps=100, name=None, hooks=None, exporters=None, start_delay_secs=120,
                throttle_secs=600):
        if not callable(input_fn):
            raise TypeError(f"`input_fn` must be callable, given: {input_fn}")
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if throttle_secs < 0:
            raise ValueError(f"Must specify throttle_secs >= 0, given: {throttle_secs}")
        exporters = tuple(exporters) if isinstance(exporters, (list, tuple)) else (() if exporters is None
                                                                                   else (exporters,))
        return super().__new__(cls, input_fn, steps, name, tuple(hooks or ()), exporters, start_delay_secs,
                               throttle_secs)


class _EvaluateListener(CheckpointSaverListener):
    """Evaluates (and exports) after a checkpoint is saved, at most every throttle_secs, and at the end of
    training unless the last checkpoint was just evaluated."""

    def __init__(self, estimator, eval_spec: EvalSpec, max_steps):
        self._estimator, self._spec, self._max_steps = estimator, eval_spec, max_steps
        self._last_time = self._last_step = None
        self.results, self.export_results = None, []

    def after_save(self, session, global_step_value):
        if global_step_value == 0:
            return False
        if self._last_time is not None and time.time() - self._last_time < self._spec.throttle_secs:
            return False
        self._evaluate(global_step_value)
        return False

    def end(self, session, global_step_value):
        if global_step_value != self._last_step:
            self._evaluate(global_step_value)

    def _evaluate(self, step: int) -> None:
        self._last_time, self._last_step = time.time(), step
        estimator = self._estimator
        self.results = estimator.evaluate(self._spec.input_fn, steps=self._spec.steps, name=self._spec.name,
                                          hooks=list(self._spec.hooks))
        final = self._max_steps is not None and self.results["global_step"] >= self._max_steps
        self.export_results = []
        for exporter in self._spec.exporters:
            path = exporter.export(estimator, os.path.join(estimator.model_dir, "export", exporter.name),
                                   estimator.latest_checkpoint(), self.results, final)
            if path is not None:
                self.export_results.append(path)


def train_and_evaluate(estimator, train_spec: TrainSpec, eval_spec: EvalSpec):
    """Trains `estimator` to train_spec.max_steps, evaluating (and exporting) on the way and at the end;
    returns (the last metrics, the last evaluation's export paths), as TF's local run does."""
    if not isinstance(train_spec, TrainSpec):
        raise TypeError(f"`train_spec` must have type `tf.estimator.TrainSpec`. Got: {type(train_spec)}")
    if not isinstance(eval_spec, EvalSpec):
        raise TypeError(f"`eval_spec` must have type `tf.estimator.EvalSpec`. Got: {type(eval_spec)}")
    tf_logging.info("Running training and evaluation locally (non-distributed).")
    listener = _EvaluateListener(estimator, eval_spec, train_spec.max_steps)
    estimator.train(train_spec.input_fn, hooks=list(train_spec.hooks), max_steps=train_spec.max_steps,
                    saving_listeners=list(train_spec.saving_listeners) + [listener])
    return listener.results, listener.export_results
