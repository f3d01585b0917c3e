"""tf.variable_scope and tf.get_variable: Variables named by scope, created once and shared on request.

Each graph keeps a store of the Variables made by `get_variable` (by full name),
the current VariableScope, and TF1's per-scope-name open counts, which decide the
unique names given to `default_name` scopes ("dense", "dense_1", ...).
"""
from __future__ import annotations

import contextlib
import enum
import functools
import weakref
from operator import attrgetter

from xlite import errors
from xlite.frontend import init_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import Graph, GraphKeys, get_default_graph
from xlite.frontend.tensor_shape import TensorShape
from xlite.frontend.variables import Variable
from xlite.ir import dtypes

__all__ = ["variable_scope", "get_variable", "get_variable_scope", "VariableScope", "AUTO_REUSE"]


class _ReuseMode(enum.Enum):
    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE


class VariableScope:
    """What get_variable inherits: a name prefix, the reuse mode, defaults for initializer and dtype."""

    def __init__(self, reuse, name: str = "", initializer=None, regularizer=None, dtype=dtypes.float32,
                 custom_getter=None, name_scope: str = ""):
        self._reuse = reuse
        self._name = name
        self._initializer = initializer
        self._regularizer = regularizer
        self._dtype = dtypes.as_dtype(dtype)
        self._custom_getter = custom_getter
        self._name_scope = name_scope

    name = property(attrgetter("_name"))
    original_name_scope = property(attrgetter("_name_scope"))
    reuse = property(attrgetter("_reuse"))
    initializer = property(attrgetter("_initializer"))
    regularizer = property(attrgetter("_regularizer"))
    dtype = property(attrgetter("_dtype"))
    custom_getter = property(attrgetter("_custom_getter"))

    def reuse_variables(self) -> None:
        self._reuse = True

    def set_initializer(self, initializer) -> None:
        self._initializer = initializer

    def set_regularizer(self, regularizer) -> None:
        self._regularizer = regularizer

    def set_dtype(self, dtype) -> None:
        self._dtype = dtypes.as_dtype(dtype)

    def set_custom_getter(self, custom_getter) -> None:
        self._custom_getter = custom_getter

    def get_variable(self, name, shape=None, dtype=None, initializer=None, regularizer=None,
                     trainable=None, collections=None, reuse=None, validate_shape=True,
                     custom_getter=None, **kwargs) -> Variable:
        _reject_unsupported(kwargs)
        full_name = f"{self._name}/{name}" if self._name else name
        getter = functools.partial(_store(get_default_graph()).get_or_create)
        kwargs = dict(name=full_name, shape=shape, dtype=dtype if dtype is not None else self._dtype,
                      initializer=initializer if initializer is not None else self._initializer,
                      regularizer=regularizer if regularizer is not None else self._regularizer,
                      reuse=self._reuse if reuse is None else reuse, trainable=trainable,
                      collections=collections, validate_shape=validate_shape)
        custom_getter = _wrap_getter(custom_getter, self._custom_getter)
        if custom_getter is not None:
            return custom_getter(getter, **kwargs)
        return getter(**kwargs)


def _reject_unsupported(kwargs: dict) -> None:
    for key in ("partitioner", "constraint"):
        if kwargs.get(key) is not None:
            raise errors.unimplemented(f"tf.get_variable: {key} is not supported by xlite")


def _wrap_getter(custom_getter, old_getter):
    """An inner scope's custom getter calls the outer one as its getter, as in TF."""
    if custom_getter is None or old_getter is None:
        return custom_getter or old_getter

    def wrapped(getter, *args, **kwargs):
        return custom_getter(functools.partial(old_getter, getter), *args, **kwargs)
    return wrapped


