"""tf.distribute's strategies over MPI: each process `mpiexec` starts is one replica.

MirroredStrategy (one machine) and MultiWorkerMirroredStrategy (many) are the same thing here: data
parallelism over the world of processes (xlite/semantics/world.py), gradients averaged by an all-reduce
in the compiled step. A process started without a launcher is a strategy of one replica, so the same
script runs anywhere. Keras' fit under `scope()` splits each global batch across the replicas and
averages their gradients (xlite/keras/engine/distribution.py).
"""
from __future__ import annotations

import contextlib
import enum

import numpy as np

from xlite.distribute import replica_data
from xlite.frontend import collective_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.math_ops import cast
from xlite.frontend.reduction_ops import reduce_sum
from xlite.frontend.shape_ops import shape
from xlite.ir import dtypes
from xlite.keras.engine import distribution
from xlite.semantics.world import World, world


class ReduceOp(enum.Enum):
    """How strategy.reduce combines the replicas' values."""
    SUM = "SUM"
    MEAN = "MEAN"


class InputContext:
    """What a dataset function of distribute_datasets_from_function learns about its pipeline."""

    def __init__(self, num_input_pipelines: int = 1, input_pipeline_id: int = 0, num_replicas_in_sync: int = 1):
        self.num_input_pipelines = num_input_pipelines
        self.input_pipeline_id = input_pipeline_id
        self.num_replicas_in_sync = num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size: int) -> int:
        if global_batch_size % self.num_replicas_in_sync:
            raise ValueError(f"The `global_batch_size` {global_batch_size} is not divisible by "
                             f"`num_replicas_in_sync` {self.num_replicas_in_sync}")
        return global_batch_size // self.num_replicas_in_sync


class Strategy:
    """Data parallelism over the processes of the MPI world; one replica per process."""

    _own_world = None          # a World of its own (OneDeviceStrategy); else the process's, looked up when used

    def __init__(self, devices=None, cross_device_ops=None):
        self._devices = list(devices or ["/cpu:0"])

    @property
    def _world(self):
        return self._own_world or world()

    @contextlib.contextmanager
    def scope(self):
        """Models compiled inside train with this strategy (their Variables are ordinary: one per process)."""
        distribution.enter_scope(self)
        try:
            yield self
        finally:
            distribution.exit_scope(self)

    @property
    def num_replicas_in_sync(self) -> int:
        return self._world.size

    @property
    def extended(self) -> "Strategy":
        return self

    def run(self, fn, args=(), kwargs=None):
        """fn on this process's replica (its value is this replica's; strategy.reduce combines them)."""
        _replica_contexts.append(ReplicaContext(self))
        try:
            return fn(*args, **(kwargs or {}))
        finally:
            _replica_contexts.pop()

    experimental_run_v2 = run

    def experimental_local_results(self, value) -> tuple:
        return (value,)

    def reduce(self, reduce_op, value, axis=None):
        """The replicas' values combined: summed, or averaged (over the global batch when `axis` is given)."""
        op = ReduceOp(reduce_op.value if isinstance(reduce_op, ReduceOp) else str(reduce_op).upper())
        value = convert_to_tensor(value)
        if axis is None:
            if self._world.size == 1:
                return value
            kind = "sum" if op is ReduceOp.SUM or not value.dtype.is_floating else "average"
            return collective_ops.all_reduce(value, kind)
        total = reduce_sum(value, axis)
        if self._world.size > 1:
            total = collective_ops.all_reduce(total, "sum")
        if op is ReduceOp.SUM:
            return total
        count = cast(shape(value)[axis], value.dtype)
        if self._world.size > 1:
            count = collective_ops.all_reduce(count, "sum")
        return total / count

    def experimental_distribute_dataset(self, dataset, options=None):
        """A dataset of global batches as this replica's part of each (TF's DATA auto-shard policy)."""
        if self._world.size == 1:
            return dataset
        return replica_data.ReplicaBatches(dataset, self._world.size, self._world.rank)

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        """dataset_fn(InputContext) on each process: it shards and batches for its own pipeline."""
        size, rank = self._world.size, self._world.rank
        return dataset_fn(InputContext(size, rank, size))

    experimental_distribute_datasets_from_function = distribute_datasets_from_function

    # what Keras' fit asks (xlite/keras/engine/distribution.py) ---------------------------------------------
    def _local_rows(self, batch):
        return replica_data.local_rows(batch, self._world.size, self._world.rank)

    def _average_gradients(self, grads: list, batch_rows) -> list:
        """Each replica's gradient of its mean loss, weighted by its share of the global batch and
        averaged: the gradient of the global batch's mean loss, however the rows were split."""
        if self._world.size == 1:
            return grads
        rows = cast(batch_rows, dtypes.float32)
        scale = rows * float(self._world.size) / collective_ops.all_reduce(rows, "sum")
        return [None if g is None else collective_ops.all_reduce(convert_to_tensor(g) * cast(scale, g.dtype), "average")
                for g in grads]      # (an IndexedSlices, an Embedding's gradient, made dense for the all-reduce)

    def _synchronize_host_random_state(self) -> None:
        if self._world.size > 1:
            np.random.set_state(self._world.comm.bcast(np.random.get_state(), root=0))


class ReplicaContext:
    """What code inside strategy.run sees: this replica's id, the replica count, and all_reduce."""

    def __init__(self, strategy: Strategy):
        self.strategy = strategy

    @property
    def num_replicas_in_sync(self) -> int:
        return self.strategy.num_replicas_in_sync

    @property
    def replica_id_in_sync_group(self) -> int:
        return self.strategy._world.rank

    def all_reduce(self, reduce_op, value):
        """value summed or averaged over the replicas (an all-reduce in the compiled step)."""
        return self.strategy.reduce(reduce_op, value)


_replica_contexts: list = []


class MirroredStrategy(Strategy):
    """Synchronous data parallelism on one machine: one replica per process mpiexec started."""


class MultiWorkerMirroredStrategy(Strategy):
    """Synchronous data parallelism across machines: one replica per process of the MPI world."""

    def __init__(self, communication=None, cluster_resolver=None, communication_options=None):
        super().__init__()


class OneDeviceStrategy(Strategy):
    """One replica, whatever the world: nothing is reduced."""

    def __init__(self, device="/cpu:0"):
        super().__init__([device])
        self._own_world = World()


_DEFAULT = OneDeviceStrategy()


def get_strategy() -> Strategy:
    """The strategy whose scope is open, else the default one-replica strategy."""
    return distribution.current_strategy() or _DEFAULT


def has_strategy() -> bool:
    return distribution.current_strategy() is not None


def get_replica_context():
    """Inside strategy.run, its replica's context; in a strategy's scope outside run, None (the
    cross-replica context); elsewhere the default strategy's one replica."""
    if _replica_contexts:
        return _replica_contexts[-1]
    return None if has_strategy() else ReplicaContext(_DEFAULT)


def in_cross_replica_context() -> bool:
    return get_replica_context() is None


__all__ = ["ReduceOp", "InputContext", "Strategy", "ReplicaContext", "MirroredStrategy", "MultiWorkerMirroredStrategy",
           "OneDeviceStrategy", "get_strategy", "has_strategy", "get_replica_context", "in_cross_replica_context"]
