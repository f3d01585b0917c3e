"""tf.ConfigProto, RunOptions, RunMetadata and friends: plain classes with TF's field names.

They behave like the protocol buffer messages TF1 programs build: nested messages exist
with their defaults (`config.gpu_options.allow_growth = True` works on a fresh
ConfigProto), constructors take fields as keywords, unknown fields raise
AttributeError, and the enum values are class attributes (`tf.OptimizerOptions.ON_1`,
`tf.RunOptions.FULL_TRACE`). `to_proto(message)` gives the real protocol buffer when
the tensorboard package is installed.

What a Session does with them (`SessionSettings`):
- intra_op_parallelism_threads > 0 caps the threads of the BLAS pools the kernels use
  (through threadpoolctl) while each run executes; 0 leaves the library default.
- inter_op_parallelism_threads: a run is one compiled executable whose kernels run in
  order, so there is no inter-op pool; the value is kept on the Session for backends.
- graph_options.optimizer_options.global_jit_level (and opt_level): recorded only; xlite
  compiles every run, the interpreter target being the reference path, so OFF does not
  turn compilation off.
- log_device_placement prints, at Session creation, where the runs execute.
- allow_soft_placement, gpu_options, device_count: accepted; `tf.device` is ignored (a
  whole run executes on the Session's target).
- RunOptions.trace_level and RunMetadata: a run given both, with a trace level other than
  NO_TRACE, executes a traced variant of its compiled code and fills `step_stats` with one
  NodeExecStats per kernel call (xlite/runtime/tracing.py; xlite.timeline.Timeline makes a Chrome
  trace of them). A run given a RunMetadata replaces its contents, as TF's does.
- RunOptions.timeout_in_ms > 0, else operation_timeout_in_ms > 0: the run stops at the next kernel
  boundary or while iteration after that long and raises DeadlineExceededError (xlite/cancellation.py).
"""
from __future__ import annotations

import contextlib
import numbers
import sys


class _Message:
    """A protobuf-like record: `_fields` maps each field to its default (a value, a list,
    a dict, or a _Message class for a nested message); `_repeated` names the message class
    of repeated message fields."""

    _fields: dict = {}
    _repeated: dict = {}

    def __init__(self, **fields):
        for name, default in self._fields.items():
            object.__setattr__(self, name, _fresh(default))
        for name, value in fields.items():
            setattr(self, name, value)

    def __setattr__(self, name, value) -> None:
        if name not in self._fields:
            raise AttributeError(f"Protocol message {type(self).__name__} has no \"{name}\" field.")
        object.__setattr__(self, name, _check_field(self, name, value))

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and all(getattr(self, n) == getattr(other, n) for n in self._fields)

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = None

    def HasField(self, name: str) -> bool:  # noqa: N802
        if name not in self._fields:
            raise ValueError(f"Protocol message has no \"{name}\" field.")
        return getattr(self, name) != _fresh(self._fields[name])

    def ListFields(self) -> list:  # noqa: N802
        return [(n, getattr(self, n)) for n in self._fields if self.HasField(n)]

    def Clear(self) -> None:  # noqa: N802
        for name, default in self._fields.items():
            object.__setattr__(self, name, _fresh(default))

    def CopyFrom(self, other: "_Message") -> None:  # noqa: N802
        if type(other) is not type(self):
            raise TypeError(f"Parameter to CopyFrom() must be instance of same class: expected "
                            f"{type(self).__name__} got {type(other).__name__}.")
        for name in self._fields:
            object.__setattr__(self, name, _copy(getattr(other, name)))

    def MergeFrom(self, other: "_Message") -> None:  # noqa: N802
        for name, value in other.ListFields():
            mine = getattr(self, name)
            if isinstance(mine, _Message):
                mine.MergeFrom(value)
            elif isinstance(mine, list):
                mine.extend(_copy(value))
            elif isinstance(mine, dict):
                mine.update(value)
            else:
                object.__setattr__(self, name, value)

    def SerializeToString(self) -> bytes:  # noqa: N802
        return to_proto(self).SerializeToString()

    def __str__(self) -> str:
        return "".join(self._text_lines(""))

    def __repr__(self) -> str:
        return str(self)

    def _text_lines(self, indent: str):
        for name, value in self.ListFields():
            if isinstance(value, _Message):
                yield f"{indent}{name} {{\n"
                yield from value._text_lines(indent + "  ")
                yield f"{indent}}}\n"
            elif isinstance(value, dict):
                for k, v in value.items():
                    yield (f"{indent}{name} {{\n{indent}  key: {_scalar_text(k)}\n"
                           f"{indent}  value: {_scalar_text(v)}\n{indent}}}\n")
            elif isinstance(value, list):
                for v in value:
                    if isinstance(v, _Message):
                        yield f"{indent}{name} {{\n"
                        yield from v._text_lines(indent + "  ")
                        yield f"{indent}}}\n"
                    else:
                        yield f"{indent}{name}: {_scalar_text(v)}\n"
            else:
                yield f"{indent}{name}: {_scalar_text(value)}\n"


