"""tf.keras.losses: Keras' loss functions (per sample) and Loss objects (weighted, reduced) as frontend ops.

Keras' formulas, which are not tf.losses': probabilities are clipped to
[epsilon, 1 - epsilon] before the log (epsilon = 1e-7), categorical probabilities
are renormalized first, and `from_logits=True` uses the fused nn ops. A Loss
object multiplies the per-sample losses by `sample_weight` and reduces them with
SUM_OVER_BATCH_SIZE (sum / number of elements), Keras' default.
"""
from __future__ import annotations

from xlite.frontend import array_ops, clip_ops, math_ops, nn_ops, reduction_ops, shape_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.ir import dtypes
from xlite.keras import backend


class Reduction:
    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"


def _float(x, like=None):
    x = convert_to_tensor(x)
    want = like.dtype if like is not None else dtypes.as_dtype(backend.floatx())
    return x if x.dtype == want else math_ops.cast(x, want)


def _squeeze_last(y_true, y_pred):
    """Keras drops a trailing 1 of y_true when it has one dim more than y_pred (and the reverse)."""
    t, p = y_true.shape.ndims, y_pred.shape.ndims
    if t is not None and p is not None:
        if t == p + 1 and y_true.shape.dims[-1] == 1:
            y_true = array_ops.squeeze(y_true, [-1])
        elif p == t + 1 and y_pred.shape.dims[-1] == 1:
            y_pred = array_ops.squeeze(y_pred, [-1])
    return y_true, y_pred


