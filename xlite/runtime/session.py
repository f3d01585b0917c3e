"""tf.Session: validates feeds, compiles each run signature once, runs it, keeps the Variables."""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from xlite import errors
from xlite.cancellation import deadline
from xlite.config import SessionSettings, check_run_arguments
from xlite.frontend import default_session
from xlite.frontend.graph import Graph, Operation, Tensor, get_default_graph
from xlite.frontend.lower import lower_run
from xlite.runtime import driver, interrupts, tracing
from xlite.runtime.executable import check_target_available, resolve_target
from xlite.runtime.fetches import FetchMapper, _as_fetch_value
from xlite.runtime.memory import allocation_errors, check_allocations


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
        self._settings = SessionSettings(config, self.target)   # see xlite/config.py
        self._variables: dict[Operation, np.ndarray] = {}
        self._dynamic_shapes: dict[Operation, tuple] = {}   # Variables of unknown static shape
        self._cache: dict = {}
        self._traced: dict = {}             # run signature -> its traced executable (FULL_TRACE runs)
        self._plans: dict = {}
        self._run_counter = 0
        self._closed = False
        self._lock = threading.Lock()
        self._entered: list[tuple] = []
        check_target_available(self.target)
        interrupts.install()                # Ctrl-C stops a compiled run (where it can be installed)

    # context management ------------------------------------------------------------
    def __enter__(self) -> "Session":
        """`with tf.Session() as sess:` makes it (and its graph) the default, and closes it at the end."""
        contexts = (self.as_default(), self.graph.as_default())
        for ctx in contexts:
            ctx.__enter__()
        self._entered.append(contexts)
        return self

    def __exit__(self, *exc) -> None:
        for ctx in reversed(self._entered.pop()):
            ctx.__exit__(*exc)
        self.close()

    @contextlib.contextmanager
    def as_default(self):
        """Makes this the Session that `Tensor.eval()` and `Operation.run()` use inside the block."""
        default_session.push(self)
        try:
            yield self
        finally:
            default_session.remove(self)

    def close(self) -> None:
        self._closed = True
        self._cache.clear()
        self._traced.clear()
        self._plans.clear()

    @property
    def sess_str(self) -> str:
        return self.target

    # running -----------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Values of `fetches` (same nested structure back); ops give None, 0-d tensors NumPy scalars.

        With `options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)` and a `run_metadata`, the run
        executes the signature's traced executable and fills `run_metadata.step_stats` with a
        NodeExecStats per kernel (xlite/runtime/tracing.py; xlite.timeline turns them into a Chrome
        trace). A run_metadata is replaced by each run given it, as in TF."""
        if options is None and run_metadata is None and not self._closed:
            # The fast path: a fetch structure and feed keys seen before (the key _plan files them
            # under), feeds that fit the signature last compiled for them (see _FastRun).
            kind = type(fetches)
            try:
                fast_run = self._plans[((kind, *fetches) if kind is list or kind is tuple else fetches,
                                        tuple(feed_dict) if feed_dict else ())].fast_run
            except (KeyError, TypeError):
                fast_run = None
            if fast_run is not None:
                result = fast_run(feed_dict)
                if result is not _NOT_FAST:
                    return result
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        check_run_arguments(options, run_metadata)
        feed_dict = feed_dict or {}
        plan = self._plan(fetches, feed_dict)
        feeds = self._fast_feeds(plan, feed_dict)
        fitting = feeds is not None
        if feeds is None:
            feeds = self._validate_feeds(feed_dict)   # the careful path, which also raises the errors
        with self._lock:
            variable_shapes = dict(self._dynamic_shapes) if self._dynamic_shapes else {}
            key = (plan.key, tuple((id(t), a.shape) for t, a in feeds.items()),
                   tuple((id(op), shape) for op, shape in variable_shapes.items()))
            compiled = self._cache.get(key)
            if compiled is None:
                lowered = lower_run(self.graph, plan.fetch_tensors, plan.mapper.target_ops,
                                    {t: a.shape for t, a in feeds.items()}, variable_shapes=variable_shapes)
                check_allocations(lowered.module, "GPU" if self.target == "cuda" else "CPU")
                with allocation_errors():
                    compiled = (lowered, driver.compile(lowered.module, self.target))
                self._cache[key] = compiled
            lowered, executable = compiled
            args = self._arguments(lowered, feeds)
            with (allocation_errors(), self._settings.thread_limit(),
                  deadline(self._settings.timeout_ms(options)) as stop):
                if run_metadata is None:
                    results = executable.run(args) if stop is None else executable.run(args, stop=stop)
                else:
                    results = self._run_with_metadata(key, executable, args, options, run_metadata, stop)
            values = {}
            for (kind, item), value in zip(lowered.results, results):
                if kind == "fetch":
                    values[item] = value
                else:
                    self._store_variable(item, value)
            if (fitting and run_metadata is None and not variable_shapes and plan.cached
                    and not self._settings.intra_op_threads and not self._settings.operation_timeout_ms
                    and (plan.fast is None or plan.fast.key != key)):
                plan.fast = _FastRun(self, plan, key, lowered, executable, feeds)
                plan.fast_run = plan.fast.call
        return plan.mapper.build(values)

    def _run_with_metadata(self, key, executable, args, options, run_metadata, stop=None) -> list:
        """A run given a RunMetadata; a traced one (FULL_TRACE) is not stopped by a timeout."""
        run_metadata.Clear()
        if not tracing.requested(options, run_metadata):
            return executable.run(args) if stop is None else executable.run(args, stop=stop)
        traced = self._traced.get(key)
        if traced is None:
            traced = self._traced[key] = driver.compile_traced(executable)
        results, trace = tracing.run_traced(traced, args)
        run_metadata.step_stats = tracing.step_stats(trace, tracing.device_name(self.target))
        return results

    def _plan(self, fetches, feed_dict) -> "_RunPlan":
        """What a fetch structure and a set of feed keys resolve to, cached for repeated runs."""
        try:
            key = (_hashable_fetches(fetches), tuple(feed_dict))
            plan = self._plans.get(key)
        except TypeError:           # unhashable fetch structure or feed key: no caching
            key, plan = None, None
        if plan is None:
            mapper = FetchMapper(self.graph, fetches)
            tensors = mapper.unique_tensors()
            plan = _RunPlan(mapper, tensors, (tuple(id(t) for t in tensors), tuple(id(o) for o in mapper.target_ops)))
            if key is not None and key[0] is not None:
                plan.set_feeds(self._feed_tensors(feed_dict))
                plan.cached = True
                self._plans[key] = plan
        return plan

    def _feed_tensors(self, feed_dict):
        """The tensors the feed keys name, or None when any key needs the careful path's errors."""
        tensors = []
        for key in feed_dict:
            try:
                t = self.graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
            except (KeyError, TypeError, ValueError):
                return None
            if not isinstance(t, Tensor):
                return None
            tensors.append(t)
        return tensors

    @staticmethod
    def _fast_feeds(plan, feed_dict):
        """Feeds that already are arrays of the right dtype and a fitting shape, as views in creation
        order; None sends the run through `_validate_feeds` (conversions, errors)."""
        if plan.feed_specs is None:
            return None
        values = list(feed_dict.values())
        feeds = {}
        for i in plan.feed_order:
            t, want, dims = plan.feed_specs[i]
            value = values[i]
            if isinstance(value, np.ndarray):
                if value.dtype != want or not value.flags.c_contiguous:
                    return None
                array = value.view()
            elif isinstance(value, np.generic) and value.dtype == want:
                array = np.asarray(value)
            else:
                return None
            if dims is not None and (len(dims) != array.ndim or
                                     any(d is not None and d != n for d, n in zip(dims, array.shape))):
                return None
            feeds[t] = array       # no backend writes a feed; a fetched feed is copied (it owns no data)
        return feeds

    def make_callable(self, fetches, feed_list=None, accept_options=False):
        """A function of the `feed_list` values that runs `fetches`, like TF's Session.make_callable."""
        feed_list = list(feed_list or [])

        def call(*feed_values, **kwargs):
            if len(feed_values) != len(feed_list):
                raise TypeError(f"Expected {len(feed_list)} feed values, got {len(feed_values)}")
            if accept_options:          # TF's callable then takes options= and run_metadata=
                return self.run(fetches, dict(zip(feed_list, feed_values)), options=kwargs.get("options"),
                                run_metadata=kwargs.get("run_metadata"))
            return self.run(fetches, dict(zip(feed_list, feed_values)))
        return call

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
        """Every feed as a read-only array of its tensor's dtype, its shape checked, before any run."""
        feeds: dict[Tensor, np.ndarray] = {}
        for key, value in feed_dict.items():
            try:
                t = self.graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
            except (KeyError, TypeError, ValueError) as e:
                raise TypeError(f"Cannot interpret feed_dict key as Tensor: {_reason(e)}") from None
            if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
                raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable feed values "
                                "include Python scalars, strings, lists, numpy ndarrays, or TensorHandles. "
                                f"For reference, the tensor object was {value} which was passed to the "
                                f"argument `feed_dict` with key {t}.")
            try:
                array = np.asarray(value, dtype=t.dtype.np)
            except (TypeError, ValueError) as e:
                raise type(e)(f"Cannot feed value {value!r} to tensor '{t.name}' of dtype "
                              f"{t.dtype.name}: {e}") from None
            if not t.shape.is_compatible_with(array.shape):
                raise FeedShapeError(
                    t.op.node_def, t.op,
                    f"Cannot feed value of shape {array.shape} for Tensor {t.name}, which has shape {t.shape}")
            array = np.array(array, order="C")   # a private copy: the caller may reuse their buffer
            array.flags.writeable = False
            feeds[t] = array
        # Creation order, so the same feeds written in another order reuse the compiled signature.
        return dict(sorted(feeds.items(), key=lambda item: (item[0].op._id, item[0].value_index)))

    # variables --------------------------------------------------------------------------
    def _store_variable(self, var_op: Operation, value) -> None:
        """Keeps a private read-only copy, so no fetched array can alias the Session's state."""
        if value is self._variables.get(var_op):
            return      # the executable updated the Session's own array in place (cpu: no copy)
        if getattr(value, "is_device_value", False):
            self._variables[var_op] = value     # kept in device memory by its backend (cuda's DeviceArray)
            if not var_op.outputs[0].shape.is_fully_defined():
                self._dynamic_shapes[var_op] = tuple(value.shape)
            return
        value = np.array(value, copy=True)
        value.flags.writeable = False
        self._variables[var_op] = value
        if not var_op.outputs[0].shape.is_fully_defined():
            self._dynamic_shapes[var_op] = value.shape

    def _load_variable(self, var_op: Operation, value: np.ndarray) -> None:
        if not var_op.outputs[0].shape.is_compatible_with(value.shape):
            raise ValueError(f"Cannot load value of shape {value.shape} into variable {var_op.name} of "
                             f"shape {var_op.outputs[0].shape}")
        self._store_variable(var_op, value)

    def list_devices(self) -> list:
        return []


