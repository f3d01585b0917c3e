"""tf.losses: TF1's loss functions, their weighting and reductions, and the LOSSES collection.

As in TF1, each loss is computed in float32 (inputs are cast), weighted, reduced
(by default SUM_BY_NONZERO_WEIGHTS: the weighted sum over the count of non-zero
weights), cast back to the input's dtype and added to GraphKeys.LOSSES.
"""
from __future__ import annotations

from xlite.frontend import array_ops, math_ops, nn_ops, reduction_ops
from xlite.frontend.convert import constant, convert_to_tensor
from xlite.frontend.graph import GraphKeys, Tensor, get_default_graph
from xlite.frontend.missing_api import namespace_getattr
from xlite.frontend.scopes import name_scope
from xlite.ir import dtypes

__all__: list[str] = []


class Reduction:
    """How a loss tensor is reduced to a scalar."""

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple:
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_OVER_NONZERO_WEIGHTS,
                cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key) -> None:
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}. Key should be one of {cls.all()}.")


def _div_no_nan(num: Tensor, den: Tensor, name: str) -> Tensor:
    """num / den, and 0 where den is 0 (with a zero gradient there, not NaN)."""
    zero = math_ops.equal(den, 0.0)
    safe = math_ops.where(zero, 1.0, den)
    return math_ops.where(zero, 0.0, num / safe, name=name)


def _num_elements(losses: Tensor) -> Tensor:
    if losses.shape.is_fully_defined():
        return constant(float(losses.shape.num_elements()), dtype=losses.dtype, name="num_elements")
    return reduction_ops.reduce_sum(array_ops.ones_like(losses), name="num_elements")


def _num_present(losses: Tensor, weights: Tensor) -> Tensor:
    """The number of losses whose (broadcast) weight is non-zero."""
    with name_scope(None, "num_present") as scope:
        present = math_ops.where(math_ops.equal(weights, 0.0), 0.0, 1.0)
        present = present * array_ops.ones_like(losses)
        return reduction_ops.reduce_sum(present, name=scope)


def _check_broadcastable(weights: Tensor, values: Tensor) -> None:
    """TF's static check: weights are a scalar or have the values' rank with dims 1 or equal."""
    w, v = weights.shape, values.shape
    if w.ndims is None or v.ndims is None or w.ndims == 0:
        return
    fits = w.ndims == v.ndims and all(a is None or b is None or a == 1 or a == b for a, b in zip(w.dims, v.dims))
    if not fits:
        raise ValueError(f"weights can not be broadcast to values. values.rank={v.ndims}. weights.rank={w.ndims}. "
                         f"values.shape={v}. weights.shape={w}.")


def add_loss(loss, loss_collection=GraphKeys.LOSSES) -> None:
    if loss_collection:
        get_default_graph().add_to_collection(loss_collection, loss)


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    Reduction.validate(reduction)
    with name_scope(scope, "weighted_loss"):
        losses = convert_to_tensor(losses)
        input_dtype = losses.dtype
        losses = math_ops.cast(losses, dtypes.float32)
        weights = math_ops.cast(weights, dtypes.float32)
        _check_broadcastable(weights, losses)
        weighted = math_ops.multiply(losses, weights)
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            loss = reduction_ops.reduce_sum(weighted)
            if reduction == Reduction.MEAN:
                loss = _div_no_nan(loss, reduction_ops.reduce_sum(array_ops.ones_like(losses) * weights), "value")
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                loss = _div_no_nan(loss, _num_present(losses, weights), "value")
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = _div_no_nan(loss, _num_elements(losses), "value")
        loss = math_ops.cast(loss, input_dtype)
        add_loss(loss, loss_collection)
        return loss


def _require(**args) -> None:
    for key, value in args.items():
        if value is None:
            raise ValueError(f"Argument `{key}` must not be None.")


def _float_pair(labels, predictions) -> tuple[Tensor, Tensor]:
    predictions = math_ops.cast(predictions, dtypes.float32)
    labels = math_ops.cast(labels, dtypes.float32)
    predictions.shape.assert_is_compatible_with(labels.shape)
    return labels, predictions


def _labels_as_logits(labels, logits) -> tuple[Tensor, Tensor]:
    """(labels cast to the logits' dtype, logits), their shapes checked compatible."""
    logits = convert_to_tensor(logits)
    labels = math_ops.cast(labels, logits.dtype)
    logits.shape.assert_is_compatible_with(labels.shape)
    return labels, logits


