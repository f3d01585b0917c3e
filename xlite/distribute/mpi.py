"""Horovod's TensorFlow API over xlite's collectives: `import xlite.distribute.mpi as hvd`.

A script written for `horovod.tensorflow` runs with only that import changed: hvd.init(), rank/size,
DistributedOptimizer (gradients averaged by an all-reduce inside the compiled training step),
broadcast_global_variables / BroadcastGlobalVariablesHook, allreduce, allgather, broadcast. Launch it
with `mpiexec -n 4 python train.py` or `xlite run -n 4 train.py`; started alone it is a world of one.
"""
from __future__ import annotations

import copy
import types

from xlite import errors
from xlite.distribute.gradient_aggregation import LocalAggregation
from xlite.frontend import collective_ops
from xlite.frontend.graph import executing_eagerly
from xlite.frontend.variables import global_variables, group
from xlite.keras.callbacks import Callback
from xlite.semantics.world import world
from xlite.train.optimizers import Optimizer
from xlite.train.session_run_hook import SessionRunHook

Average, Sum, Adasum, Min, Max = "average", "sum", "adasum", "min", "max"


def init(comm=None) -> None:
    """Starts MPI where a launcher started this process (a world of one otherwise). `comm`, as Horovod
    takes it (a list of ranks or an mpi4py communicator), must be the whole world."""
    w = world()
    whole = comm is None or (sorted(comm) == list(range(w.size)) if isinstance(comm, (list, tuple))
                             else w.comm is not None and comm.Compare(w.comm) in (0, 1))   # MPI_IDENT, MPI_CONGRUENT
    if not whole:
        raise errors.unimplemented("hvd.init(comm): collectives over a part of the world (only all of "
                                   "MPI_COMM_WORLD is supported)")


def shutdown() -> None:
    """MPI ends with the process (mpi4py finalizes it at exit)."""


def is_initialized() -> bool:
    return True


def size() -> int:
    return world().size


def rank() -> int:
    return world().rank


def local_size() -> int:
    return world().local_size


def local_rank() -> int:
    return world().local_rank


def cross_size() -> int:
    return world().size // max(1, world().local_size)


def cross_rank() -> int:
    return world().rank // max(1, world().local_size)


def mpi_enabled() -> bool:
    return world().comm is not None


def mpi_built() -> bool:
    return True


def gloo_enabled() -> bool:
    return False


def nccl_built() -> bool:
    return False


def _reduce_op(average, op) -> str:
    if op is None:
        op = Average if average is None or average else Sum
    if op == Adasum:
        raise errors.unimplemented("hvd.Adasum: only Average, Sum, Min and Max reductions are supported")
    return op


class NoneCompressor:
    """hvd.Compression.none: gradients travel as they are."""

    @staticmethod
    def compress(tensor):
        return tensor, None

    @staticmethod
    def decompress(tensor, ctx):
        return tensor


class FP16Compressor(NoneCompressor):
    """hvd.Compression.fp16: not supported (xlite's all-reduce has no float16 sum); using it raises."""


Compression = types.SimpleNamespace(none=NoneCompressor, fp16=FP16Compressor)


def _check_compression(compression) -> None:
    if compression is not None and compression is not NoneCompressor:
        raise errors.unimplemented(f"hvd.Compression {getattr(compression, '__name__', compression)}: xlite "
                                   "all-reduces gradients uncompressed (only hvd.Compression.none)")


def allreduce(tensor, average=None, device_dense="", device_sparse="", compression=None, op=None,
              prescale_factor=1.0, postscale_factor=1.0, name=None):
    """tensor averaged (by default), summed, or min/max-ed over every process."""
    _check_compression(compression)
    if prescale_factor != 1.0:
        tensor = tensor * prescale_factor
    result = collective_ops.all_reduce(tensor, _reduce_op(average, op), name=name)
    return result * postscale_factor if postscale_factor != 1.0 else result