def _fresh(default):
    if isinstance(default, type) and issubclass(default, _Message):
        return default()
    return _copy(default)


def _copy(value):
    if isinstance(value, _Message):
        new = type(value)()
        new.CopyFrom(value)
        return new
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return dict(value)
    return value


def _scalar_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def _check_field(msg: _Message, name: str, value):
    """TF's protobuf type checks: a nested message takes its own class, numbers stay numbers."""
    default = msg._fields[name]
    where = f"{type(msg).__name__}.{name}"
    if isinstance(default, type) and issubclass(default, _Message):
        if not isinstance(value, default):
            raise TypeError(f"{where} must be a {default.__name__}, got {type(value).__name__}")
        return value
    if isinstance(default, list):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise TypeError(f"{where} is a repeated field; got {type(value).__name__}")
        return list(value)
    if isinstance(default, dict):
        return dict(value)
    if isinstance(default, bool):
        if not isinstance(value, (bool, numbers.Integral)):
            raise TypeError(f"{where} must be a bool, got {type(value).__name__}")
        return bool(value)
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{where} must be an integer, got {type(value).__name__}")
        return int(value)
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{where} must be a number, got {type(value).__name__}")
        return float(value)
    if isinstance(default, str):
        if isinstance(value, bytes):
            value = value.decode()
        if not isinstance(value, str):
            raise TypeError(f"{where} must be a string, got {type(value).__name__}")
        return value
    return value


# the messages ---------------------------------------------------------------------------------
class GPUOptions(_Message):
    _fields = {"per_process_gpu_memory_fraction": 0.0, "allow_growth": False, "allocator_type": "",
               "deferred_deletion_bytes": 0, "visible_device_list": "", "polling_active_delay_usecs": 0,
               "polling_inactive_delay_msecs": 0, "force_gpu_compatible": False}


class OptimizerOptions(_Message):
    # Level
    L1 = 0
    L0 = -1
    # GlobalJitLevel
    DEFAULT = 0
    OFF = -1
    ON_1 = 1
    ON_2 = 2

    class Level:
        L1 = 0
        L0 = -1

    class GlobalJitLevel:
        DEFAULT = 0
        OFF = -1
        ON_1 = 1
        ON_2 = 2

    _fields = {"do_common_subexpression_elimination": False, "do_constant_folding": False,
               "max_folded_constant_in_bytes": 0, "do_function_inlining": False, "opt_level": 0,
               "global_jit_level": 0, "cpu_global_jit": False}


class GraphOptions(_Message):
    _fields = {"enable_recv_scheduling": False, "optimizer_options": OptimizerOptions,
               "build_cost_model": 0, "build_cost_model_after": 0, "infer_shapes": False,
               "place_pruned_graph": False, "enable_bfloat16_sendrecv": False, "timeline_step": 0}


class ConfigProto(_Message):
    _fields = {"device_count": {}, "intra_op_parallelism_threads": 0, "inter_op_parallelism_threads": 0,
               "use_per_session_threads": False, "placement_period": 0, "device_filters": [],
               "gpu_options": GPUOptions, "allow_soft_placement": False, "log_device_placement": False,
               "graph_options": GraphOptions, "operation_timeout_in_ms": 0, "isolate_session_state": False,
               "share_cluster_devices_in_session": False}


class RunOptions(_Message):
    NO_TRACE = 0
    SOFTWARE_TRACE = 1
    HARDWARE_TRACE = 2
    FULL_TRACE = 3

    class TraceLevel:
        NO_TRACE = 0
        SOFTWARE_TRACE = 1
        HARDWARE_TRACE = 2
        FULL_TRACE = 3

    _fields = {"trace_level": 0, "timeout_in_ms": 0, "inter_op_thread_pool": 0,
               "output_partition_graphs": False, "report_tensor_allocations_upon_oom": False}


class NodeExecStats(_Message):
    _fields = {"node_name": "", "all_start_micros": 0, "op_start_rel_micros": 0, "op_end_rel_micros": 0,
               "all_end_rel_micros": 0, "timeline_label": "", "scheduled_micros": 0, "thread_id": 0,
               "all_start_nanos": 0, "op_start_rel_nanos": 0, "op_end_rel_nanos": 0,
               "all_end_rel_nanos": 0, "scheduled_nanos": 0}


