"""tf.estimator.inputs: input_fns over in-memory NumPy arrays (numpy_input_fn) and pandas DataFrames.

TF fed such arrays through queues; here they become a tf.data pipeline (slices, optional shuffle, repeat,
batch) whose batches the iterator hands to the compiled step. As with TF's queues, batches run across epoch
boundaries and the last one may be short when num_epochs is set.
"""
from __future__ import annotations

import numpy as np

from xlite.data.dataset import Dataset

_DIRECT_INPUT_KEY = "__direct_np_input__"
_TARGET_KEY = "__target_key__"


def _check_shuffle(shuffle) -> None:
    if not isinstance(shuffle, bool):
        raise ValueError("shuffle must be provided and explicitly set as boolean (it is recommended to set it "
                         f"as True for training); got {shuffle}")


def _pipeline(arrays: dict, batch_size: int, num_epochs, shuffle: bool, queue_capacity: int):
    length = len(next(iter(arrays.values())))
    dataset = Dataset.from_tensor_slices(arrays)
    if shuffle:
        dataset = dataset.shuffle(max(min(queue_capacity, length), 1))
    return dataset.repeat(num_epochs).batch(batch_size)


def numpy_input_fn(x, y=None, batch_size=128, num_epochs=1, shuffle=None, queue_capacity=1000, num_threads=1):
    """An input_fn giving (features, target) batches of `x` (an array or a dict of arrays) and `y`; features
    is a dict when x is, target a dict when y is. num_epochs=None repeats forever."""
    _check_shuffle(shuffle)
    if not isinstance(x, dict):
        x = {_DIRECT_INPUT_KEY: x}
    x = {key: np.asarray(value) for key, value in x.items()}
    if not x:
        raise ValueError("x cannot be an empty dict")
    lengths = {len(value) for value in x.values()}
    if len(lengths) != 1:
        raise ValueError(f"Length of tensors in x are mismatched: {sorted(lengths)}.")
    targets = {}
    if y is not None:
        targets = {key: np.asarray(v) for key, v in y.items()} if isinstance(y, dict) else {_TARGET_KEY: np.asarray(y)}
        if set(targets) & set(x):
            raise ValueError(f"{sorted(set(targets) & set(x))} duplicate keys are found in both x and y: "
                             f"{sorted(x)}, {sorted(targets)}")
        if {len(v) for v in targets.values()} != lengths:
            raise ValueError("Length of tensors in x and y is mismatched. All elements in x and y must have the "
                             "same length.")

    def input_fn():
        from xlite.data.iterators import make_one_shot_iterator
        batch = make_one_shot_iterator(_pipeline({**x, **targets}, batch_size, num_epochs, shuffle,
                                                 queue_capacity)).get_next()
        features = {key: batch[key] for key in x}
        if _DIRECT_INPUT_KEY in features:
            features = features[_DIRECT_INPUT_KEY]
        if y is None:
            return features
        target = batch[_TARGET_KEY] if _TARGET_KEY in targets else {key: batch[key] for key in targets}
        return features, target
    return input_fn


def pandas_input_fn(x, y=None, batch_size=128, num_epochs=1, shuffle=None, queue_capacity=1000, num_threads=1,
                    target_column="target"):
    """numpy_input_fn over a DataFrame's columns (and a Series target)."""
    try:
        import pandas  # noqa: F401  (TF requires pandas here; the DataFrame's own columns are read below)
    except ImportError:
        raise TypeError("pandas_input_fn should not be called without pandas installed") from None
    _check_shuffle(shuffle)
    if y is not None:
        if target_column in x:
            raise ValueError(f"Cannot use name {target_column} for target column: DataFrame already has a "
                             f"column with that name: {list(x.columns)}")
        if not np.array_equal(np.asarray(x.index), np.asarray(y.index)):
            raise ValueError(f"Index for x and y are mismatched.\nIndex for x: {x.index}\nIndex for y: {y.index}\n")
        y = np.asarray(y)
    features = {str(column): np.asarray(x[column]) for column in x.columns}
    return numpy_input_fn(features, y, batch_size, num_epochs, shuffle, queue_capacity, num_threads)