class _RunPlan:
    """A resolved fetch structure and the tensors its feed keys name."""

    def __init__(self, mapper: FetchMapper, fetch_tensors: list, key: tuple):
        self.mapper = mapper
        self.fetch_tensors = fetch_tensors
        self.key = key
        self.feed_specs = None      # (tensor, NumPy dtype, static dims) per feed key, in feed_dict order
        self.feed_order: list[int] = []
        self.cached = False         # filed in Session._plans (a hashable fetch structure and feed keys)
        self.fast: _FastRun | None = None
        self.fast_run = None        # plan.fast.call (a function calls faster than the instance)

    def set_feeds(self, tensors) -> None:
        if tensors is None:
            return
        self.feed_specs = [(t, t.dtype.np, t.shape._dims) for t in tensors]
        self.feed_order = sorted(range(len(tensors)), key=lambda i: (tensors[i].op._id, tensors[i].value_index))


_NOT_FAST = object()


class _FastRun:
    """Session.run for one plan and the signature last compiled for it, with everything that does not
    change between runs worked out once: where each feed goes, its exact dtype and shape, the Variable
    and run-counter parameters, the updates to keep, and how the fetch structure is built.

    Calling it with a feed_dict gives the run's fetched values, or _NOT_FAST when anything does not
    fit (a feed of another type, dtype, shape or layout; an uninitialized Variable; Variables whose
    shape is dynamic): Session.run then takes its careful path, which converts, recompiles or raises
    exactly as before. It behaves as that path does: fetched arrays are fresh, Variables are read and
    updated under the Session's lock, and feeds go in as views unless the executable never returns
    an argument's own array (`executable.fresh_outputs`)."""

    def __init__(self, session: Session, plan: _RunPlan, key, lowered, executable, feeds: dict):
        self.key = key
        self.session = session
        self.executable = executable
        params = {id(item): n for n, (kind, item) in enumerate(lowered.params) if kind == "feed"}
        self.n_params = len(lowered.params)
        self.feeds = [(want, feeds[t].shape, params[id(t)]) for t, want, _ in plan.feed_specs]
        self.variables = [(n, item) for n, (kind, item) in enumerate(lowered.params) if kind == "variable"]
        self.counters = [n for n, (kind, _) in enumerate(lowered.params) if kind == "rng_counter"]
        self.updates = [(j, item) for j, (kind, item) in enumerate(lowered.results) if kind == "update"]
        self.views = not getattr(executable, "fresh_outputs", False)
        self.stateful = bool(self.variables or self.counters or self.updates)
        self.run_fitting = getattr(executable, "run_fitting", None)     # feeds checked here, the rest there
        self.unchecked = [n for n, _ in self.variables] + self.counters
        self.fetched = [(j, item) for j, (kind, item) in enumerate(lowered.results) if kind == "fetch"]
        self.direct = (not self.views and len(self.feeds) == self.n_params
                       and [n for _, _, n in self.feeds] == list(range(self.n_params)))
        self.mapper = plan.mapper
        self.slots = None                   # fetch structure built by mapper.build
        positions = {id(item): j for j, item in self.fetched}
        kind, payload, children = plan.mapper._template
        leaves = children if kind == "seq" else [plan.mapper._template] if kind in ("tensor", "op") else None
        if leaves is not None and all(c[0] in ("tensor", "op") for c in leaves):
            slots = [positions[id(c[1])] if c[0] == "tensor" else None for c in leaves]
            if len(set(j for j in slots if j is not None)) == sum(j is not None for j in slots):  # no repeats
                self.slots, self.sequence = slots, payload if kind == "seq" else None
        self.call = self.__call__
        if self.direct and not self.stateful and self.slots is not None and self.run_fitting is not None:
            self.call = self._direct_call()

    def _direct_call(self):
        """__call__ for the commonest signature, as a closure over what it reads: feeds that are the
        parameters in order, no Variable or run counter, a flat fetch structure, a run_fitting executable."""
        session, run, slots, sequence = self.session, self.run_fitting, self.slots, self.sequence
        specs = [(want, len(shape), shape if shape else None) for want, shape, _ in self.feeds]
        ndarray, not_fast, as_fetch_value = np.ndarray, _NOT_FAST, _as_fetch_value
        single = slots[0] if len(slots) == 1 else None

        def call(feed_dict):
            if session._dynamic_shapes:
                return not_fast
            args = tuple(feed_dict.values()) if feed_dict else ()
            for value, (want, ndim, shape) in zip(args, specs):
                if type(value) is not ndarray or (value.dtype is not want and value.dtype != want) \
                        or value.ndim != ndim or (shape is not None and value.shape != shape):
                    return not_fast
                flags = value.flags
                if not (flags.carray or (flags.c_contiguous and flags.aligned)):
                    return not_fast
            results = run(args)
            if single is not None:
                value = results[single]
                value = value[()] if type(value) is ndarray and value.ndim == 0 else as_fetch_value(value)
                return [value] if sequence is list else value if sequence is None else sequence((value,))
            values = []
            for j in slots:
                if j is None:
                    values.append(None)
                else:
                    value = results[j]
                    values.append(value[()] if type(value) is ndarray and value.ndim == 0 else as_fetch_value(value))
            if sequence is list:
                return values
            return values[0] if sequence is None else sequence(values)
        return call

    def __call__(self, feed_dict):
        session = self.session
        if session._dynamic_shapes:
            return _NOT_FAST
        values = feed_dict.values() if feed_dict else ()
        if self.direct:                     # the feeds are the parameters, in feed_dict order
            args = tuple(values)
            for value, (want, shape, _) in zip(args, self.feeds):
                if type(value) is not np.ndarray or (value.dtype is not want and value.dtype != want) \
                        or value.shape != shape:
                    return _NOT_FAST
                flags = value.flags
                if not (flags.carray or (flags.c_contiguous and flags.aligned)):
                    return _NOT_FAST
        else:
            args = [None] * self.n_params
            views = self.views
            for value, (want, shape, n) in zip(values, self.feeds):
                if type(value) is not np.ndarray or (value.dtype is not want and value.dtype != want) \
                        or value.shape != shape:
                    return _NOT_FAST
                flags = value.flags
                if not (flags.carray or (flags.c_contiguous and flags.aligned)):
                    return _NOT_FAST
                args[n] = value.view() if views else value
        if not self.stateful:               # nothing of the Session's is read or written: no lock
            results = self.run_fitting(args, ()) if self.run_fitting is not None else self.executable.run(args)
        else:
            with session._lock:
                if self.variables:
                    stored = session._variables
                    for n, var_op in self.variables:
                        value = stored.get(var_op)
                        if value is None:
                            return _NOT_FAST            # the careful path raises FailedPreconditionError
                        args[n] = value
                for n in self.counters:
                    session._run_counter += 1
                    args[n] = np.array(session._run_counter, np.int64)
                if self.run_fitting is not None:
                    results = self.run_fitting(args, self.unchecked)
                else:
                    results = self.executable.run(args)
                for j, var_op in self.updates:
                    session._store_variable(var_op, results[j])
        slots = self.slots
        if slots is None:
            return self.mapper.build({item: results[j] for j, item in self.fetched})
        values = []                         # a single fetch or a flat list/tuple of distinct tensors and ops
        for j in slots:
            if j is None:
                values.append(None)
            else:
                value = results[j]
                values.append(value[()] if type(value) is np.ndarray and value.ndim == 0
                              else _as_fetch_value(value))
        if self.sequence is list:
            return values
        return values[0] if self.sequence is None else self.sequence(values)


