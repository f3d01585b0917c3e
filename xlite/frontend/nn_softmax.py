"""Softmax, log-softmax and the cross-entropies from logits, composed of primitives under TF's scopes.

The max is subtracted before exponentiating (behind a stop_gradient: the result
does not depend on it), and cross-entropies use log_softmax directly, never the
log of a softmax, so large logits neither overflow nor lose the small probabilities.
Gradients come from the primitives' rules.

A sparse cross-entropy's labels pass through SparseSoftmaxLabelsInRange, whose lowering checks each label once
(frontend/run_checks.py): TF's CPU kernel's InvalidArgumentError for one outside [0, num_classes), raised after the
run (at lowering for labels known then); where no check can raise (while and cond bodies, AOT objects) the loss is
NaN there, as on TF's GPU.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from xlite.frontend import array_ops, math_ops, reduction_ops
from xlite.frontend.array_helpers import op_scope
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import no_gradient
from xlite.frontend.graph import Tensor
from xlite.frontend.nn_activations import relu
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.run_checks import REPORTED_OP_TYPES, RunCheck, add_check, first_of, flat_int64, site
from xlite.ir import dtypes
from xlite.ir.symbolic import is_symbolic

_LABELS_CHECKED = "SparseSoftmaxLabelsInRange"   # xlite's own: (labels, logits) -> labels, checked
REPORTED_OP_TYPES[_LABELS_CHECKED] = "SparseSoftmaxCrossEntropyWithLogits"


def _logits(logits, what: str) -> Tensor:
    x = convert_to_tensor(logits, name="logits")
    if not x.dtype.is_floating:
        raise TypeError(f"{what}: logits must be floating point, got {x.dtype.name}")
    if x.shape.ndims == 0:
        raise ValueError(f"{what}: logits cannot be a scalar. Received logits={x}")
    return x


def _axis(axis, dim) -> int:
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    return -1 if axis is None else int(axis)


def _shifted(x: Tensor, axis: int) -> Tensor:
    """x minus its max along axis; the max is a constant as far as gradients go."""
    return x - math_ops.stop_gradient(reduction_ops.reduce_max(x, axis, keepdims=True))


def softmax(logits, axis=None, name=None, dim=None) -> Tensor:
    x = _logits(logits, "softmax")
    axis = _axis(axis, dim)
    with x.graph.name_scope(name or "Softmax") as scope:
        e = math_ops.exp(_shifted(x, axis))
        return math_ops.realdiv(e, reduction_ops.reduce_sum(e, axis, keepdims=True), name=scope)


def log_softmax(logits, axis=None, name=None, dim=None) -> Tensor:
    x = _logits(logits, "log_softmax")
    axis = _axis(axis, dim)
    with x.graph.name_scope(name or "LogSoftmax") as scope:
        shifted = _shifted(x, axis)
        log_sum = math_ops.log(reduction_ops.reduce_sum(math_ops.exp(shifted), axis, keepdims=True))
        return math_ops.subtract(shifted, log_sum, name=scope)


def _xent_args(what: str, labels, logits) -> tuple[Tensor, Tensor]:
    if labels is None or logits is None:
        raise ValueError(f"Both `labels` and `logits` must be provided for {what}. "
                         f"Received: labels={labels} and logits={logits}")
    logits = _logits(logits, what)
    labels = convert_to_tensor(labels, dtype=logits.dtype, name="labels")
    if not labels.shape.is_compatible_with(logits.shape):
        raise ValueError(f"{what}: labels and logits must have the same shape ({labels.shape} vs {logits.shape})")
    return labels, logits


def softmax_cross_entropy_with_logits_v2(labels, logits, axis=None, name=None, dim=None) -> Tensor:
    """-sum(labels * log_softmax(logits)) along axis; differentiable in labels too."""
    labels, logits = _xent_args("softmax_cross_entropy_with_logits", labels, logits)
    axis = _axis(axis, dim)
    with logits.graph.name_scope(name or "softmax_cross_entropy_with_logits") as scope:
        log_p = log_softmax(logits, axis)
        return math_ops.negative(reduction_ops.reduce_sum(labels * log_p, axis), name=scope)


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=None, name=None,
                                      axis=None) -> Tensor:
    """TF1's version: no gradient flows into labels."""
    if _sentinel is not None:
        raise ValueError("Only call `softmax_cross_entropy_with_logits` with named arguments "
                         "(labels=..., logits=..., ...).")
    labels, logits = _xent_args("softmax_cross_entropy_with_logits", labels, logits)
    with logits.graph.name_scope(name or "softmax_cross_entropy_with_logits_sg") as scope:
        labels = math_ops.stop_gradient(labels, name="labels_stop_gradient")
        return softmax_cross_entropy_with_logits_v2(labels, logits, axis=_axis(axis, dim), name=scope)


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None) -> Tensor:
    """Integer class labels; a label outside [0, num_classes) raises TF's InvalidArgumentError (NaN where no
    check can raise: see the module's docstring)."""
    if _sentinel is not None:
        raise ValueError("Only call `sparse_softmax_cross_entropy_with_logits` with named arguments.")
    if labels is None or logits is None:
        raise ValueError("Both `labels` and `logits` must be provided for sparse_softmax_cross_entropy_with_logits")
    logits = _logits(logits, "sparse_softmax_cross_entropy_with_logits")
    labels = convert_to_tensor(labels, name="labels")
    if not labels.dtype.is_integer:
        raise TypeError(f"sparse_softmax_cross_entropy_with_logits: labels must be int32 or int64, "
                        f"got {labels.dtype.name}")
    lrank, rank = labels.shape.ndims, logits.shape.ndims
    if lrank is not None and rank is not None:
        if lrank != rank - 1:
            raise ValueError("`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: "
                             f"labels.shape={labels.shape} of rank {lrank} and logits.shape={logits.shape} "
                             f"of rank {rank}")
        if not labels.shape.is_compatible_with(logits.shape.dims[:-1]):
            raise ValueError("`labels.shape` must equal `logits.shape` except for the last dimension. "
                             f"Received: labels.shape={labels.shape} and logits.shape={logits.shape}")
    graph = None if logits._is_eager else logits.graph       # (a tf.function's captured logits: its own graph)
    with op_scope(name, "SparseSoftmaxCrossEntropyWithLogits", graph) as scope:
        depth = logits.shape.dims[-1] if rank is not None else None
        if depth is None:   # the number of classes is known only at run time
            depth = math_ops.cast(array_ops.shape(logits)[-1], labels.dtype)
        checked = make_op(_LABELS_CHECKED, [labels, logits], name=name or "SparseSoftmaxCrossEntropyWithLogits")
        labels = checked.outputs[0]
        onehot = array_ops.one_hot(labels, depth, dtype=logits.dtype)
        nll = math_ops.negative(reduction_ops.reduce_sum(onehot * log_softmax(logits), -1))
        valid = math_ops.logical_and(math_ops.greater_equal(labels, 0), math_ops.less(labels, depth))
        return math_ops.where(valid, nll, float("nan"), name=scope)


