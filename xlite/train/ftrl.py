"""TF1's FtrlOptimizer (McMahan et al., "Ad Click Prediction"): per-coordinate learning rates from the
accumulated squared gradients, with L1 giving exact zeros. Formula of TF's ApplyFtrl/ApplyFtrlV2 kernels."""
from __future__ import annotations

from xlite.frontend import array_ops, math_ops
from xlite.frontend.variables import assign, group
from xlite.train.optimizers import Optimizer


class FtrlOptimizer(Optimizer):
    """accum_new = accum + g^2;  linear += g' - (accum_new^-p - accum^-p) / lr * var  (g' = g + 2*l2_shrinkage*var);
    quadratic = accum_new^-p / lr + 2*l2;  var = (sign(linear)*l1 - linear) / quadratic where |linear| > l1, else 0.
    Slots "accum" (starting at initial_accumulator_value) and "linear" (zeros); p is learning_rate_power."""

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0, use_locking=False, name="Ftrl",
                 accum_name=None, linear_name=None, l2_shrinkage_regularization_strength=0.0, beta=None):
        if initial_accumulator_value < 0.0:
            raise ValueError(f"initial_accumulator_value {initial_accumulator_value:f} needs to be positive or zero")
        if learning_rate_power > 0.0:
            raise ValueError(f"learning_rate_power {learning_rate_power:f} needs to be negative or zero")
        if l1_regularization_strength < 0.0:
            raise ValueError(f"l1_regularization_strength {l1_regularization_strength:f} needs to be positive or zero")
        if l2_regularization_strength < 0.0:
            raise ValueError(f"l2_regularization_strength {l2_regularization_strength:f} needs to be positive or zero")
        if l2_shrinkage_regularization_strength < 0.0:
            raise ValueError(f"l2_shrinkage_regularization_strength {l2_shrinkage_regularization_strength:f} needs "
                             "to be positive or zero")
        super().__init__(use_locking, name)
        self._lr, self._lr_power = learning_rate, learning_rate_power
        self._initial = initial_accumulator_value
        self._l1, self._l2 = l1_regularization_strength, l2_regularization_strength
        self._l2_shrinkage, self._beta = l2_shrinkage_regularization_strength, beta or 0.0

    def _create_slots(self, var):
        self._slot(var, "accum", self._initial)
        self._slot(var, "linear")

    _row_slots = ("accum", "linear")

    def _row_step(self, grad, var, accum, linear):
        """(var, [accum, linear]) after one step: of whole tensors, or of the rows a sparse gradient touches
        (TF's sparse_apply_ftrl leaves the other rows alone)."""
        lr, power = self._hyper(self._lr, var), self._hyper(self._lr_power, var)
        l1 = self._hyper(self._l1, var)
        l2 = self._hyper(self._l2, var) + self._hyper(self._beta, var) / (2.0 * lr)   # TF's adjusted_l2
        shrunk_grad = grad + 2.0 * self._hyper(self._l2_shrinkage, var) * var if self._l2_shrinkage else grad
        accum_new = accum + math_ops.square(grad)
        sigma = (math_ops.pow(accum_new, -power) - math_ops.pow(accum, -power)) / lr
        linear_new = linear + shrunk_grad - sigma * var
        quadratic = math_ops.pow(accum_new, -power) / lr + 2.0 * l2
        shrunk = (math_ops.sign(linear_new) * l1 - linear_new) / quadratic
        var_new = math_ops.where(math_ops.greater(math_ops.abs(linear_new), l1), shrunk, array_ops.zeros_like(shrunk))
        return var_new, [accum_new, linear_new]

    def _apply_dense(self, grad, var):
        accum, linear = self._slot(var, "accum"), self._slot(var, "linear")
        var_new, (accum_new, linear_new) = self._row_step(grad, var, accum, linear)
        linear_update = assign(linear, linear_new)
        with var.graph.control_dependencies([linear_update]):
            var_update = assign(var, var_new)
        with var.graph.control_dependencies([var_update]):      # every read of the old accum comes first
            return group(var_update, assign(accum, accum_new))