class _Store:
    """Per-graph state: Variables by full name, the current scope, open counts of scope names."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.variables: dict[str, Variable] = {}
        self.current = VariableScope(False)
        self.counts: dict[str, int] = {}

    def open_scope(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def close_subscopes(self, name: str) -> None:
        for key in self.counts:
            if key.startswith(name + "/"):
                self.counts[key] = 0

    def unique_scope_name(self, prefix: str) -> str:
        base = f"{self.current.name}/{prefix}" if self.current.name else prefix
        if self.counts.get(base, 0) == 0:
            return prefix
        i = 1
        while self.counts.get(f"{base}_{i}", 0) > 0:
            i += 1
        return f"{prefix}_{i}"

    def get_or_create(self, name, shape=None, dtype=dtypes.float32, initializer=None, regularizer=None,
                      reuse=None, trainable=None, collections=None, validate_shape=True, **kwargs) -> Variable:
        _reject_unsupported(kwargs)
        from_value = initializer is not None and not callable(initializer)
        if shape is not None and from_value:
            raise ValueError("If initializer is a constant, do not specify shape.")
        dtype = dtypes.as_dtype(dtype)
        shape = TensorShape(shape)
        if name in self.variables:
            return self._existing(name, shape, dtype, reuse)
        if reuse is True:
            raise ValueError(f"Variable {name} does not exist, or was not created with tf.get_variable(). "
                             "Did you mean to set reuse=tf.AUTO_REUSE in VarScope?")
        initial_value = self._initial_value(name, shape, dtype, initializer, from_value)
        with self.graph.as_default(), self.graph.name_scope(""):
            var = Variable(initial_value=initial_value, name=name, trainable=trainable is not False,
                           collections=collections, validate_shape=validate_shape,
                           dtype=None if from_value else dtype)
            if regularizer is not None:
                with self.graph.name_scope(f"{name}/Regularizer/"):
                    loss = regularizer(var)
                if loss is not None:
                    self.graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
        self.variables[name] = var
        return var

    def _existing(self, name, shape, dtype, reuse) -> Variable:
        var = self.variables[name]
        if reuse is False or reuse is None:
            raise ValueError(f"Variable {name} already exists, disallowed. Did you mean to set reuse=True or "
                             f"reuse=tf.AUTO_REUSE in VarScope? Originally defined at:\n\n  {var.op.where()}")
        if not shape.is_compatible_with(var.shape):
            raise ValueError(f"Trying to share variable {name}, but specified shape {shape} and found shape "
                             f"{var.shape}.")
        if dtype != var.dtype:
            raise ValueError(f"Trying to share variable {name}, but specified dtype {dtype.name} and found "
                             f"dtype {var.dtype.name}.")
        return var

    @staticmethod
    def _initial_value(name, shape, dtype, initializer, from_value):
        if from_value:
            return initializer
        if initializer is None:
            if dtype.is_floating:
                initializer = init_ops.glorot_uniform_initializer()
            elif dtype.is_integer or dtype.is_bool:
                initializer = init_ops.zeros_initializer()
            else:
                raise ValueError(f"An initializer for variable {name} of {dtype.name} is required")
        if isinstance(initializer, type):
            initializer = initializer()
        if not shape.is_fully_defined():
            raise ValueError(f"Shape of a new variable ({name}) must be fully defined, but instead was {shape}.")

        def initial_value():   # tf.Variable calls it under the name scope `<name>/Initializer`
            return convert_to_tensor(initializer(shape.as_list(), dtype=dtype, partition_info=None), dtype=dtype)
        return initial_value


_STORES: "weakref.WeakKeyDictionary[Graph, _Store]" = weakref.WeakKeyDictionary()


def _store(graph: Graph) -> _Store:
    store = _STORES.get(graph)
    if store is None:
        store = _STORES[graph] = _Store(graph)
    return store


def get_variable_scope() -> VariableScope:
    return _store(get_default_graph()).current


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=None,
                 collections=None, caching_device=None, partitioner=None, validate_shape=True,
                 use_resource=None, custom_getter=None, constraint=None, synchronization=None,
                 aggregation=None) -> Variable:
    """Creates the Variable `scope/name`, or returns it when the scope reuses (TF's errors otherwise)."""
    return get_variable_scope().get_variable(
        name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
        trainable=trainable, collections=collections, validate_shape=validate_shape,
        custom_getter=custom_getter, partitioner=partitioner, constraint=constraint)


class variable_scope:  # noqa: N801 - TF's name
    """Enters a VariableScope (and, unless auxiliary_name_scope=False, a name scope), like TF1."""

    def __init__(self, name_or_scope, default_name=None, values=None, initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None, reuse=None, dtype=None,
                 use_resource=None, constraint=None, auxiliary_name_scope=True):
        if default_name is None and name_or_scope is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if reuse is False:
            reuse = None       # a scope cannot switch reuse off once an outer scope turned it on
        if not (reuse is True or reuse is None or reuse is AUTO_REUSE):
            raise ValueError("The reuse parameter must be True or False or None.")
        if not isinstance(name_or_scope, (str, VariableScope, type(None))):
            raise TypeError("VariableScope: name_or_scope must be a string or VariableScope.")
        if partitioner is not None:
            raise errors.unimplemented("tf.variable_scope: partitioner is not supported by xlite")
        if not isinstance(auxiliary_name_scope, bool):
            raise TypeError(f"The auxiliary_name_scope must be `True` or `False`, while get {auxiliary_name_scope}")
        self._name_or_scope, self._default_name = name_or_scope, default_name
        self._initializer, self._regularizer, self._dtype = initializer, regularizer, dtype
        self._custom_getter, self._reuse = custom_getter, reuse
        self._auxiliary = auxiliary_name_scope
        self._graph = next((v.graph for v in values or () if hasattr(v, "graph")), None) or get_default_graph()
        self._stack: contextlib.ExitStack | None = None

    def __enter__(self) -> VariableScope:
        stack = contextlib.ExitStack()
        stack.enter_context(self._graph.as_default())
        try:
            scope = self._enter(stack)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return scope

    def __exit__(self, *exc) -> None:
        stack, self._stack = self._stack, None
        stack.close()

    def _name_scope(self, stack: contextlib.ExitStack, name: str) -> str:
        """Opens TF's auxiliary name scope and returns its full name ("foo_1/")."""
        graph = self._graph
        if not self._auxiliary:
            current = graph.get_name_scope()
            return current + "/" if current else ""
        return stack.enter_context(graph.name_scope(name))

    def _enter(self, stack: contextlib.ExitStack) -> VariableScope:
        store = _store(self._graph)
        old = store.current
        target = self._name_or_scope
        if isinstance(target, VariableScope):
            self._name_scope(stack, target.name.split("/")[-1])
            new = VariableScope(target.reuse if not self._reuse else self._reuse, target.name,
                                target.initializer, target.regularizer, target.dtype,
                                _wrap_getter(self._custom_getter, target.custom_getter),
                                target.original_name_scope)
            store.open_scope(new.name)
            saved_counts = dict(store.counts)
            stack.callback(lambda: setattr(store, "counts", saved_counts))
        else:
            if target is None and self._reuse is True:
                raise ValueError("reuse=True cannot be used without a name_or_scope")
            name_scope = self._name_scope(stack, target if target is not None else self._default_name)
            relative = target if target is not None else store.unique_scope_name(self._default_name)
            full = f"{old.name}/{relative}" if old.name else relative
            new = VariableScope(self._reuse or old.reuse, full, old.initializer, old.regularizer, old.dtype,
                                _wrap_getter(self._custom_getter, old.custom_getter), name_scope)
            store.open_scope(full)
            stack.callback(store.close_subscopes, full)
        if self._initializer is not None:
            new.set_initializer(self._initializer)
        if self._regularizer is not None:
            new.set_regularizer(self._regularizer)
        if self._dtype is not None:
            new.set_dtype(self._dtype)
        store.current = new
        stack.callback(lambda: setattr(store, "current", old))
        return new
