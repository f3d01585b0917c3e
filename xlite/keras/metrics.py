"""tf.keras.metrics: stateful metrics (total and count Variables) and Keras' metric functions, as frontend ops.

A metric is a Layer whose weights are its state. `update_state` adds a batch
(graph mode: returns the assign ops the train step runs; eager: runs them),
`result()` is the running value, `reset_states()` writes zeros without running
anything (Variable.load). In fit, the loss shown is a `Mean` updated with the
batch's loss weighted by the batch size, as Keras 2 does.
"""
from __future__ import annotations

import numpy as np

from xlite.frontend import array_ops, math_ops, reduction_ops, shape_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import executing_eagerly, get_default_graph
from xlite.frontend.variables import group
from xlite.ir import dtypes
from xlite.keras import backend, losses
from xlite.keras.engine.base_layer import Layer


# --- metric functions --------------------------------------------------------------------------
def _float(x):
    x = convert_to_tensor(x)
    return x if x.dtype == dtypes.float32 else math_ops.cast(x, dtypes.float32)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5):
    y_pred = _float(y_pred)
    y_true = _float(y_true)
    y_true, y_pred = losses._squeeze_last(y_true, y_pred)
    predicted = math_ops.cast(y_pred > threshold, dtypes.float32)
    return reduction_ops.reduce_mean(math_ops.cast(math_ops.equal(y_true, predicted), dtypes.float32), axis=-1)