def allgather(tensor, name=None):
    """Every process's tensor (the same shape on each) concatenated along dimension 0 in rank order."""
    return collective_ops.all_gather(tensor, name=name)


def broadcast(tensor, root_rank: int, name=None):
    return collective_ops.broadcast(tensor, root_rank, name=name)


def broadcast_object(obj, root_rank: int = 0, name=None):
    """A picklable Python object of process root_rank, on every process."""
    comm = world().comm
    return obj if comm is None else comm.bcast(obj, root=root_rank)


def allgather_object(obj, name=None) -> list:
    comm = world().comm
    return [obj] if comm is None else comm.allgather(obj)


def broadcast_variables(variables, root_rank: int):
    """Every variable set to its value on process root_rank: an op to run (eagerly: done now)."""
    assigns = [v.assign(broadcast(v.read_value() if hasattr(v, "read_value") else v, root_rank))
               for v in variables]
    return None if executing_eagerly() else group(*assigns)


def broadcast_global_variables(root_rank: int):
    """tf.global_variables() set to their values on process root_rank: the op to run after initializing."""
    if executing_eagerly():
        raise RuntimeError("hvd.broadcast_global_variables() does not support eager execution. "
                           "Please use `hvd.broadcast_variables(<model/optimizer variables>)` instead.")
    return broadcast_variables(global_variables(), root_rank)


class BroadcastGlobalVariablesHook(SessionRunHook):
    """Broadcasts the global variables from root_rank once the session exists (MonitoredTrainingSession)."""

    def __init__(self, root_rank: int, device=""):
        self.root_rank = root_rank
        self.bcast_op = None

    def begin(self) -> None:
        self.bcast_op = broadcast_global_variables(self.root_rank)

    def after_create_session(self, session, coord) -> None:
        session.run(self.bcast_op)


def _averaged(grads_and_vars, op: str, predivide: float = 1.0) -> list:
    """Each gradient all-reduced; with a predivide factor f (Horovod's), an average is the sum of g / f
    scaled by f / size afterwards."""
    if size() == 1:
        return list(grads_and_vars)
    if predivide != 1.0:
        return [(None if g is None else allreduce(g, op=Sum, prescale_factor=1.0 / predivide,
                                                  postscale_factor=predivide / size()), v)
                for g, v in grads_and_vars]
    return [(None if g is None else collective_ops.all_reduce(g, op), v) for g, v in grads_and_vars]


class _DistributedOptimizer(Optimizer):
    """A tf.train optimizer whose compute_gradients averages the gradients over every process."""

    def __init__(self, optimizer: Optimizer, name=None, use_locking=False, op=Average, predivide: float = 1.0,
                 passes: int = 1):
        super().__init__(use_locking, name or f"Distributed{type(optimizer).__name__}")
        self._optimizer, self._op, self._predivide = optimizer, op, predivide
        self._aggregation = LocalAggregation(passes, self._reduced) if passes != 1 else None

    def _reduced(self, grads: list) -> list:
        return [g for g, _ in _averaged([(g, None) for g in grads], self._op, self._predivide)]

    def compute_gradients(self, *args, **kwargs):
        grads_and_vars = self._optimizer.compute_gradients(*args, **kwargs)
        if self._aggregation is not None:
            return self._aggregation.gradients(grads_and_vars)
        return _averaged(grads_and_vars, self._op, self._predivide)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        if self._aggregation is None:
            return self._optimizer.apply_gradients(grads_and_vars, global_step, name)
        grads_and_vars = list(grads_and_vars)
        return self._aggregation.apply(
            grads_and_vars, lambda: self._optimizer.apply_gradients(grads_and_vars, global_step, name), global_step)

    def get_slot(self, *args, **kwargs):
        return self._optimizer.get_slot(*args, **kwargs)

    def get_slot_names(self, *args, **kwargs):
        return self._optimizer.get_slot_names(*args, **kwargs)

    def variables(self, *args, **kwargs):
        return self._optimizer.variables(*args, **kwargs)


