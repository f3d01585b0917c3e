"""tf.data: input pipelines (Dataset stages run on the host, per-element functions compiled) and the
TF1 iterators whose `get_next()` feeds a compiled step. `tf.compat.v1.data` is this module too."""
from __future__ import annotations

from xlite.data import experimental, io_ops
from xlite.data.dataset import AUTOTUNE, INFINITE, UNKNOWN, Dataset
from xlite.data.iterators import (Iterator, get_output_shapes, get_output_types, make_initializable_iterator,
                                  make_one_shot_iterator)
from xlite.data.readers import TextLineDataset
from xlite.data.structure import TensorSpec

INFINITE_CARDINALITY = INFINITE
UNKNOWN_CARDINALITY = UNKNOWN

__all__ = ["AUTOTUNE", "Dataset", "Iterator", "TensorSpec", "TextLineDataset", "experimental", "io_ops",
           "get_output_shapes", "get_output_types", "make_initializable_iterator", "make_one_shot_iterator",
           "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY"]
