"""This process's part of each global batch: the rows the data-parallel replicas split between them.

Replica r of R takes rows [r*n//R, (r+1)*n//R) of a batch of n, so the replicas' parts are contiguous,
differ in size by at most one row and together are the batch. Host-only slicing of NumPy batches.
"""
from __future__ import annotations

import numpy as np

from xlite.data.dataset import Dataset
from xlite.data import structure
from xlite.frontend import nest
from xlite.frontend.tensor_shape import TensorShape
from xlite.function.tensor_spec import TensorSpec


def row_range(n: int, replicas: int, rank: int) -> tuple[int, int]:
    return rank * n // replicas, (rank + 1) * n // replicas


def local_rows(batch, replicas: int, rank: int):
    """The nested structure `batch` with each array cut to this replica's rows (None entries stay None)."""
    arrays = [a for a in nest.flatten(batch) if a is not None]
    if replicas == 1 or not arrays:
        return batch
    n = len(np.asarray(arrays[0]))
    start, stop = row_range(n, replicas, rank)
    return nest.pack_sequence_as(batch, [None if a is None else np.asarray(a)[start:stop]
                                         for a in nest.flatten(batch)])


class ReplicaBatches(Dataset):
    """A dataset of global batches, each cut to this replica's rows (experimental_distribute_dataset)."""

    def __init__(self, input_: Dataset, replicas: int, rank: int):
        self._input, self._replicas, self._rank = input_, replicas, rank
        self._spec = structure.map_specs(
            lambda s: TensorSpec(TensorShape([None]).concatenate(s.shape[1:]), s.dtype), input_.element_spec)

    def _inputs(self):
        return [self._input]

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _elements(self, env: dict):
        for element in self._input._elements(env):
            yield local_rows(element, self._replicas, self._rank)


__all__ = ["row_range", "local_rows", "ReplicaBatches"]
