"""tf.Session: validates feeds, compiles each run signature once, runs it, keeps the Variables."""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from xlite import errors
from xlite.frontend.graph import Graph, Operation, Tensor, get_default_graph
from xlite.frontend.lower import lower_run
from xlite.runtime.executable import check_target_available, compile_module, resolve_target
from xlite.runtime.fetches import FetchMapper


class FeedShapeError(errors.InvalidArgumentError, ValueError):
    """A feed whose shape does not fit its placeholder: InvalidArgumentError, and TF1's ValueError too."""


class Session:
    """Each Session owns its Variables' values; run signatures are compiled once and cached."""

    def __init__(self, target: str = "", graph: Graph | None = None, config=None):
        if isinstance(target, Graph):           # Session(graph) written positionally
            target, graph = "", target
        self.graph = graph or get_default_graph()
        self.target = resolve_target(target)
        self.config = config
        self._variables: dict[Operation, np.ndarray] = {}
        self._cache: dict = {}
        self._run_counter = 0
        self._closed = False
        self._lock = threading.Lock()
        self._default_ctx = None
        check_target_available(self.target)

    # context management ------------------------------------------------------------
    def __enter__(self) -> "Session":
        self._default_ctx = self.as_default()
        self._default_ctx.__enter__()
        self._graph_ctx = self.graph.as_default()
        self._graph_ctx.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._graph_ctx.__exit__(*exc)
        self._default_ctx.__exit__(*exc)
        self.close()

    @contextlib.contextmanager
    def as_default(self):
        _session_stack.append(self)
        try:
            yield self
        finally:
            _session_stack.remove(self)

    def close(self) -> None:
        self._closed = True
        self._cache.clear()

    @property
    def sess_str(self) -> str:
        return self.target

    # running -----------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        mapper = FetchMapper(self.graph, fetches)
        feeds = self._validate_feeds(feed_dict or {})
        fetch_tensors = mapper.unique_tensors()
        key = (tuple(id(t) for t in fetch_tensors), tuple(id(o) for o in mapper.target_ops),
               tuple((id(t), a.shape, a.dtype.str) for t, a in feeds.items()), self.graph.version)
        with self._lock:
            compiled = self._cache.get(key)
            if compiled is None:
                lowered = lower_run(self.graph, fetch_tensors, mapper.target_ops,
                                    {t: a.shape for t, a in feeds.items()})
                compiled = (lowered, compile_module(lowered.module, self.target))
                self._cache[key] = compiled
            lowered, executable = compiled
            args = self._arguments(lowered, feeds)
            results = executable.run(args)
            values = {}
            for (kind, item), value in zip(lowered.results, results):
                if kind == "fetch":
                    values[item] = value
                else:
                    self._variables[item] = np.array(value, copy=True)
        return mapper.build(values)

    def _arguments(self, lowered, feeds) -> list:
        args = []
        for kind, item in lowered.params:
            if kind == "feed":
                args.append(feeds[item])
            elif kind == "variable":
                if item not in self._variables:
                    raise errors.FailedPreconditionError(
                        item.node_def, item, f"Attempting to use uninitialized value {item.name}")
                args.append(self._variables[item])
            else:
                self._run_counter += 1
                args.append(np.int64(self._run_counter))
        return args

    def _validate_feeds(self, feed_dict) -> dict:
        feeds: dict[Tensor, np.ndarray] = {}
        for key, value in feed_dict.items():
            t = key
            if hasattr(t, "_as_graph_element"):
                t = t._as_graph_element()
            if isinstance(t, str):
                try:
                    t = self.graph.as_graph_element(t)
                except KeyError as e:
                    raise errors.NotFoundError(None, None, str(e)) from None
            if isinstance(t, Operation) or not isinstance(t, Tensor):
                raise TypeError(f"The key of a feed_dict must be a tensor or a tensor name, got {key!r}")
            if t.graph is not self.graph:
                raise ValueError(f"Cannot feed {t.name}: it is not an element of this Session's graph.")
            if isinstance(value, Tensor):
                raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable feed values "
                                "include Python scalars, strings, lists, numpy ndarrays, or TensorHandles.")
            try:
                array = np.asarray(value, dtype=t.dtype.np)
            except (TypeError, ValueError) as e:
                raise TypeError(f"Cannot feed value {value!r} to tensor '{t.name}' of dtype "
                                f"{t.dtype.name}: {e}") from None
            if not t.shape.is_compatible_with(array.shape):
                raise FeedShapeError(
                    t.op.node_def, t.op,
                    f"Cannot feed value of shape {array.shape} for Tensor '{t.name}', which has shape "
                    f"'{t.shape}'")
            array = np.array(array, order="C")
            array.flags.writeable = False
            feeds[t] = array
        return feeds

    # variables --------------------------------------------------------------------------
    def _load_variable(self, var_op: Operation, value: np.ndarray) -> None:
        want = tuple(var_op.attrs["shape"].dims)
        if value.shape != want:
            raise ValueError(f"Cannot load value of shape {value.shape} into variable {var_op.name} of shape {want}")
        self._variables[var_op] = np.array(value, copy=True)

    def list_devices(self) -> list:
        return []


class InteractiveSession(Session):
    """A Session that installs itself as the default on construction."""

    def __init__(self, target: str = "", graph: Graph | None = None, config=None):
        super().__init__(target, graph, config)
        _session_stack.append(self)

    def close(self) -> None:
        super().close()
        if self in _session_stack:
            _session_stack.remove(self)


_session_stack: list[Session] = []


def get_default_session() -> Session | None:
    return _session_stack[-1] if _session_stack else None
