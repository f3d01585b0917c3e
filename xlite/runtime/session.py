"""tf.Session: validates feeds, compiles each run signature once into a run plan, runs it, keeps the Variables."""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from xlite import errors
from xlite.cancellation import deadline
from xlite.config import SessionSettings, check_run_arguments
from xlite.frontend import default_session
from xlite.frontend.graph import Graph, Operation, Tensor, get_default_graph
from xlite.frontend.array_helpers import NeedsFedValue
from xlite.frontend.lower import lower_run
from xlite.frontend.control_flow_ops import LoopShapesVary
from xlite.runtime import driver, host_fed, host_loops, host_values, interrupts
from xlite.runtime.executable import check_target_available, resolve_target
from xlite.runtime.feeds import FeedShapeError, validate_feeds
from xlite.runtime.host_fed import HOST_OPS
from xlite.runtime.memory import allocation_errors
from xlite.runtime.run_plan import MISFIT, Request, RunPlan
from xlite.runtime.symbolic_runs import symbolic_pattern, symbolic_shapes

__all__ = ["Session", "InteractiveSession", "FeedShapeError"]

_SPECIALIZE = object()      # a symbolic signature whose compile needs concrete sizes: each size compiles
VALUE_FEED_ELEMENTS = 16    # the largest integer feed a shape may be computed from (compiled per value)


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
        self.symbolic_fallbacks: dict = {}  # symbolic signature -> why it specializes (the first error)
        self._requests: dict = {}         # (fetch structure, feed keys) -> Request, with its RunPlans
        self._fast: dict = {}             # (fetch structure, feed keys) -> its steady state (RunPlan.fast)
        self._run_counter = 0
        self._closed = False
        self._lock = threading.Lock()
        self._entered: list[tuple] = []
        check_target_available(self.target)
        for reset in self.graph.session_resets:     # TF's kernels, and their state, are a session's own
            reset()
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
        self._requests.clear()
        self._fast.clear()

    @property
    def sess_str(self) -> str:
        return self.target

    def partial_run_setup(self, fetches, feeds=None):
        """TF's partial runs keep one step's intermediate state between calls; a compiled run is one native call
        with every feed at its start, so xlite has none (run the whole step with all its feeds instead)."""
        raise errors.unimplemented("Session.partial_run_setup: xlite compiles each run into one call that takes "
                                   "every feed at its start, so partial runs are not supported; feed all "
                                   "placeholders in one Session.run")

    def partial_run(self, handle, fetches, feed_dict=None):
        """See partial_run_setup: not supported."""
        raise errors.unimplemented("Session.partial_run: xlite compiles each run into one call that takes every "
                                   "feed at its start, so partial runs are not supported; feed all placeholders "
                                   "in one Session.run")

    # running -----------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Values of `fetches` (same nested structure back); ops give None, 0-d tensors NumPy scalars.

        With `options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)` and a `run_metadata`, the run
        executes the signature's traced executable and fills `run_metadata.step_stats` with a
        NodeExecStats per kernel (xlite/runtime/tracing.py; xlite.timeline turns them into a Chrome
        trace). A run_metadata is replaced by each run given it, as in TF.

        The steady state: the run plan last used for this fetch structure and these feed keys
        (xlite/runtime/run_plan.py), if its feeds fit. Everything else takes `_run_carefully`.

        Ops whose outputs the host makes (a tf.data iterator's get_next) join the feeds first
        (xlite/runtime/host_fed.py)."""
        if HOST_OPS in self.graph._collections:
            if host_values.fetches_host(self.graph, fetches):     # strings: made on the host after a run
                return host_values.run(self, fetches, feed_dict, options, run_metadata)
            feed_dict = host_fed.fill(self, fetches, feed_dict)
        if host_loops.adopted and host_loops.has_loops(self.graph):     # loops whose shapes vary: split there
            result = host_loops.run(self, fetches, feed_dict, options, run_metadata)
            if result is not host_loops.NOT_HERE:
                return result
        if options is None and run_metadata is None:
            kind = type(fetches)
            try:            # the key _steady_key makes, written out (one tuple to build and hash)
                fast = self._fast[(kind, *fetches, None, *(feed_dict or ())) if kind is list or kind is tuple
                                  else (fetches, None, *(feed_dict or ()))]
            except (KeyError, TypeError):
                fast = None
            if fast is not None:
                result = fast(feed_dict)
                if result is not MISFIT:
                    return result
        try:
            return self._run_carefully(fetches, feed_dict, options, run_metadata)
        except LoopShapesVary as e:     # found by its first lowering: from now on the host drives it
            if not host_loops.adopt(e.op):
                raise
            return host_loops.run(self, fetches, feed_dict, options, run_metadata)

    def _run_carefully(self, fetches, feed_dict, options, run_metadata):
        """Converts and checks the feeds (raising TF's errors), finds or builds the signature's run
        plan (compiling it the first time), and runs it under the run's settings: a timeout, a BLAS
        thread limit, a RunMetadata. The plan becomes the steady state of its fetches and feed keys
        when nothing about the run needs this path."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        check_run_arguments(options, run_metadata)
        plan, feeds, key = self._plan_for(fetches, feed_dict or {})
        with (allocation_errors(), self._settings.thread_limit(),
              deadline(self._settings.timeout_ms(options)) as stop):
            result = plan.run(feeds, stop, options, run_metadata)
        if (plan.fast is not None and run_metadata is None and not self._closed
                and not self._settings.intra_op_threads and not self._settings.operation_timeout_ms):
            self._fast[_steady_key(key)] = plan.fast
        return result

    def _plan_for(self, fetches, feed_dict: dict) -> tuple:
        """(the run plan, the validated feeds, the steady-state key) of a run of `fetches` fed `feed_dict`."""
        request, key = self._request(fetches, feed_dict)
        feeds = validate_feeds(self.graph, feed_dict)
        return self._run_plan(request, feeds), feeds, key

    def _request(self, fetches, feed_dict) -> tuple:
        """The Request for a fetch structure and feed keys, filed for repeated runs, and its key (None
        for an unhashable fetch structure or feed key, whose request is made anew each run)."""
        try:
            key = (_hashable_fetches(fetches), tuple(feed_dict))
            request = self._requests.get(key)
        except TypeError:
            key, request = None, None
        if key is not None and key[0] is None:
            key = None
        if request is None:
            request = Request(self.graph, fetches, feed_dict, reusable=key is not None)
            if key is not None:
                self._requests[key] = request
        return request, key

    def _run_plan(self, request: Request, feeds: dict) -> RunPlan:
        """The request's plan for these validated feeds and the Session's dynamic Variable shapes:
        filed in the request, built once per signature, on an executable compiled once per
        signature of fetched tensors and target ops (shared by fetch structures that name them)."""
        with self._lock:
            variable_shapes = dict(self._dynamic_shapes) if self._dynamic_shapes else {}
            while True:         # twice at most: again once the request has learned its value feeds
                values = {t: a for t, a in feeds.items() if t in request.value_feeds}
                signature = (request.key, tuple((id(t), a.shape) for t, a in feeds.items()),
                             tuple((id(op), shape) for op, shape in variable_shapes.items()),
                             tuple((id(t), a.tobytes()) for t, a in values.items()))
                plan = request.plans.get(signature)
                if plan is not None:
                    return plan
                plan = None if values else self._symbolic_plan(request, feeds, variable_shapes)
                if plan is not None:
                    return plan
                compiled = self._cache.get(signature)
                if compiled is None:
                    try:
                        lowered = self._lower(request, feeds, variable_shapes, values)
                    except NeedsFedValue:
                        if values or not self._learn_value_feeds(request, feeds, variable_shapes):
                            raise
                        continue
                    compiled = (lowered, driver.compile(lowered.module, self.target))
                    self._cache[signature] = compiled
                plan = request.plans[signature] = RunPlan(self, request, signature, *compiled, feeds)
                return plan

    def _lower(self, request: Request, feeds: dict, variable_shapes: dict, values: dict):
        """The request's run lowered for these feeds, those in `values` compiled in as constants."""
        return lower_run(self.graph, request.fetch_tensors, request.mapper.target_ops,
                         {t: a.shape for t, a in feeds.items() if t not in values},
                         variable_shapes=variable_shapes, feed_values=values)

    def _learn_value_feeds(self, request: Request, feeds: dict, variable_shapes: dict) -> bool:
        """Whether the run lowers with some small integer feeds as constants (a shape computed from a fed
        batch size); it then compiles once per value of the fewest such feeds it needs, kept on the request."""
        small = {t: a for t, a in feeds.items() if a.dtype.kind in "iu" and a.size <= VALUE_FEED_ELEMENTS}
        try:
            self._lower(request, feeds, variable_shapes, small)
        except NeedsFedValue:
            return False
        for t in sorted(small, key=lambda t: -small[t].size):      # each it lowers without is given back
            fewer = {u: a for u, a in small.items() if u is not t}
            try:
                self._lower(request, feeds, variable_shapes, fewer)
            except NeedsFedValue:
                continue
            small = fewer
        request.value_feeds = frozenset(small)
        return bool(small)

    def _symbolic_plan(self, request: Request, feeds: dict, variable_shapes: dict) -> RunPlan | None:
        """The plan of the run's symbolic signature (its None dims as symbols: runtime/symbolic_runs.py),
        compiled once for every size of them; None when the run has no symbolic dim, or its symbolic
        compile needs a concrete size somewhere (the caller then specializes on this run's sizes)."""
        if self.target not in ("cpu", "cuda") or variable_shapes or request.feed_tensors is None:
            return None
        pattern = symbolic_pattern(feeds)
        if pattern is None:
            return None
        signature = (request.key, pattern)
        plan = request.plans.get(signature)
        if plan is not None:
            return plan
        compiled = self._cache.get(signature)
        if compiled is None:
            try:
                lowered = lower_run(self.graph, request.fetch_tensors, request.mapper.target_ops,
                                    symbolic_shapes(feeds, pattern))
                compiled = (lowered, driver.compile(lowered.module, self.target))
            except Exception as e:          # noqa: BLE001 - any gap specializes; real errors recur there
                compiled = _SPECIALIZE
                self.symbolic_fallbacks[signature] = e
            self._cache[signature] = compiled
        if compiled is _SPECIALIZE:
            return None
        plan = request.plans[signature] = RunPlan(self, request, signature, *compiled, feeds)
        return plan

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


def _hashable_fetches(fetches):
    """An identity key for a single fetch or a flat list/tuple of them; None for other structures."""
    if isinstance(fetches, (list, tuple)) and not hasattr(fetches, "_fields"):
        if all(isinstance(f, (Tensor, Operation, str)) or hasattr(f, "_as_graph_element") for f in fetches):
            return (type(fetches),) + tuple(fetches)
        return None
    if isinstance(fetches, (Tensor, Operation, str)) or hasattr(fetches, "_as_graph_element"):
        return fetches
    return None


def _steady_key(key: tuple) -> tuple:
    """The key of Session._fast for a request's key (_hashable_fetches, feed keys): one flat tuple, the
    fetches, then None (never a fetch), then the feed keys."""
    fetches, feed_keys = key
    return (*fetches, None, *feed_keys) if type(fetches) is tuple else (fetches, None, *feed_keys)


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