@dataclasses.dataclass(frozen=True)
class LabelCheck(RunCheck):
    """TF's message for a label out of range; the check's output is [position or -1, value, bound, labels...]."""
    template: str = ("Received a label value of {value} which is outside the valid range of [0, {bound}).  "
                     "Label values: {labels}")

    def raise_if_failed(self, found) -> None:
        found = [int(v) for v in np.asarray(found).reshape(-1)]
        if found[0] >= 0:
            raise self.labels_error(found[3:], found[1], found[2])

    def labels_error(self, labels, value: int, bound: int, named: bool = True):
        template = self.template.replace("{labels}", " ".join(str(int(v)) for v in labels))
        return dataclasses.replace(self, template=template).error_for(0, value, bound, named)


@lowering(_LABELS_CHECKED)
def _lower_labels_checked(ctx, op, labels, logits):
    """The labels as they are; known ones outside [0, classes) raise now, fed ones after the run."""
    bound = logits.shape.dims[-1] if logits.shape.dims else None
    if ctx.static or bound is None:
        return labels
    check = LabelCheck(op.name, site(op), ())
    known = ctx.constant_value(labels)
    if known is not None and not is_symbolic(bound):
        flat = np.asarray(known).reshape(-1)
        bad = np.flatnonzero((flat < 0) | (flat >= bound))
        if bad.size:
            raise check.labels_error(flat, int(flat[bad[0]]), bound, named=False)
        return labels
    if getattr(ctx, "run_checks", None) is None:
        return labels
    b, i64 = ctx.b, dtypes.int64
    flat = flat_int64(b, labels)
    count = flat.shape.dims[0]
    low = b.compare(flat, b.broadcast_to(b.scalar(0, i64), (count,)), "LT")
    outside = b.emit("or", (low, b.compare(flat, b.broadcast_to(b.scalar(bound, i64), (count,)), "GE")))
    add_check(ctx, b.emit("concatenate", (first_of(b, outside, flat, bound), flat), dimension=0), check)
    return labels


no_gradient(_LABELS_CHECKED)


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None) -> Tensor:
    """max(x, 0) - x * z + log(1 + exp(-|x|)), with TF's one-sided |x| so the gradient at 0 is exact."""
    if _sentinel is not None:
        raise ValueError("Only call `sigmoid_cross_entropy_with_logits` with named arguments.")
    labels, logits = _xent_args("sigmoid_cross_entropy_with_logits", labels, logits)
    with logits.graph.name_scope(name or "logistic_loss") as scope:
        nonnegative = math_ops.greater_equal(logits, 0)
        relu_logits = math_ops.where(nonnegative, logits, 0)
        neg_abs_logits = math_ops.where(nonnegative, -logits, logits)
        return math_ops.add(relu_logits - logits * labels, math_ops.log1p(math_ops.exp(neg_abs_logits)),
                            name=scope)


def weighted_cross_entropy_with_logits(labels=None, logits=None, pos_weight=None, name=None,
                                       targets=None) -> Tensor:
    """Sigmoid cross-entropy with positive examples weighted by pos_weight (TF's stable form)."""
    labels = targets if labels is None else labels
    labels, logits = _xent_args("weighted_cross_entropy_with_logits", labels, logits)
    if pos_weight is None:
        raise ValueError("weighted_cross_entropy_with_logits needs pos_weight")
    with logits.graph.name_scope(name or "logistic_loss") as scope:
        log_weight = 1 + (pos_weight - 1) * labels
        softplus_neg = math_ops.log1p(math_ops.exp(-math_ops.abs(logits))) + relu(-logits)
        return math_ops.add((1 - labels) * logits, log_weight * softplus_neg, name=scope)