def _keras_distributed(optimizer, op: str, predivide: float = 1.0):
    """A copy of a Keras optimizer whose apply_gradients first averages the gradients over every process."""
    base = type(optimizer)

    def apply_gradients(self, grads_and_vars, *args, **kwargs):
        return base.apply_gradients(self, _averaged(grads_and_vars, op, predivide), *args, **kwargs)

    distributed = copy.copy(optimizer)
    distributed.__class__ = type(base.__name__, (base,), {"apply_gradients": apply_gradients})
    return distributed


def DistributedOptimizer(optimizer, name=None, use_locking=False, device_dense="", device_sparse="",
                         compression=None, sparse_as_dense=False, backward_passes_per_step=1, op=Average,
                         gradient_predivide_factor=1.0, **kwargs):
    """The optimizer, its gradients averaged (op=Average) or summed over every process by an all-reduce."""
    op = _reduce_op(None, op)
    _check_compression(compression)
    if gradient_predivide_factor != 1.0 and op != Average:
        raise ValueError("gradient_predivide_factor not supported with op != Average")
    if isinstance(optimizer, Optimizer):
        if backward_passes_per_step != 1 and executing_eagerly():
            raise errors.unimplemented("hvd.DistributedOptimizer(backward_passes_per_step != 1) eagerly: "
                                       "local gradient aggregation is built in graph mode only")
        return _DistributedOptimizer(optimizer, name, use_locking, op, gradient_predivide_factor,
                                     backward_passes_per_step)
    if backward_passes_per_step != 1:
        raise errors.unimplemented("hvd.DistributedOptimizer(backward_passes_per_step != 1) of a Keras optimizer")
    return _keras_distributed(optimizer, op, gradient_predivide_factor)


class DistributedGradientTape:
    """hvd.DistributedGradientTape(tape): the tape's gradients averaged (op=Average) over every process."""

    def __init__(self, gradtape, device_dense="", device_sparse="", compression=None, sparse_as_dense=False,
                 op=Average, **kwargs):
        _check_compression(compression)
        self._tape, self._op = gradtape, _reduce_op(None, op)

    def gradient(self, target, sources, output_gradients=None, **kwargs):
        grads = self._tape.gradient(target, sources, output_gradients, **kwargs)
        if size() == 1:
            return grads
        if isinstance(grads, (list, tuple)):
            return type(grads)(None if g is None else collective_ops.all_reduce(g, self._op) for g in grads)
        return None if grads is None else collective_ops.all_reduce(grads, self._op)

    def __getattr__(self, name: str):
        return getattr(self._tape, name)


class BroadcastGlobalVariablesCallback(Callback):
    """hvd.callbacks.BroadcastGlobalVariablesCallback: at the start of fit every process takes process
    root_rank's model weights."""

    def __init__(self, root_rank: int = 0, device=""):
        super().__init__()
        self.root_rank = root_rank

    def on_train_begin(self, logs=None) -> None:
        if size() > 1:
            self.model.set_weights(broadcast_object(self.model.get_weights(), self.root_rank))


callbacks = types.SimpleNamespace(BroadcastGlobalVariablesCallback=BroadcastGlobalVariablesCallback)

__all__ = ["init", "shutdown", "is_initialized", "size", "rank", "local_size", "local_rank", "cross_size",
           "cross_rank", "mpi_enabled", "mpi_built", "gloo_enabled", "nccl_built", "allreduce", "allgather",
           "broadcast", "broadcast_object", "allgather_object", "broadcast_variables", "broadcast_global_variables",
           "BroadcastGlobalVariablesHook", "DistributedOptimizer", "DistributedGradientTape", "Average", "Sum",
           "Adasum", "Min", "Max", "Compression", "NoneCompressor", "FP16Compressor", "callbacks",
           "BroadcastGlobalVariablesCallback"]