def categorical_accuracy(y_true, y_pred):
    return math_ops.cast(math_ops.equal(reduction_ops.argmax(y_true, -1), reduction_ops.argmax(y_pred, -1)),
                         dtypes.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    y_pred = convert_to_tensor(y_pred)
    y_true = convert_to_tensor(y_true)
    if y_true.shape.ndims is not None and y_pred.shape.ndims is not None and \
            y_true.shape.ndims == y_pred.shape.ndims and y_true.shape.dims[-1] == 1:
        y_true = array_ops.squeeze(y_true, [-1])
    predicted = math_ops.cast(reduction_ops.argmax(y_pred, -1), dtypes.float32)
    return math_ops.cast(math_ops.equal(_float(y_true), predicted), dtypes.float32)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    from xlite.frontend import nn_ops
    return math_ops.cast(nn_ops.in_top_k(_float(y_pred), reduction_ops.argmax(y_true, -1), k), dtypes.float32)


def accuracy(y_true, y_pred):
    y_pred = convert_to_tensor(y_pred)
    y_true = convert_to_tensor(y_true)
    if y_true.dtype != y_pred.dtype:
        y_pred = math_ops.cast(y_pred, y_true.dtype)
    return math_ops.cast(math_ops.equal(y_true, y_pred), dtypes.float32)


mean_squared_error = mse = MSE = losses.mean_squared_error
mean_absolute_error = mae = MAE = losses.mean_absolute_error
binary_crossentropy = losses.binary_crossentropy
categorical_crossentropy = losses.categorical_crossentropy
sparse_categorical_crossentropy = losses.sparse_categorical_crossentropy


# --- stateful metrics --------------------------------------------------------------------------
class Metric(Layer):
    """A running statistic: its state is non-trainable weights; update_state, result, reset_states."""

    def __init__(self, name: str | None = None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.built = True

    def add_weight(self, name, shape=(), dtype=None, initializer="zeros", **kwargs):
        return super().add_weight(name=name, shape=shape, dtype=dtype or dtypes.float32, initializer=initializer,
                                  trainable=False)

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_states(self) -> None:
        backend.batch_set_value([(v, np.zeros(v.shape.as_list(), v.dtype.np)) for v in self.weights])

    reset_state = reset_states

    def __call__(self, *args, **kwargs):
        """Updates with the batch and gives the result (graph mode: read after the update)."""
        update = self.update_state(*args, **kwargs)
        if executing_eagerly():
            return self.result()
        with get_default_graph().control_dependencies([update]):
            return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


def _read(var):
    return var if executing_eagerly() else var.read_value()


class Reduce(Metric):
    """Sum or weighted mean of values (sample_weight broadcast over them)."""

    _mean = True

    def __init__(self, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_weight("total")
        if self._mean:
            self.count = self.add_weight("count")

    def update_state(self, values, sample_weight=None):
        values = _float(values)
        if sample_weight is not None:
            sample_weight = _float(sample_weight)
            values, sample_weight = losses._squeeze_last(values, sample_weight)
            while sample_weight.shape.ndims is not None and sample_weight.shape.ndims < values.shape.ndims:
                sample_weight = array_ops.expand_dims(sample_weight, -1)
            weighted = values * sample_weight
            count = reduction_ops.reduce_sum(sample_weight * array_ops.ones_like(values)
                                             if hasattr(array_ops, "ones_like") else
                                             sample_weight + 0.0 * values)
        else:
            weighted = values
            count = math_ops.cast(shape_ops.size(values), dtypes.float32)
        updates = [self.total.assign_add(reduction_ops.reduce_sum(weighted))]
        if self._mean:
            updates.append(self.count.assign_add(count))
        return None if executing_eagerly() else group(*[u.op for u in updates])

    def result(self):
        if not self._mean:
            return math_ops.identity(_read(self.total))
        return math_ops.div_no_nan(_read(self.total), _read(self.count))


class Sum(Reduce):
    _mean = False


class Mean(Reduce):
    pass


class MeanMetricWrapper(Mean):
    """The weighted mean of `fn(y_true, y_pred)` over every sample seen."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn, self._fn_kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight=sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


def _wrapper(fn, default_name: str, **fixed):
    class Wrapped(MeanMetricWrapper):
        def __init__(self, name=default_name, dtype=None, **kwargs):
            super().__init__(fn, name=name, dtype=dtype, **{**fixed, **kwargs})
    return Wrapped


Accuracy = type("Accuracy", (_wrapper(accuracy, "accuracy"),), {})
BinaryAccuracy = type("BinaryAccuracy", (_wrapper(binary_accuracy, "binary_accuracy"),), {})
CategoricalAccuracy = type("CategoricalAccuracy", (_wrapper(categorical_accuracy, "categorical_accuracy"),), {})
SparseCategoricalAccuracy = type("SparseCategoricalAccuracy",
                                 (_wrapper(sparse_categorical_accuracy, "sparse_categorical_accuracy"),), {})
TopKCategoricalAccuracy = type("TopKCategoricalAccuracy",
                               (_wrapper(top_k_categorical_accuracy, "top_k_categorical_accuracy"),), {})
MeanSquaredError = type("MeanSquaredError", (_wrapper(losses.mean_squared_error, "mean_squared_error"),), {})
MeanAbsoluteError = type("MeanAbsoluteError", (_wrapper(losses.mean_absolute_error, "mean_absolute_error"),), {})
BinaryCrossentropy = type("BinaryCrossentropy", (_wrapper(losses.binary_crossentropy, "binary_crossentropy"),), {})
CategoricalCrossentropy = type("CategoricalCrossentropy",
                               (_wrapper(losses.categorical_crossentropy, "categorical_crossentropy"),), {})
SparseCategoricalCrossentropy = type(
    "SparseCategoricalCrossentropy",
    (_wrapper(losses.sparse_categorical_crossentropy, "sparse_categorical_crossentropy"),), {})

class _Confusion(Metric):
    """Counts over thresholded predictions (y_pred > threshold against y_true > 0.5), as Keras' Precision and
    Recall with one threshold: true positives and the other cell each metric needs."""

    _other = "false_positives"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        if top_k is not None or class_id is not None or isinstance(thresholds, (list, tuple)):
            from xlite import errors
            raise errors.unimplemented(f"tf.keras.metrics.{type(self).__name__} with top_k, class_id or several "
                                       f"thresholds is not supported by xlite yet")
        super().__init__(name=name, dtype=dtype)
        self.threshold = 0.5 if thresholds is None else float(thresholds)
        self.true_positives = self.add_weight("true_positives")
        self.other = self.add_weight(self._other)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = losses._squeeze_last(_float(y_true), _float(y_pred))
        predicted = math_ops.cast(y_pred > self.threshold, dtypes.float32)
        actual = math_ops.cast(y_true > 0.5, dtypes.float32)
        weight = 1.0
        if sample_weight is not None:
            weight = _float(sample_weight)
            while weight.shape.ndims is not None and weight.shape.ndims < predicted.shape.ndims:
                weight = array_ops.expand_dims(weight, -1)
        other = predicted * (1.0 - actual) if self._other == "false_positives" else (1.0 - predicted) * actual
        updates = [self.true_positives.assign_add(reduction_ops.reduce_sum(predicted * actual * weight)),
                   self.other.assign_add(reduction_ops.reduce_sum(other * weight))]
        return None if executing_eagerly() else group(*[u.op for u in updates])

    def result(self):
        tp = _read(self.true_positives)
        return math_ops.div_no_nan(tp, tp + _read(self.other))


class Precision(_Confusion):
    """true positives / (true positives + false positives)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)


class Recall(_Confusion):
    """true positives / (true positives + false negatives)."""

    _other = "false_negatives"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)


_FUNCTIONS = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy, "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError, "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError, "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


def get(identifier, name: str | None = None) -> Metric:
    """A Metric object from a name ('mae', 'categorical_accuracy', ...), a function or a Metric."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _FUNCTIONS:
            raise ValueError(f"Unknown metric function: '{identifier}'. Please ensure you are using a "
                             f"`keras.utils.custom_object_scope` and that this object is included in the scope.")
        return _FUNCTIONS[identifier](name=name or identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        for key, cls in _FUNCTIONS.items():
            if getattr(cls, "__init__", None) and identifier is globals().get(key):
                return cls(name=name or identifier.__name__)
        return MeanMetricWrapper(identifier, name=name or identifier.__name__)
    raise ValueError(f"Could not interpret metric identifier: {identifier}")


def resolve_accuracy(name: str, loss_fn, y_true, y_pred) -> Metric:
    """'accuracy' / 'acc' as Keras resolves it: binary when the output has one unit (or the loss is binary
    crossentropy), sparse when the labels have one dim fewer (or a last dim of 1 against more classes, or the
    loss is sparse), categorical otherwise. The metric keeps the name the user wrote."""
    fn = getattr(loss_fn, "fn", loss_fn)
    t_rank, p_rank = y_true.shape.ndims, y_pred.shape.ndims
    t_last = y_true.shape.dims[-1] if t_rank else None
    p_last = y_pred.shape.dims[-1] if p_rank else None
    if fn is losses.binary_crossentropy or p_last == 1:
        return BinaryAccuracy(name=name)
    if fn is losses.sparse_categorical_crossentropy or (t_rank is not None and p_rank is not None and (
            t_rank < p_rank or (t_last == 1 and p_last is not None and p_last > 1))):
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)