def _hashable_fetches(fetches):
    """An identity key for a single fetch or a flat list/tuple of them; None for other structures."""
    if isinstance(fetches, (list, tuple)) and not hasattr(fetches, "_fields"):
        if all(isinstance(f, (Tensor, Operation, str)) or hasattr(f, "_as_graph_element") for f in fetches):
            return (type(fetches),) + tuple(fetches)
        return None
    if isinstance(fetches, (Tensor, Operation, str)) or hasattr(fetches, "_as_graph_element"):
        return fetches
    return None


class InteractiveSession(Session):
    """A Session that installs itself (and its graph) as the default on construction."""

    def __init__(self, target: str = "", graph: Graph | None = None, config=None):
        super().__init__(target, graph, config)
        default_session.push(self)
        self._interactive_graph_ctx = None
        if self.graph is not get_default_graph():
            self._interactive_graph_ctx = self.graph.as_default()
            self._interactive_graph_ctx.__enter__()

    def close(self) -> None:
        super().close()
        default_session.remove(self)
        if self._interactive_graph_ctx is not None:
            self._interactive_graph_ctx.__exit__(None, None, None)
            self._interactive_graph_ctx = None


def _reason(error: Exception) -> str:
    return error.args[0] if isinstance(error, KeyError) and error.args else str(error)
