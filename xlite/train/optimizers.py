"""TF1's optimizers with TF's exact update formulas; slots are ordinary Variables of the graph."""
from __future__ import annotations

import sys

import numpy as np

from xlite.frontend import math_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.fill_ops import _filled
from xlite.frontend.gather_ops import gather_clamped
from xlite.frontend.gradients import gradients
from xlite.frontend import array_ops
from xlite.frontend.graph import GraphKeys, Tensor, executing_eagerly, get_default_graph
from xlite.frontend.indexed_slices import IndexedSlices
from xlite.frontend.scatter_ops import scatter_sub, scatter_update, tensor_scatter_nd_add
from xlite.frontend.variables import Variable, assign, assign_add, assign_sub, group
from xlite.train.sparse_rows import cast_slices, first_only, summed_rows


def get_global_step(graph=None):
    graph = graph or get_default_graph()
    steps = graph.get_collection(GraphKeys.GLOBAL_STEP)
    return steps[0] if steps else None


def create_global_step(graph=None):
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError("\"global_step\" already exists.")
    with graph.as_default():
        return Variable(np.int64(0), trainable=False, name="global_step",
                        collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph=None):
    return get_global_step(graph) or create_global_step(graph)


class Optimizer:
    """compute_gradients + apply_gradients; subclasses give the slots and one variable's update."""

    GATE_NONE, GATE_OP, GATE_GRAPH = 0, 1, 2

    def __init__(self, use_locking: bool, name: str):
        self._name = name
        self._slots: dict[tuple[Variable, str], Variable] = {}

    def get_name(self) -> str:
        return self._name

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None, grad_loss=None):
        grads_and_vars = self.compute_gradients(loss, var_list=var_list, grad_loss=grad_loss)
        if not [g for g, _ in grads_and_vars if g is not None]:
            raise ValueError(f"No gradients provided for any variable, check your graph for ops that do not "
                             f"support gradients, between variables {[v.name for _, v in grads_and_vars]} "
                             f"and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                          colocate_gradients_with_ops=False, grad_loss=None):
        if callable(loss) or executing_eagerly():
            return _eager_gradients(loss, var_list, grad_loss)
        loss = convert_to_tensor(loss)
        if var_list is None:
            var_list = loss.graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)
        var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = gradients(loss, var_list, grad_ys=grad_loss)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        grads_and_vars = [(g, v) for g, v in _replica_mean(grads_and_vars) if g is not None]
        if not grads_and_vars:
            raise ValueError("No gradients provided for any variable.")
        graph = grads_and_vars[0][1].graph
        with graph.name_scope(name or self._name) as scope:
            self._prepare()
            for _, v in grads_and_vars:
                self._create_slots(v)
            updates = []
            for g, v in grads_and_vars:
                with graph.name_scope("update_" + v.op.name):
                    if isinstance(g, IndexedSlices):
                        updates.append(self._apply_sparse_duplicate_indices(cast_slices(g, v.dtype), v))
                        continue
                    g = convert_to_tensor(g)
                    if g.dtype != v.dtype:
                        g = math_ops.cast(g, v.dtype)
                    updates.append(self._apply_dense(g, v))
            finish = self._finish(updates)
            if global_step is None:       # the op takes the scope's own name, as in TF ("GradientDescent")
                return group(finish, name=scope)
            with graph.control_dependencies([finish]):
                return assign_add(global_step, np.array(1, dtype=global_step.dtype.np), name=scope).op

    # slots ---------------------------------------------------------------------------------
    def _slot(self, var: Variable, slot_name: str, initial: float = 0.0) -> Variable:
        """The slot `slot_name` (get_slot's key) of `var`: a Variable named `<var>/<optimizer name>`, `_1`, ... in
        the order the slots are made (TF's names, so checkpoints line up)."""
        key = (var, slot_name)
        if key not in self._slots:
            graph = var.graph
            shape, dtype = var.shape.as_list(), var.dtype
            with graph.name_scope(var.op.name + "/"), graph.control_dependencies(None):
                # as TF's slot_creator: `<slot>/Initializer/zeros`, a Fill past 1000 elements (a Const of the
                # whole value would put every slot's bytes in the GraphDef and in the initializer's program)
                self._slots[key] = Variable(lambda: _filled(initial, shape, dtype, None, "zeros" if initial == 0
                                                            else "Const"), trainable=False, name=self._name)
        return self._slots[key]

    def get_slot(self, var: Variable, name: str):
        return self._slots.get((var, name))

    def get_slot_names(self) -> list[str]:
        return sorted({name for _, name in self._slots})

    def variables(self) -> list[Variable]:
        return list(self._slots.values())

    def _hyper(self, value, like: Variable) -> Tensor:
        """A hyperparameter (float, tensor or Variable, e.g. a decayed learning rate) in the variable's dtype."""
        t = convert_to_tensor(value, dtype=None if isinstance(value, (Tensor, Variable)) else like.dtype)
        return t if t.dtype == like.dtype else math_ops.cast(t, like.dtype)

    def _prepare(self) -> None:
        pass

    def _create_slots(self, var: Variable) -> None:
        pass

    def _apply_dense(self, grad: Tensor, var: Variable):
        raise NotImplementedError

    def _apply_sparse_duplicate_indices(self, grad: IndexedSlices, var: Variable):
        """TF's default: the rows of repeated indices summed, then `_apply_sparse`."""
        summed, indices, first = summed_rows(grad)
        return self._apply_sparse(summed, indices, first, var)

    def _apply_sparse(self, summed: Tensor, indices: Tensor, first: Tensor, var: Variable):
        """The update from the rows `summed_rows` gives. A row-wise optimizer (one with `_row_slots`) changes only
        those rows, as TF's sparse kernels do; any other applies its dense update to the summed rows."""
        if self._row_slots is None:
            dense = IndexedSlices(first_only(summed, first), indices, array_ops.shape(var, out_type=indices.dtype))
            return self._apply_dense(convert_to_tensor(dense), var)
        slots = [self._slot(var, name) for name in self._row_slots]
        # (indices past the end name no row, as a sharded table's or a bounded gather's do: the scatter drops them)
        var_rows, slot_rows = self._row_step(summed, gather_clamped(var, indices),
                                             *[gather_clamped(s, indices) for s in slots])
        return group(scatter_update(var, indices, var_rows),
                     *[scatter_update(s, indices, rows) for s, rows in zip(slots, slot_rows)])

    # a row-wise optimizer's update: the names of the slots it reads, and its formulas over values of them
    _row_slots: tuple[str, ...] | None = None

    def _row_step(self, grad: Tensor, var: Tensor, *slots: Tensor) -> tuple[Tensor, list[Tensor]]:
        """(var's new value, each slot's new value) from the gradient and the current values (whole tensors or
        some of their rows)."""
        raise NotImplementedError

    def _finish(self, update_ops):
        return group(*update_ops)