class DeviceStepStats(_Message):
    _fields = {"device": "", "node_stats": [], "thread_names": {}}
    _repeated = {"node_stats": NodeExecStats}


class StepStats(_Message):
    _fields = {"dev_stats": []}
    _repeated = {"dev_stats": DeviceStepStats}


class RunMetadata(_Message):
    """Filled by Session.run when passed: `step_stats` holds a traced run's kernel timings (else empty)."""
    _fields = {"step_stats": StepStats, "partition_graphs": []}


# protobuf conversion --------------------------------------------------------------------------
def to_proto(message: _Message):
    """The tensorboard package's protobuf message (config_pb2 / step_stats_pb2) with the same fields."""
    try:
        from tensorboard.compat.proto import config_pb2, step_stats_pb2
    except ImportError:
        raise ImportError("converting to a protocol buffer needs the tensorboard package: "
                          "pip install 'xlite[tensorboard]'") from None
    module = step_stats_pb2 if hasattr(step_stats_pb2, type(message).__name__) else config_pb2
    proto = getattr(module, type(message).__name__)()
    _fill(proto, message)
    return proto


def _fill(proto, message: _Message) -> None:
    for name, value in message.ListFields():
        if isinstance(value, _Message):
            _fill(getattr(proto, name), value)
        elif isinstance(value, dict):
            getattr(proto, name).update(value)
        elif isinstance(value, list):
            field = getattr(proto, name)
            for item in value:
                if isinstance(item, _Message):
                    _fill(field.add(), item)
                elif hasattr(item, "SerializeToString"):
                    field.add().CopyFrom(item)
                else:
                    field.append(item)
        else:
            setattr(proto, name, value)


# what a Session takes from them ---------------------------------------------------------------
class SessionSettings:
    """The parts of a ConfigProto a Session acts on (see the module docstring)."""

    def __init__(self, config=None, target: str = ""):
        if config is not None and not hasattr(config, "intra_op_parallelism_threads"):
            raise TypeError(f"config must be a tf.ConfigProto, got {type(config).__name__}")
        self.config = config
        self.intra_op_threads = int(getattr(config, "intra_op_parallelism_threads", 0) or 0)
        self.inter_op_threads = int(getattr(config, "inter_op_parallelism_threads", 0) or 0)
        if self.intra_op_threads < 0 or self.inter_op_threads < 0:
            raise ValueError("thread counts in a ConfigProto must be >= 0 (0 picks the default)")
        graph_options = getattr(config, "graph_options", None)
        optimizer_options = getattr(graph_options, "optimizer_options", None)
        self.global_jit_level = int(getattr(optimizer_options, "global_jit_level", 0) or 0)
        self.operation_timeout_ms = int(getattr(config, "operation_timeout_in_ms", 0) or 0)
        self._controller = None
        if getattr(config, "log_device_placement", False):
            sys.stderr.write(f"Device mapping: every op of a run executes on xlite target '{target}' "
                             "(one compiled executable per run signature)\n")

    def timeout_ms(self, options) -> int:
        """A run's time limit: RunOptions.timeout_in_ms when > 0, else the Session's default (0: none)."""
        given = int(getattr(options, "timeout_in_ms", 0) or 0)
        return given if given > 0 else self.operation_timeout_ms

    def thread_limit(self):
        """A context manager that caps the BLAS threads for one run (a no-op by default)."""
        if not self.intra_op_threads:
            return contextlib.nullcontext()
        if self._controller is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:
                from xlite import tf_logging
                tf_logging.warning("intra_op_parallelism_threads needs the threadpoolctl package to "
                                   "cap the BLAS threads; running with the default thread count")
                self.intra_op_threads = 0
                return contextlib.nullcontext()
            self._controller = ThreadpoolController()   # made at the first run, after the BLAS loads
        return self._controller.limit(limits=self.intra_op_threads, user_api="blas")


def check_run_arguments(options, run_metadata) -> None:
    """Session.run's `options` and `run_metadata` must be RunOptions / RunMetadata (or None)."""
    if options is not None and not hasattr(options, "trace_level"):
        raise TypeError(f"options must be a tf.RunOptions, got {type(options).__name__}")
    if run_metadata is not None and not hasattr(run_metadata, "step_stats"):
        raise TypeError(f"run_metadata must be a tf.RunMetadata, got {type(run_metadata).__name__}")
