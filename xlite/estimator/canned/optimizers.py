"""The canned estimators' `optimizer` argument: a name ('Adagrad', 'Adam', 'Ftrl', 'RMSProp', 'SGD') made with
the estimator's default learning rate, an optimizer object, or a callable returning one."""
from __future__ import annotations

from xlite.train.ftrl import FtrlOptimizer
from xlite.train.optimizers import (AdagradOptimizer, AdamOptimizer, GradientDescentOptimizer, RMSPropOptimizer)

_OPTIMIZER_CLS_NAMES = {"Adagrad": AdagradOptimizer, "Adam": AdamOptimizer, "Ftrl": FtrlOptimizer,
                        "RMSProp": RMSPropOptimizer, "SGD": GradientDescentOptimizer}


def get_optimizer_instance(opt, learning_rate=None):
    """An optimizer with a `minimize(loss, var_list=...)`, from a name, an instance or a factory."""
    if isinstance(opt, str):
        if opt not in _OPTIMIZER_CLS_NAMES:
            raise ValueError(f"Unsupported optimizer name: {opt}. Supported names are: "
                             f"{tuple(sorted(_OPTIMIZER_CLS_NAMES))}")
        if learning_rate is None:
            raise ValueError("learning_rate must be specified when opt is string.")
        return _OPTIMIZER_CLS_NAMES[opt](learning_rate=learning_rate)
    if callable(opt) and not hasattr(opt, "minimize"):
        opt = opt()
    if not hasattr(opt, "minimize"):
        raise ValueError(f"The given object is not an Optimizer instance. Given: {opt}")
    return opt