def mean_squared_error(y_true, y_pred):
    y_pred = convert_to_tensor(y_pred)
    y_true = _float(y_true, y_pred)
    return reduction_ops.reduce_mean(math_ops.squared_difference(y_pred, y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_pred = convert_to_tensor(y_pred)
    y_true = _float(y_true, y_pred)
    return reduction_ops.reduce_mean(math_ops.abs(y_pred - y_true), axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis=-1):
    y_pred = convert_to_tensor(y_pred)
    y_true = _float(y_true, y_pred)
    if label_smoothing:
        classes = math_ops.cast(shape_ops.shape(y_true)[-1], y_pred.dtype)
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / classes
    if from_logits:
        return nn_ops.softmax_cross_entropy_with_logits_v2(labels=y_true, logits=y_pred, axis=axis)
    y_pred = y_pred / reduction_ops.reduce_sum(y_pred, axis=axis, keepdims=True)
    eps = backend.epsilon()
    y_pred = clip_ops.clip_by_value(y_pred, eps, 1.0 - eps)
    return -reduction_ops.reduce_sum(y_true * math_ops.log(y_pred), axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, axis=-1):
    y_pred = convert_to_tensor(y_pred)
    y_true = convert_to_tensor(y_true)
    rank = y_pred.shape.ndims
    if y_true.shape.ndims == rank and y_true.shape.dims[-1] == 1:
        y_true = array_ops.squeeze(y_true, [-1])
    labels = math_ops.cast(y_true, dtypes.int64)
    logits = y_pred
    if not from_logits:
        eps = backend.epsilon()
        logits = math_ops.log(clip_ops.clip_by_value(y_pred, eps, 1.0 - eps))
    if rank is not None and rank > 2:
        flat = array_ops.reshape(logits, [-1, logits.shape.dims[-1]])
        losses = nn_ops.sparse_softmax_cross_entropy_with_logits(labels=array_ops.reshape(labels, [-1]),
                                                                 logits=flat)
        return array_ops.reshape(losses, shape_ops.shape(labels))
    return nn_ops.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis=-1):
    y_pred = convert_to_tensor(y_pred)
    y_true = _float(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        bce = nn_ops.sigmoid_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    else:
        eps = backend.epsilon()
        p = clip_ops.clip_by_value(y_pred, eps, 1.0 - eps)
        bce = -(y_true * math_ops.log(p + eps) + (1.0 - y_true) * math_ops.log(1.0 - p + eps))
    return reduction_ops.reduce_mean(bce, axis=axis)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


class Loss:
    """A loss function with a reduction: call(y_true, y_pred, sample_weight) -> scalar (or per-sample: NONE)."""

    def __init__(self, reduction: str = Reduction.AUTO, name: str | None = None):
        self.reduction, self.name = reduction, name

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = convert_to_tensor(y_pred)
        losses = self.call(y_true, y_pred)
        return reduce_weighted(losses, sample_weight, self.reduction)

    def get_config(self) -> dict:
        return {"reduction": self.reduction, "name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def reduce_weighted(losses, sample_weight, reduction: str):
    """Keras' compute_weighted_loss: losses * sample_weight (broadcast over trailing dims), then reduced."""
    if sample_weight is not None:
        sample_weight = _float(sample_weight, losses)
        lr, wr = losses.shape.ndims, sample_weight.shape.ndims
        if lr is not None and wr is not None:
            if wr == lr + 1 and sample_weight.shape.dims[-1] == 1:
                sample_weight = array_ops.squeeze(sample_weight, [-1])
            while sample_weight.shape.ndims < lr:
                sample_weight = array_ops.expand_dims(sample_weight, -1)
        losses = losses * sample_weight
    if reduction == Reduction.NONE:
        return losses
    total = reduction_ops.reduce_sum(losses)
    if reduction == Reduction.SUM:
        return total
    count = math_ops.cast(shape_ops.size(losses), losses.dtype)
    return math_ops.div_no_nan(total, count)


class LossFunctionWrapper(Loss):
    def __init__(self, fn, reduction: str = Reduction.AUTO, name: str | None = None, **kwargs):
        super().__init__(reduction=reduction, name=name)
        self.fn, self._fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        """Keras' squeeze_or_expand_dimensions first: labels [n] against predictions [n, 1] drop the 1."""
        y_true, y_pred = _squeeze_last(convert_to_tensor(y_true), convert_to_tensor(y_pred))
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        return {**self._fn_kwargs, **super().get_config()}


class MeanSquaredError(LossFunctionWrapper):
    def __init__(self, reduction=Reduction.AUTO, name="mean_squared_error"):
        super().__init__(mean_squared_error, reduction=reduction, name=name)


class MeanAbsoluteError(LossFunctionWrapper):
    def __init__(self, reduction=Reduction.AUTO, name="mean_absolute_error"):
        super().__init__(mean_absolute_error, reduction=reduction, name=name)


class CategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=Reduction.AUTO,
                 name="categorical_crossentropy"):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, reduction=Reduction.AUTO, name="sparse_categorical_crossentropy"):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name, from_logits=from_logits)


class BinaryCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=Reduction.AUTO,
                 name="binary_crossentropy"):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


_BY_NAME = {
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error, "MSE": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
}
_CLASSES = {c.__name__: c for c in (MeanSquaredError, MeanAbsoluteError, CategoricalCrossentropy,
                                     SparseCategoricalCrossentropy, BinaryCrossentropy)}


def get(identifier):
    """A loss from its Keras name, a class name, a config dict, a Loss or a function."""
    if identifier is None or isinstance(identifier, Loss) or callable(identifier) and not isinstance(identifier,
                                                                                                        type):
        return identifier
    if isinstance(identifier, str):
        if identifier in _BY_NAME:
            return _BY_NAME[identifier]
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError(f"Unknown loss function: '{identifier}'. Please ensure you are using a "
                         f"`keras.utils.custom_object_scope` and that this object is included in the scope.")
    if isinstance(identifier, dict):
        return _CLASSES[identifier["class_name"]].from_config(identifier["config"])
    raise ValueError(f"Could not interpret loss function identifier: {identifier}")


def as_loss_object(identifier) -> Loss:
    """What compile keeps per output: a Loss object (a function is wrapped, named after it)."""
    loss = get(identifier)
    if isinstance(loss, Loss):
        return loss
    return LossFunctionWrapper(loss, name=getattr(loss, "__name__", "loss"))