def _eager_gradients(loss, var_list, grad_loss) -> list:
    """TF1's compute_gradients of a loss function (required while executing eagerly): differentiated on a
    GradientTape; without a var_list, with respect to the trainable Variables it read."""
    if not callable(loss):
        raise RuntimeError("`loss` passed to Optimizer.compute_gradients should be a function when eager "
                           "execution is enabled.")
    from xlite.eager.tape import GradientTape
    with GradientTape() as tape:
        if var_list is not None:
            var_list = list(var_list)
            tape.watch(var_list)
        value = loss()
    if var_list is None:        # (a graph's tape records nothing: its trainable Variables, as tf.gradients')
        var_list = list(tape.watched_variables()) if executing_eagerly() else \
            get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES)
    if not var_list:
        raise ValueError("No variables to optimize.")
    grads = tape.gradient(value, var_list, output_gradients=grad_loss)
    return list(zip(grads, var_list))


def _replica_mean(grads_and_vars) -> list:
    """Under the scope of a tf.distribute strategy of several replicas (an Estimator's train_distribute),
    the gradients averaged over them by an all-reduce, as TF's optimizers reduce them in a replica context."""
    # keras imports this module, so it is read late; and only a loaded one can have a strategy's scope open
    # (importing it would load all of tf.keras at every minimize, #18)
    scopes = sys.modules.get("xlite.keras.engine.distribution")
    strategy = None if scopes is None else scopes.current_strategy()
    grads_and_vars = list(grads_and_vars)
    if strategy is None or strategy.num_replicas_in_sync == 1:
        return grads_and_vars
    from xlite.frontend.collective_ops import all_reduce
    return [(None if g is None else all_reduce(g, "average"), v) for g, v in grads_and_vars]


class GradientDescentOptimizer(Optimizer):
    """var -= lr * grad."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._lr = learning_rate

    def _apply_dense(self, grad, var):
        return assign_sub(var, self._hyper(self._lr, var) * grad).op

    def _apply_sparse_duplicate_indices(self, grad, var):
        """var[indices] -= lr * values as one scatter (repeated indices add up), as TF's."""
        return scatter_sub(var, grad.indices, self._hyper(self._lr, var) * grad.values).op


