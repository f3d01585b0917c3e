"""tf.distribute over MPI processes, and the Horovod-style API (`import xlite.distribute.mpi as hvd`).

Each process that `mpiexec -n N python train.py` (or `xlite run -n N train.py`) starts is one replica;
gradients are averaged by all-reduce instructions inside the compiled training step. Started alone, a
process is a strategy of one replica and every collective is the identity.
"""
from __future__ import annotations

import types

from xlite.distribute.strategies import (InputContext, MirroredStrategy, MultiWorkerMirroredStrategy,
                                         OneDeviceStrategy, ReduceOp, ReplicaContext, Strategy, get_replica_context,
                                         get_strategy, has_strategy, in_cross_replica_context)

experimental = types.SimpleNamespace(MultiWorkerMirroredStrategy=MultiWorkerMirroredStrategy,
                                     ReduceOp=ReduceOp)

__all__ = ["InputContext", "MirroredStrategy", "MultiWorkerMirroredStrategy", "OneDeviceStrategy", "ReduceOp",
           "ReplicaContext", "Strategy", "get_replica_context", "get_strategy", "has_strategy",
           "in_cross_replica_context", "experimental"]
