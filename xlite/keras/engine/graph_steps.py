"""fit/evaluate/predict in graph mode: each step is ONE Session.run of one graph.

The train step's graph holds the forward pass (the model called with
training=True on the feed placeholders), the loss, its gradients (tf.gradients),
the Keras optimizer's update ops, the layers' own updates (BatchNormalization's
moving statistics) and the metric updates; its fetches are the metrics' running
values read after those updates. The Session compiles that graph once per input
signature (a None batch dim keeps one executable for every batch size) and
updates the Variables in place. The test step is the same without gradients and
with training=False; the predict step fetches the outputs.
"""
from __future__ import annotations

import numpy as np

from xlite.frontend import nest
from xlite.frontend.gradients import gradients
from xlite.frontend.graph import get_default_graph
from xlite.frontend.variables import group, placeholder
from xlite.ir import dtypes
from xlite.keras import backend
from xlite.keras.engine import distribution
from xlite.keras.engine.compile_utils import batch_size_of


def _feed_dtype(array: np.ndarray):
    if array.dtype.kind == "f":
        return dtypes.as_dtype(backend.floatx())
    if array.dtype.kind == "b":
        return dtypes.bool_
    return dtypes.as_dtype(array.dtype)


def _placeholder_like(array, name: str):
    array = np.asarray(array)
    return placeholder(_feed_dtype(array), [None, *array.shape[1:]], name=name)


class GraphSteps:
    """The model's train, test and predict graphs, each built on first use, and their runs."""

    def __init__(self, model):
        self.model = model
        self._x = self._y = self._w = None
        self._train = self._test = self._predict = None
        self.graph = get_default_graph()

    # --- feeds ----------------------------------------------------------------------------------
    def _inputs(self, x):
        """The input placeholders: the model's own Inputs, else ones made from the first batch (subclassed or
        deferred models)."""
        if self._x is None:
            model = self.model
            if getattr(model, "_network", None) is None and hasattr(model, "_build_from_data"):
                model._build_from_data(x)
            if getattr(model, "_network", None) is not None:
                self._x = model._network.nested_inputs
            else:
                self._x = nest.pack_sequence_as(x, [_placeholder_like(a, f"input_{i + 1}")
                                                    for i, a in enumerate(nest.flatten(x))])
        return self._x

    def _targets(self, y):
        if self._y is None:
            flat = nest.flatten(y)
            names = self.model.output_names
            if len(flat) != len(names):
                raise ValueError(f"The model has {len(names)} outputs but {len(flat)} targets were given")
            self._y = [_placeholder_like(a, f"{n}_target") for a, n in zip(flat, names)]
            self._w = [placeholder(dtypes.float32, [None], name=f"{n}_sample_weights") for n in names]
        return self._y, self._w

    def _feed(self, x, y=None, w=None) -> dict:
        feed = {}
        xs = nest.flatten(self._x)
        if isinstance(x, dict) and not isinstance(self._x, dict):
            names = self.model.input_names
            x = [x[n] for n in names]
        for p, a in zip(xs, nest.flatten(x)):
            feed[p] = np.asarray(a, dtype=p.dtype.np) if np.asarray(a).dtype.kind == "f" else a
        if y is not None:
            n = len(nest.flatten(y)[0]) if nest.flatten(y) else 0
            for p, a in zip(self._y, nest.flatten(y)):
                feed[p] = a
            weights = w if isinstance(w, (list, tuple)) else [w] * len(self._w)
            for p, a in zip(self._w, weights):
                feed[p] = np.ones(n, np.float32) if a is None else np.asarray(a, np.float32).reshape(n)
        return feed

    # --- graphs ---------------------------------------------------------------------------------
    def _forward(self, x, training: bool) -> list:
        model = self.model
        before = len(model.updates)
        outputs = model(x, training=training)
        return nest.flatten(outputs), model.updates[before:]

    def _losses_and_metrics(self, outputs, ys, ws):
        model = self.model
        regularization = [r() if callable(r) else r for r in model.losses]
        total, per_output = model._compiled_loss(ys, outputs, ws, regularization)
        updates = [model._compiled_loss.loss_metric.update_state(total, sample_weight=batch_size_of(outputs))]
        for metric, value in zip(model._compiled_loss.output_metrics, per_output):
            updates.append(metric.update_state(value, sample_weight=batch_size_of(outputs)))
        updates += model._compiled_metrics.update(ys, outputs, ws)
        return total, updates

    def _results(self, after: list) -> tuple:
        """(names, result tensors read after `after`): a flat fetch list keeps each run on the Session's
        steady-state path."""
        with self.graph.control_dependencies(after):
            metrics = self.model.metrics
            return [m.name for m in metrics], [m.result() for m in metrics]

    def _loss_of_batch(self, x, y, training: bool):
        """(outputs, the layers' updates, the total loss, the metrics' updates) for a batch (x, y)."""
        outputs, layer_updates = self._forward(self._inputs(x), training)
        self.model._outputs_known(len(outputs))
        ys, ws = self._targets(y)
        total, metric_updates = self._losses_and_metrics(outputs, ys, ws)
        return outputs, layer_updates, total, metric_updates

    def _build_train(self, x, y):
        with self.graph.as_default():
            outputs, layer_updates, total, metric_updates = self._loss_of_batch(x, y, True)
            params = self.model.trainable_weights
            grads = distribution.average_gradients(self.model, gradients(total, params), batch_size_of(outputs))
            apply = self.model.optimizer.apply_gradients(zip(grads, params))
            train_op = group(apply, *layer_updates, *metric_updates)
            names, results = self._results([train_op])
            self._train = (names, [train_op, *results])

    def _build_test(self, x, y):
        with self.graph.as_default():
            *_, metric_updates = self._loss_of_batch(x, y, False)
            self._test = self._results(metric_updates)

    def _build_predict(self, x):
        with self.graph.as_default():
            outputs, _ = self._forward(self._inputs(x), False)
            self._predict = outputs

    # --- runs -----------------------------------------------------------------------------------
    def _session(self):
        """Keras' Session, looked up (and its new Variables initialized) once per built step, then kept while
        it stays the one get_session() would give."""
        from xlite.frontend.default_session import get_default_session
        cached = self.__dict__.get("_cached_session")
        default = get_default_session()
        if cached is None or cached[1] != (default, backend._sessions.get(self.graph), self._train, self._test,
                                            self._predict):
            session = backend.get_session()
            self._cached_session = cached = (session, (default, backend._sessions.get(self.graph), self._train,
                                                       self._test, self._predict))
        return cached[0]

    def train_step(self, x, y, w) -> dict:
        x, y, w = distribution.local_batch(self.model, x, y, w)
        if self._train is None:
            self._build_train(x, y)
        names, fetches = self._train
        values = self._session().run(fetches, self._feed(x, y, w))
        return dict(zip(names, map(float, values[1:])))

    def test_step(self, x, y, w) -> dict:
        if self._test is None:
            self._build_test(x, y)
        names, fetches = self._test
        return dict(zip(names, map(float, self._session().run(fetches, self._feed(x, y, w)))))

    def predict_step(self, x) -> list:
        if self._predict is None:
            self._build_predict(x)
        return self._session().run(self._predict, self._feed(x))
