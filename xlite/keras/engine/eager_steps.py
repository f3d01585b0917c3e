"""fit/evaluate/predict while executing eagerly: each step is a tf.function (one executable per input signature).

The train step traces the forward pass under a GradientTape, the loss, the
gradients, the Keras optimizer's updates and the metric updates into one
function; xlite.function compiles it once per input signature and runs its
assignments in place (TF2's automatic control dependencies: the metric results
it returns are read after every update). Variables may only be made by a first
trace, so the model, the optimizer's slots and the metrics are created eagerly
on the first batch, before anything is traced.
"""
from __future__ import annotations

import numpy as np

from xlite.eager.tape import GradientTape
from xlite.frontend import nest
from xlite.frontend.convert import convert_to_tensor
from xlite.function import function
from xlite.keras import backend
from xlite.keras.engine import distribution


def _tensor(a):
    a = np.asarray(a)
    if a.dtype.kind == "f":
        a = a.astype(backend.floatx())
    return convert_to_tensor(a)


class EagerSteps:
    """The model's train, test and predict steps as tf.functions, prepared on the first batch."""

    def __init__(self, model):
        self.model = model
        self._ready = False
        self._train = function(self._train_step, autograph=False)
        self._test = function(self._test_step, autograph=False)
        self._predict = function(self._predict_step, autograph=False)

    def _inputs(self, x):
        if isinstance(x, dict) and self.model._network is not None:
            x = [x[n] for n in self.model.input_names]
        return nest.pack_sequence_as(x, [_tensor(a) for a in nest.flatten(x)])

    def _targets(self, x, y, w):
        ys = [_tensor(a) for a in nest.flatten(y)]
        n = int(np.shape(nest.flatten(x)[0])[0])
        weights = w if isinstance(w, (list, tuple)) else [w] * len(ys)
        ws = [convert_to_tensor(np.ones(n, np.float32) if a is None else np.asarray(a, np.float32).reshape(n))
              for a in weights]
        return ys, ws

    def _prepare(self, x, ys) -> None:
        """Eagerly, once: builds the model, the metrics and the optimizer's Variables (no trace may make them)."""
        if self._ready:
            return
        model = self.model
        outputs = nest.flatten(model(x, training=False))
        model._outputs_known(len(outputs))
        if model._compiled_metrics is not None and model._compiled_metrics.metrics is None and ys is not None:
            model._compiled_metrics._build(ys, outputs)
        if model.optimizer is not None and ys is not None:
            model.optimizer._create_all(model.trainable_weights)
        self._ready = True

    # --- traced steps ---------------------------------------------------------------------------
    def _loss(self, outputs, ys, ws):
        model = self.model
        regularization = [r() if callable(r) else r for r in model.losses]
        return model._compiled_loss(ys, outputs, ws, regularization)

    def _update_metrics(self, total, per_output, outputs, ys, ws) -> None:
        model = self.model
        batch = backend.cast(backend.shape(outputs[0])[0], "float32")
        model._compiled_loss.loss_metric.update_state(total, sample_weight=batch)
        for metric, value in zip(model._compiled_loss.output_metrics, per_output):
            metric.update_state(value, sample_weight=batch)
        model._compiled_metrics.update(ys, outputs, ws)

    def _results(self) -> dict:
        return {m.name: m.result() for m in self.model.metrics}

    def _train_step(self, x, ys, ws):
        model = self.model
        with GradientTape() as tape:
            outputs = nest.flatten(model(x, training=True))
            total, per_output = self._loss(outputs, ys, ws)
        params = model.trainable_weights
        batch = backend.cast(backend.shape(outputs[0])[0], "float32")
        grads = distribution.average_gradients(model, tape.gradient(total, params), batch)
        model.optimizer.apply_gradients(zip(grads, params))
        self._update_metrics(total, per_output, outputs, ys, ws)
        return self._results()

    def _test_step(self, x, ys, ws):
        outputs = nest.flatten(self.model(x, training=False))
        self._update_metrics(*self._loss(outputs, ys, ws), outputs, ys, ws)
        return self._results()

    def _predict_step(self, x):
        return nest.flatten(self.model(x, training=False))

    # --- runs -----------------------------------------------------------------------------------
    def train_step(self, x, y, w) -> dict:
        x, y, w = distribution.local_batch(self.model, x, y, w)
        x = self._inputs(x)
        ys, ws = self._targets(x, y, w)
        self._prepare(x, ys)
        return {k: float(v.numpy()) for k, v in self._train(x, ys, ws).items()}

    def test_step(self, x, y, w) -> dict:
        x = self._inputs(x)
        ys, ws = self._targets(x, y, w)
        self._prepare(x, ys)
        return {k: float(v.numpy()) for k, v in self._test(x, ys, ws).items()}

    def predict_step(self, x) -> list:
        x = self._inputs(x)
        self._prepare(x, None)
        return [o.numpy() for o in self._predict(x)]