class MomentumOptimizer(Optimizer):
    """accum = momentum * accum + grad; var -= lr * accum (Nesterov: lr * (grad + momentum * accum))."""

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum", use_nesterov=False):
        super().__init__(use_locking, name)
        self._lr, self._momentum, self._nesterov = learning_rate, momentum, use_nesterov

    def _create_slots(self, var):
        self._slot(var, "momentum")

    def _apply_dense(self, grad, var):
        accum = self._slot(var, "momentum")
        momentum, lr = self._hyper(self._momentum, var), self._hyper(self._lr, var)
        new_accum = assign(accum, accum * momentum + grad)
        step = (grad + momentum * new_accum) if self._nesterov else new_accum
        return assign_sub(var, lr * step).op

    _row_slots = ("momentum",)

    def _row_step(self, grad, var, accum):
        """TF's sparse_apply_momentum on the rows."""
        momentum, lr = self._hyper(self._momentum, var), self._hyper(self._lr, var)
        new_accum = accum * momentum + grad
        step = (grad + momentum * new_accum) if self._nesterov else new_accum
        return var - lr * step, [new_accum]


class AdamOptimizer(Optimizer):
    """TF1 Adam: lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t); var -= lr_t * m / (sqrt(v) + epsilon)."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, use_locking=False,
                 name="Adam"):
        super().__init__(use_locking, name)
        self._lr, self._beta1, self._beta2, self._epsilon = learning_rate, beta1, beta2, epsilon
        self._beta_powers = None

    def _create_slots(self, var):
        if self._beta_powers is None:
            graph = var.graph
            with graph.name_scope(""), graph.control_dependencies(None):
                self._beta_powers = (Variable(np.array(self._beta1, var.dtype.np), trainable=False, name="beta1_power"),
                                     Variable(np.array(self._beta2, var.dtype.np), trainable=False, name="beta2_power"))
        self._slot(var, "m")
        self._slot(var, "v")

    def _get_beta_accumulators(self):
        return self._beta_powers

    def _coefficients(self, var) -> tuple:
        """(lr_t, beta1, beta2, epsilon) in var's dtype."""
        beta1_power, beta2_power = (math_ops.cast(p, var.dtype) if p.dtype != var.dtype else p
                                    for p in (convert_to_tensor(self._beta_powers[0]),
                                              convert_to_tensor(self._beta_powers[1])))
        lr, b1, b2 = self._hyper(self._lr, var), self._hyper(self._beta1, var), self._hyper(self._beta2, var)
        lr_t = lr * math_ops.sqrt(1 - beta2_power) / (1 - beta1_power)
        return lr_t, b1, b2, self._hyper(self._epsilon, var)

    def _apply_dense(self, grad, var):
        m, v = self._slot(var, "m"), self._slot(var, "v")
        lr_t, b1, b2, eps = self._coefficients(var)
        m_t = assign(m, b1 * m + (1 - b1) * grad)
        v_t = assign(v, b2 * v + (1 - b2) * math_ops.square(grad))
        return assign_sub(var, lr_t * m_t / (math_ops.sqrt(v_t) + eps)).op

    def _apply_sparse(self, summed, indices, first, var):
        """TF's (non-lazy) _apply_sparse: m and v decay everywhere, the gradient rows are scatter-added,
        and every row of var moves by the new moments."""
        m, v = self._slot(var, "m"), self._slot(var, "v")
        lr_t, b1, b2, eps = self._coefficients(var)
        rows = array_ops.expand_dims(indices, 1)
        once = first_only(summed, first)
        m_t = assign(m, tensor_scatter_nd_add(b1 * m, rows, (1 - b1) * once))
        v_t = assign(v, tensor_scatter_nd_add(b2 * v, rows, (1 - b2) * math_ops.square(once)))
        return assign_sub(var, lr_t * m_t / (math_ops.sqrt(v_t) + eps)).op

    def _finish(self, update_ops):
        beta1_power, beta2_power = self._beta_powers
        graph = beta1_power.graph
        with graph.control_dependencies(update_ops):
            b1 = assign(beta1_power, beta1_power * self._hyper(self._beta1, beta1_power))
            b2 = assign(beta2_power, beta2_power * self._hyper(self._beta2, beta2_power))
        return group(*update_ops, b1, b2)


class AdagradOptimizer(Optimizer):
    """accum += grad^2; var -= lr * grad / sqrt(accum)."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False, name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: {initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._lr, self._initial = learning_rate, initial_accumulator_value

    def _create_slots(self, var):
        self._slot(var, "accumulator", self._initial)

    def _apply_dense(self, grad, var):
        accum = self._slot(var, "accumulator")
        new_accum = assign_add(accum, math_ops.square(grad))
        return assign_sub(var, self._hyper(self._lr, var) * grad * math_ops.rsqrt(new_accum)).op

    _row_slots = ("accumulator",)

    def _row_step(self, grad, var, accum):
        """TF's sparse_apply_adagrad on the rows."""
        new_accum = accum + math_ops.square(grad)
        return var - self._hyper(self._lr, var) * grad * math_ops.rsqrt(new_accum), [new_accum]