def _float_loss(default_name: str, labels, predictions, losses_of, weights, scope, loss_collection,
                reduction) -> Tensor:
    """The weighted loss of losses_of(labels, predictions), both cast to float32, in the loss's name scope."""
    with name_scope(scope, default_name) as scope:
        losses = losses_of(*_float_pair(labels, predictions))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def absolute_difference(labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                        reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    _require(labels=labels, predictions=predictions)
    return _float_loss("absolute_difference", labels, predictions,
                       lambda labels, predictions: math_ops.abs(math_ops.subtract(predictions, labels)),
                       weights, scope, loss_collection, reduction)


def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    _require(labels=labels, predictions=predictions)
    return _float_loss("mean_squared_error", labels, predictions,
                       lambda labels, predictions: math_ops.squared_difference(predictions, labels),
                       weights, scope, loss_collection, reduction)


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Quadratic within delta of the label, linear beyond."""
    _require(labels=labels, predictions=predictions)

    def losses_of(labels, predictions):
        abs_error = math_ops.abs(math_ops.subtract(predictions, labels))
        quadratic = math_ops.minimum(abs_error, delta)
        linear = math_ops.subtract(abs_error, quadratic)
        return math_ops.add(0.5 * math_ops.multiply(quadratic, quadratic), math_ops.multiply(delta, linear))
    return _float_loss("huber_loss", labels, predictions, losses_of, weights, scope, loss_collection, reduction)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None, loss_collection=GraphKeys.LOSSES,
             reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    _require(labels=labels, predictions=predictions)
    return _float_loss("log_loss", labels, predictions,
                       lambda labels, predictions: (
                           -math_ops.multiply(labels, math_ops.log(predictions + epsilon))
                           - math_ops.multiply(1 - labels, math_ops.log(1 - predictions + epsilon))),
                       weights, scope, loss_collection, reduction)


def hinge_loss(labels, logits, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """relu(1 - y * logits) with labels in {0, 1} mapped to y in {-1, 1}."""
    _require(labels=labels, logits=logits)
    return _float_loss("hinge_loss", labels, logits,
                       lambda labels, logits: nn_ops.relu(1 - math_ops.multiply(2 * labels - 1, logits)),
                       weights, scope, loss_collection, reduction)


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS, dim=None) -> Tensor:
    """1 - sum(labels * predictions, axis) for unit-normalized inputs."""
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("You must specify argument `axis`.")
    _require(labels=labels, predictions=predictions)
    return _float_loss("cosine_distance_loss", labels, predictions,
                       lambda labels, predictions: 1 - reduction_ops.reduce_sum(
                           math_ops.multiply(predictions, labels), axis=(axis,), keepdims=True),
                       weights, scope, loss_collection, reduction)


def _cross_entropy(default_name: str, labels, logits, label_smoothing, classes_of, xentropy, weights, scope,
                   loss_collection, reduction) -> Tensor:
    """The weighted loss of xentropy(labels, logits), labels smoothed first: l * (1 - s) + s / classes."""
    with name_scope(scope, default_name) as scope:
        labels, logits = _labels_as_logits(labels, logits)
        if label_smoothing > 0:
            labels = labels * (1 - label_smoothing) + label_smoothing / classes_of(labels)
        losses = xentropy(labels, logits)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Label smoothing moves each label towards 1/2: z * (1 - s) + s / 2."""
    _require(multi_class_labels=multi_class_labels, logits=logits)
    return _cross_entropy("sigmoid_cross_entropy_loss", multi_class_labels, logits, label_smoothing, lambda _: 2,
                          lambda labels, logits: nn_ops.sigmoid_cross_entropy_with_logits(
                              labels=labels, logits=logits, name="xentropy"),
                          weights, scope, loss_collection, reduction)


def _num_classes(labels: Tensor) -> int:
    classes = labels.shape.dims[-1] if labels.shape.ndims else None
    if classes is None:
        raise ValueError("softmax_cross_entropy with label_smoothing needs a known number of classes")
    return classes


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Label smoothing mixes in the uniform distribution: t * (1 - s) + s / num_classes; no gradient to labels."""
    _require(onehot_labels=onehot_labels, logits=logits)
    return _cross_entropy("softmax_cross_entropy_loss", onehot_labels, logits, label_smoothing, _num_classes,
                          lambda labels, logits: nn_ops.softmax_cross_entropy_with_logits_v2(
                              labels=math_ops.stop_gradient(labels, name="labels_stop_gradient"), logits=logits,
                              name="xentropy"),
                          weights, scope, loss_collection, reduction)


def _squeeze_last(t: Tensor) -> Tensor:
    return array_ops.squeeze(t, [-1])


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Integer labels; labels (or weights) with a trailing dimension of 1 are squeezed first, as in TF."""
    _require(labels=labels, logits=logits)
    with name_scope(scope, "sparse_softmax_cross_entropy_loss") as scope:
        labels, logits = convert_to_tensor(labels), convert_to_tensor(logits)
        lrank, rank = labels.shape.ndims, logits.shape.ndims
        if lrank is not None and rank is not None and lrank == rank and labels.shape.dims[-1] in (1, None):
            labels = _squeeze_last(labels)
        weights = convert_to_tensor(weights) if not isinstance(weights, (int, float)) else weights
        if isinstance(weights, Tensor) and weights.shape.ndims is not None and labels.shape.ndims is not None \
                and weights.shape.ndims - labels.shape.ndims == 1:
            weights = _squeeze_last(weights)
        losses = nn_ops.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


# collections ------------------------------------------------------------------------------
def get_losses(scope=None, loss_collection=GraphKeys.LOSSES) -> list:
    return get_default_graph().get_collection(loss_collection, scope)


def get_regularization_losses(scope=None) -> list:
    return get_default_graph().get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope=None, name="total_regularization_loss") -> Tensor:
    losses = get_regularization_losses(scope)
    if losses:
        return math_ops.add_n(losses, name=name)
    return constant(0.0, name=name)


def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None) -> Tensor:
    """The sum of the LOSSES collection (and of the regularization losses)."""
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses += get_regularization_losses(scope=scope)
    if not losses:
        raise ValueError("No losses found: the LOSSES collection is empty, so there is no total loss to sum")
    return math_ops.add_n(losses, name=name)

__getattr__ = namespace_getattr("losses", __name__)      # a TF name it lacks: UnimplementedError naming it
