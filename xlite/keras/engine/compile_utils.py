"""What compile() resolves: a Loss per output, the metrics per output ('accuracy' resolved like Keras), names.

The containers build ops on the model's outputs and targets; they are used by
both the graph-mode step (graph_steps.py) and the eager step (eager_steps.py).
"""
from __future__ import annotations

from xlite.frontend import math_ops, nest, shape_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.ir import dtypes
from xlite.keras import losses as losses_mod
from xlite.keras import metrics as metrics_mod


def _per_output(spec, output_names: list[str], what: str) -> list:
    """A spec for every output: one shared, a list in order, or a dict by output name."""
    n = len(output_names)
    if isinstance(spec, dict):
        unknown = set(spec) - set(output_names)
        if unknown:
            raise ValueError(f"Found unexpected {what} keys {sorted(unknown)}; expected keys in {output_names}")
        return [spec.get(name) for name in output_names]
    per_output = what == "losses" or (what != "losses" and n > 1 and len(spec) == n and all(
        isinstance(s, (list, tuple)) or s is None for s in spec)) if isinstance(spec, (list, tuple)) else False
    if isinstance(spec, (list, tuple)) and per_output:
        if len(spec) != n:
            raise ValueError(f"When passing a list as loss, it should have one entry per model outputs. The model "
                             f"has {n} outputs, but you passed loss={spec}")
        return list(spec)
    return [spec] * n


class LossesContainer:
    """The total loss: sum over outputs of loss_weight * Loss(y_true, y_pred, sample_weight), plus the model's
    regularization losses; the per-output values too (logged as `<output>_loss` when there are several)."""

    def __init__(self, loss, loss_weights, output_names: list[str]):
        self.output_names = output_names
        self.losses = [None if l is None else losses_mod.as_loss_object(l)
                       for l in _per_output(loss, output_names, "losses")]
        weights = loss_weights if loss_weights is not None else 1.0
        if isinstance(weights, (list, tuple)):
            self.weights = [float(w) for w in weights]
        elif isinstance(weights, dict):
            self.weights = [float(weights.get(n, 1.0)) for n in output_names]
        else:
            self.weights = [float(weights)] * len(output_names)
        self.loss_metric = metrics_mod.Mean(name="loss")
        self.output_metrics = ([metrics_mod.Mean(name=f"{n}_loss") for n in output_names]
                               if len(output_names) > 1 else [])

    def __call__(self, y_true: list, y_pred: list, sample_weights: list, regularization: list):
        """(total loss tensor, per-output loss tensors)."""
        per_output, total = [], None
        for loss, w, t, p, sw in zip(self.losses, self.weights, y_true, y_pred, sample_weights):
            if loss is None:
                continue
            value = loss(t, p, sample_weight=sw)
            per_output.append(value)
            term = value * w if w != 1.0 else value
            total = term if total is None else total + term
        if total is None:
            raise ValueError("No loss found. You may have forgotten to provide a `loss` argument in the `compile()` "
                             "method.")
        for r in regularization:
            total = total + math_ops.cast(convert_to_tensor(r), total.dtype)
        return total, per_output

    def metrics(self) -> list:
        return [self.loss_metric] + self.output_metrics


class MetricsContainer:
    """The compiled metrics of each output, built on first use from the targets' and outputs' shapes."""

    def __init__(self, metrics, weighted_metrics, output_names: list[str], losses: LossesContainer):
        self.output_names = output_names
        self._specs = _per_output(metrics or [], output_names, "metrics")
        self._weighted_specs = _per_output(weighted_metrics or [], output_names, "weighted_metrics")
        self._losses = losses
        self.metrics: list[list] | None = None          # per output: [(metric, weighted)]

    def _build(self, y_true: list, y_pred: list) -> None:
        self.metrics = []
        prefix = len(self.output_names) > 1
        for i, (name, t, p) in enumerate(zip(self.output_names, y_true, y_pred)):
            out = []
            for specs, weighted in ((self._specs[i], False), (self._weighted_specs[i], True)):
                for spec in ([] if specs is None else specs if isinstance(specs, (list, tuple)) else [specs]):
                    out.append((self._resolve(spec, i, t, p, name if prefix else None, weighted), weighted))
            self.metrics.append(out)

    def _resolve(self, spec, i: int, t, p, prefix: str | None, weighted: bool):
        if isinstance(spec, str) and spec in ("accuracy", "acc"):
            display = spec
            metric = metrics_mod.resolve_accuracy(display, self._losses.losses[i], t, p)
        elif isinstance(spec, str) and spec in ("crossentropy", "ce"):
            raise ValueError(f"metric {spec!r}: use the loss's own name")
        else:
            metric = metrics_mod.get(spec)
        if prefix:
            metric._name = f"{prefix}_{metric.name}"
        if weighted and not prefix:
            metric._name = f"weighted_{metric.name}"
        return metric

    def update(self, y_true: list, y_pred: list, sample_weights: list) -> list:
        if self.metrics is None:
            self._build(y_true, y_pred)
        updates = []
        for per_output, t, p, sw in zip(self.metrics, y_true, y_pred, sample_weights):
            for metric, weighted in per_output:
                updates.append(metric.update_state(t, p, sample_weight=sw if weighted else None))
        return updates

    def flat(self) -> list:
        return [m for per_output in (self.metrics or []) for m, _ in per_output]


def batch_size_of(tensors: list):
    """The batch size of the first output, as a float tensor (the loss metric's weight)."""
    first = nest.flatten(tensors)[0]
    return math_ops.cast(shape_ops.shape(first)[0], dtypes.float32)