class RMSPropOptimizer(Optimizer):
    """ms = decay*ms + (1-decay)*g^2; mom = momentum*mom + lr*g/sqrt(ms + eps); var -= mom (TF1, ms starts at 1)."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False,
                 centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        self._lr, self._decay, self._momentum = learning_rate, decay, momentum
        self._epsilon, self._centered = epsilon, centered

    def _create_slots(self, var):
        self._slot(var, "rms", 1.0)
        if self._centered:
            self._slot(var, "mg")
        self._slot(var, "momentum")

    def _apply_dense(self, grad, var):
        rms, mom = self._slot(var, "rms"), self._slot(var, "momentum")
        lr, decay = self._hyper(self._lr, var), self._hyper(self._decay, var)
        momentum, eps = self._hyper(self._momentum, var), self._hyper(self._epsilon, var)
        ms_t = assign(rms, decay * rms + (1 - decay) * math_ops.square(grad))
        denom = ms_t
        if self._centered:
            mg = self._slot(var, "mg")
            mg_t = assign(mg, decay * mg + (1 - decay) * grad)
            denom = ms_t - math_ops.square(mg_t)
        mom_t = assign(mom, momentum * mom + lr * grad / math_ops.sqrt(denom + eps))
        return assign_sub(var, mom_t).op

    @property
    def _row_slots(self):
        return ("rms", "momentum", "mg") if self._centered else ("rms", "momentum")

    def _row_step(self, grad, var, rms, mom, mg=None):
        """TF's sparse_apply_(centered_)rms_prop on the rows."""
        lr, decay = self._hyper(self._lr, var), self._hyper(self._decay, var)
        momentum, eps = self._hyper(self._momentum, var), self._hyper(self._epsilon, var)
        new_rms = decay * rms + (1 - decay) * math_ops.square(grad)
        denom, new_mg = new_rms, []
        if mg is not None:
            new_mg = [decay * mg + (1 - decay) * grad]
            denom = new_rms - math_ops.square(new_mg[0])
        new_mom = momentum * mom + lr * grad / math_ops.sqrt(denom + eps)
        return var - new_mom, [new_rms, new_mom] + new_mg



class AdadeltaOptimizer(Optimizer):
    """accum = rho*accum + (1-rho)*g^2; update = sqrt(accum_update + eps) / sqrt(accum + eps) * g;
    accum_update = rho*accum_update + (1-rho)*update^2; var -= lr * update (slots "accum", "accum_update")."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False, name="Adadelta"):
        super().__init__(use_locking, name)
        self._lr, self._rho, self._epsilon = learning_rate, rho, epsilon

    def _create_slots(self, var):
        self._slot(var, "accum")
        self._slot(var, "accum_update")

    def _apply_dense(self, grad, var):
        accum, accum_update = self._slot(var, "accum"), self._slot(var, "accum_update")
        lr, rho, eps = self._hyper(self._lr, var), self._hyper(self._rho, var), self._hyper(self._epsilon, var)
        accum_t = assign(accum, rho * accum + (1 - rho) * math_ops.square(grad))
        update = math_ops.sqrt(accum_update + eps) * math_ops.rsqrt(accum_t + eps) * grad
        accum_update_t = assign(accum_update, rho * accum_update + (1 - rho) * math_ops.square(update))
        return group(assign_sub(var, lr * update), accum_update_t)

    _row_slots = ("accum", "accum_update")

    def _row_step(self, grad, var, accum, accum_update):
        """TF's sparse_apply_adadelta on the rows."""
        lr, rho, eps = self._hyper(self._lr, var), self._hyper(self._rho, var), self._hyper(self._epsilon, var)
        new_accum = rho * accum + (1 - rho) * math_ops.square(grad)
        update = math_ops.sqrt(accum_update + eps) * math_ops.rsqrt(new_accum + eps) * grad
        return var - lr * update, [new_accum, rho * accum_update + (1 - rho) * math_ops.square(update)]


class ProximalGradientDescentOptimizer(Optimizer):
    """FOBOS: prox = var - lr*g; var = sign(prox) * max(|prox| - lr*l1, 0) / (1 + lr*l2)."""

    def __init__(self, learning_rate, l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="ProximalGradientDescent"):
        super().__init__(use_locking, name)
        self._lr, self._l1, self._l2 = learning_rate, l1_regularization_strength, l2_regularization_strength

    def _apply_dense(self, grad, var):
        return assign(var, self._row_step(grad, var)[0]).op

    _row_slots = ()

    def _row_step(self, grad, var):
        """The FOBOS step (TF's sparse_apply_proximal_gradient_descent on rows)."""
        lr, l1, l2 = self._hyper(self._lr, var), self._hyper(self._l1, var), self._hyper(self._l2, var)
        prox = var - lr * grad
        return math_ops.sign(prox) * math_ops.maximum(math_ops.abs(prox) - lr * l1, 0) / (1 + lr * l2), []
