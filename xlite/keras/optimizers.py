"""tf.keras.optimizers: SGD, Adam, RMSprop, Adagrad with Keras' (OptimizerV2) formulas, as frontend ops.

They differ from tf.train's where Keras differs: SGD's momentum accumulates
`momentum * v - lr * g` and adds it (tf.train's scales the accumulated gradient by
the current lr); RMSprop and Adagrad add epsilon outside the square root (tf.train:
inside, or none); Adam's default epsilon is 1e-7. The hyperparameters are
Variables, so `K.set_value(opt.learning_rate, ...)` (LearningRateScheduler) changes
the rate without recompiling the step; `iterations` counts applied steps.

One code path serves graph mode (the update ops join the train step's graph) and
eager mode (the same ops run, or are traced by tf.function).
"""
from __future__ import annotations

import contextlib

import numpy as np

from xlite.frontend import clip_ops, fill_ops, math_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import executing_eagerly, get_default_graph
from xlite.frontend.variables import Variable, group
from xlite.keras import backend


class Optimizer:
    """Keras' OptimizerV2: hyperparameter Variables, slots per Variable, apply_gradients."""

    _HYPER_DEFAULTS: dict = {}

    def __init__(self, name: str, clipnorm=None, clipvalue=None, global_clipnorm=None, **hypers):
        if "lr" in hypers:
            hypers["learning_rate"] = hypers.pop("lr")
        self._name = name
        self._hyper_values = {**self._HYPER_DEFAULTS, **hypers}
        self._hyper: dict = {}
        self._slots: dict = {}
        self._iterations = None
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm

    # --- state ---------------------------------------------------------------------------------
    def _scope(self, name: str):
        if executing_eagerly():
            return contextlib.nullcontext()
        graph = get_default_graph()
        return graph.name_scope(name + "/")

    def _control_free(self):
        return contextlib.nullcontext() if executing_eagerly() else get_default_graph().control_dependencies(None)

    @property
    def iterations(self) -> Variable:
        if self._iterations is None:
            with self._control_free(), self._scope(self._name):
                self._iterations = Variable(np.int64(0), trainable=False, name="iter")
            backend.track_variable(self._iterations)
        return self._iterations

    def _get_hyper(self, name: str) -> Variable:
        if name not in self._hyper:
            value = self._hyper_values[name]
            if callable(value):
                from xlite import errors
                raise errors.unimplemented("tf.keras optimizers with a learning-rate schedule are not supported "
                                           "by xlite yet; use LearningRateScheduler")
            with self._control_free(), self._scope(self._name):
                self._hyper[name] = Variable(np.float32(value), trainable=False, name=name)
            backend.track_variable(self._hyper[name])
        return self._hyper[name]

    @property
    def learning_rate(self) -> Variable:
        return self._get_hyper("learning_rate")

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if "learning_rate" in self._hyper:
            backend.set_value(self._hyper["learning_rate"], value)
        else:
            self._hyper_values["learning_rate"] = value

    lr = learning_rate

    def _slot(self, var, slot: str, initial: float = 0.0) -> Variable:
        key = (id(var), slot)
        if key not in self._slots:
            base = var.name.split(":")[0]
            with self._control_free(), self._scope(f"{self._name}/{base}"):
                shape, dtype = var.shape.as_list(), var.dtype      # a Fill, not a Const of every slot byte
                self._slots[key] = Variable(lambda: fill_ops.fill(shape, np.array(initial, dtype.np)),
                                            trainable=False, name=slot)
            backend.track_variable(self._slots[key])
        return self._slots[key]

    def get_slot(self, var, slot: str):
        return self._slots[(id(var), slot)]

    def variables(self) -> list:
        out = [] if self._iterations is None else [self._iterations]
        return out + list(self._hyper.values()) + list(self._slots.values())

    weights = property(variables)

    # --- updates --------------------------------------------------------------------------------
    def _cached(self, key, make):
        """A coefficient made once per apply_gradients and dtype (Keras' _prepare_local), not per Variable."""
        cache = self.__dict__.setdefault("_coefficients", {})
        if key not in cache:
            cache[key] = make()
        return cache[key]

    def _hyper_tensor(self, name: str, var):
        def make():
            t = convert_to_tensor(self._get_hyper(name).value() if not executing_eagerly() else self._get_hyper(name))
            return t if t.dtype == var.dtype else math_ops.cast(t, var.dtype)
        return self._cached((name, var.dtype), make)

    def _clip(self, grads: list) -> list:
        if self.clipvalue is not None:
            grads = [clip_ops.clip_by_value(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            grads = [clip_ops.clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm is not None:
            grads, _ = clip_ops.clip_by_global_norm(grads, self.global_clipnorm)
        return grads

    def apply_gradients(self, grads_and_vars, name=None, **kwargs):
        """The update of each Variable with a gradient, then iterations += 1: an op (graph mode)."""
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if not pairs:
            raise ValueError(f"No gradients provided for any variable: {[v.name for _, v in grads_and_vars]}.")
        grads = self._clip([convert_to_tensor(g) for g, _ in pairs])
        iterations = self.iterations
        for _, v in pairs:
            self._create_slots(v)
        scope = contextlib.nullcontext() if executing_eagerly() else get_default_graph().name_scope(name or self._name)
        self._coefficients = {}
        with scope:
            step = math_ops.cast(convert_to_tensor(iterations if executing_eagerly() else iterations.value()) + 1,
                                 "float32")
            updates = [self._constrained(self._update(g if g.dtype == v.dtype else math_ops.cast(g, v.dtype), v,
                                                      step), v)
                       for g, (_, v) in zip(grads, pairs)]
            self._coefficients = {}
            if executing_eagerly():
                iterations.assign_add(np.int64(1))
                return None
            with get_default_graph().control_dependencies([u for u in updates if u is not None]):
                return iterations.assign_add(np.int64(1)).op

    @staticmethod
    def _constrained(update, var):
        """A weight with a constraint (add_weight's) is projected after its update, as Keras' optimizers do."""
        constraint = getattr(var, "constraint", None)
        if constraint is None:
            return update
        if executing_eagerly():
            return var.assign(constraint(convert_to_tensor(var)))
        return var.assign(constraint(update))

    def minimize(self, loss, var_list, grad_loss=None, name=None, tape=None):
        from xlite.frontend.gradients import gradients
        if callable(var_list):
            var_list = var_list()
        if callable(loss):
            from xlite import errors
            raise errors.unimplemented("tf.keras Optimizer.minimize with a callable loss is not supported by xlite "
                                       "yet; pass the loss tensor")
        return self.apply_gradients(zip(gradients(loss, list(var_list), grad_ys=grad_loss), var_list), name=name)

    def _create_slots(self, var) -> None:
        pass

    def _create_all(self, var_list) -> None:
        """Every Variable this optimizer will use on `var_list` (a tf.function step may make none itself)."""
        self.iterations
        for name, value in self._hyper_values.items():
            if not callable(value):
                self._get_hyper(name)
        for var in var_list:
            self._create_slots(var)

    def _update(self, grad, var, step):
        raise NotImplementedError

    def get_config(self) -> dict:
        config = {"name": self._name}
        for key in self._hyper_values:
            value = self._hyper_values[key]
            config[key] = float(backend.get_value(self._hyper[key])) if key in self._hyper else value
        return config

    @classmethod
    def from_config(cls, config: dict):
        """Also a newer Keras' config: its extra keys must be off (no weight decay, no EMA, ...)."""
        from xlite.keras.engine.model_config import accepted
        config = {k: v for k, v in config.items() if not (k == "ema_momentum" and not config.get("use_ema"))}
        return cls(**accepted(config, cls.__init__, Optimizer.__init__, what=f"tf.keras.optimizers.{cls.__name__}"))


class SGD(Optimizer):
    """v = momentum * v - lr * g; var += v (nesterov: var += momentum * v - lr * g); no momentum: var -= lr * g."""

    _HYPER_DEFAULTS = {"learning_rate": 0.01, "momentum": 0.0}

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        if not 0.0 <= momentum <= 1.0:
            raise ValueError("`momentum` must be between [0, 1].")
        super().__init__(name, learning_rate=learning_rate, momentum=momentum, **kwargs)
        self.nesterov = nesterov

    def _create_slots(self, var) -> None:
        if self._hyper_values["momentum"]:
            self._slot(var, "momentum")

    def _update(self, grad, var, step):
        lr = self._hyper_tensor("learning_rate", var)
        if not self._hyper_values["momentum"]:
            return var.assign_sub(lr * grad)
        momentum = self._hyper_tensor("momentum", var)
        v = self._slot(var, "momentum")
        v_t = v.assign(momentum * _read(v) - lr * grad)
        if self.nesterov:
            return var.assign_add(momentum * v_t - lr * grad)
        return var.assign_add(v_t)

    def get_config(self) -> dict:
        return {**super().get_config(), "nesterov": self.nesterov}


def _read(var):
    return var if executing_eagerly() else var.value()


class Adam(Optimizer):
    """m, v moving moments; var -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)."""

    _HYPER_DEFAULTS = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, name="Adam",
                 **kwargs):
        super().__init__(name, learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, **kwargs)
        self.epsilon = backend.epsilon() if epsilon is None else epsilon
        self.amsgrad = amsgrad

    def _create_slots(self, var) -> None:
        self._slot(var, "m")
        self._slot(var, "v")
        if self.amsgrad:
            self._slot(var, "vhat")

    def _update(self, grad, var, step):
        lr = self._hyper_tensor("learning_rate", var)
        b1, b2 = self._hyper_tensor("beta_1", var), self._hyper_tensor("beta_2", var)
        lr_t = self._cached(("lr_t", var.dtype), lambda: lr * math_ops.sqrt(
            1.0 - math_ops.pow(b2, math_ops.cast(step, var.dtype))) / (1.0 - math_ops.pow(b1, math_ops.cast(
                step, var.dtype))))
        m, v = self._slot(var, "m"), self._slot(var, "v")
        m_t = m.assign(b1 * _read(m) + (1.0 - b1) * grad)
        v_t = v.assign(b2 * _read(v) + (1.0 - b2) * math_ops.square(grad))
        if self.amsgrad:
            vhat = self._slot(var, "vhat")
            v_t = vhat.assign(math_ops.maximum(_read(vhat), v_t))
        return var.assign_sub(lr_t * m_t / (math_ops.sqrt(v_t) + self.epsilon))

    def get_config(self) -> dict:
        return {**super().get_config(), "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class RMSprop(Optimizer):
    """ms = rho * ms + (1 - rho) g^2; var -= lr * g / (sqrt(ms) + epsilon) (Keras: epsilon outside the root);
    with momentum: mom = momentum * mom + lr * g / sqrt(ms + epsilon); var -= mom (Keras 2 keeps TF's kernel
    there); centered subtracts the mean gradient's square from ms."""

    _HYPER_DEFAULTS = {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0}

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, name="RMSprop",
                 **kwargs):
        super().__init__(name, learning_rate=learning_rate, rho=rho, momentum=momentum, **kwargs)
        self.epsilon = backend.epsilon() if epsilon is None else epsilon
        self.centered = centered

    def _create_slots(self, var) -> None:
        self._slot(var, "rms")
        if self._hyper_values["momentum"]:
            self._slot(var, "momentum")
        if self.centered:
            self._slot(var, "mg")

    def _update(self, grad, var, step):
        lr = self._hyper_tensor("learning_rate", var)
        rho = self._hyper_tensor("rho", var)
        rms = self._slot(var, "rms")
        rms_t = rms.assign(rho * _read(rms) + (1.0 - rho) * math_ops.square(grad))
        denom = rms_t
        if self.centered:
            mg = self._slot(var, "mg")
            mg_t = mg.assign(rho * _read(mg) + (1.0 - rho) * grad)
            denom = rms_t - math_ops.square(mg_t)
        if self._hyper_values["momentum"]:
            momentum = self._hyper_tensor("momentum", var)
            mom = self._slot(var, "momentum")
            mom_t = mom.assign(momentum * _read(mom) + lr * grad / math_ops.sqrt(denom + self.epsilon))
            return var.assign_sub(mom_t)
        return var.assign_sub(lr * grad / (math_ops.sqrt(denom) + self.epsilon))

    def get_config(self) -> dict:
        return {**super().get_config(), "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """accum += g^2 (starting at initial_accumulator_value); var -= lr * g / (sqrt(accum) + epsilon)."""

    _HYPER_DEFAULTS = {"learning_rate": 0.001}

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, name="Adagrad",
                 **kwargs):
        if initial_accumulator_value < 0.0:
            raise ValueError(f"initial_accumulator_value must be non-negative: {initial_accumulator_value}")
        super().__init__(name, learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = backend.epsilon() if epsilon is None else epsilon

    def _create_slots(self, var) -> None:
        self._slot(var, "accumulator", self.initial_accumulator_value)

    def _update(self, grad, var, step):
        lr = self._hyper_tensor("learning_rate", var)
        acc = self._slot(var, "accumulator", self.initial_accumulator_value)
        acc_t = acc.assign_add(math_ops.square(grad))
        return var.assign_sub(lr * grad / (math_ops.sqrt(acc_t) + self.epsilon))

    def get_config(self) -> dict:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(identifier) -> Optimizer:
    """An optimizer from its Keras name ('sgd', 'adam', 'rmsprop', 'adagrad'), a config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _BY_NAME:
            from xlite import errors
            if key in ("adadelta", "adamax", "nadam", "ftrl"):
                raise errors.unimplemented(f"tf.keras.optimizers.{identifier} is not supported by xlite yet")
            raise ValueError(f"Unknown optimizer: '{identifier}'. Please ensure you are using a "
                             f"`keras.utils.custom_object_scope` and that this object is included in the scope.")
        return _BY_NAME[key]()
    if isinstance(identifier, dict):
        return _BY_NAME[identifier["class_name"].lower()].from_config(identifier["config"])
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")


def serialize(optimizer: Optimizer) -> dict:
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
