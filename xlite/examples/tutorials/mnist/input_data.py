"""TF1's MNIST tutorial loader, `read_data_sets`, reading local IDX files and never downloading.

`read_data_sets(train_dir)` reads the four standard files from `train_dir`, gzipped
(`train-images-idx3-ubyte.gz`, as TF's tutorials download them) or not
(`train-images-idx3-ubyte`, or the `train-images.idx3-ubyte` spelling), and returns
`Datasets(train, validation, test)` of `DataSet`s with TF's behaviour: images flattened
to float32 in [0, 1], labels as uint8 class ids or float64 one-hot rows, and
`next_batch` shuffling each epoch and joining the tail of one epoch to the head of the
next. `fake_data=True` gives TF's fake sets (10000 all-ones images of class 0).
"""
from __future__ import annotations

import collections
import os
from operator import attrgetter

import numpy as np

from xlite import errors
from xlite.datasets import read_idx
from xlite.ir import dtypes

Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
SOURCE_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"


def dense_to_one_hot(labels_dense: np.ndarray, num_classes: int) -> np.ndarray:
    """Class ids to one-hot rows (float64, as TF's tutorial code makes them)."""
    labels_dense = np.asarray(labels_dense)
    one_hot = np.zeros((labels_dense.shape[0], num_classes))
    one_hot[np.arange(labels_dense.shape[0]), labels_dense.ravel()] = 1
    return one_hot


class DataSet:
    """Images and labels with TF's `next_batch`: shuffled epochs, a batch that crosses an epoch
    boundary takes the rest of the old epoch and the start of the newly shuffled one.

    Shuffles draw from the DataSet's own `numpy.random.RandomState(seed)`, where TF re-seeds
    NumPy's global generator."""

    def __init__(self, images, labels, fake_data: bool = False, one_hot: bool = False,
                 dtype=dtypes.float32, reshape: bool = True, seed=None):
        dtype = dtypes.as_dtype(dtype)
        if dtype not in (dtypes.uint8, dtypes.float32):
            raise TypeError(f"Invalid image dtype {dtype!r}, expected uint8 or float32")
        self._rng = np.random.RandomState(seed)
        self.one_hot = one_hot
        self._fake = fake_data
        if fake_data:
            self._num_examples = 10000
        else:
            images, labels = np.asarray(images), np.asarray(labels)
            if images.shape[0] != labels.shape[0]:
                raise ValueError(f"images.shape: {images.shape} labels.shape: {labels.shape}")
            self._num_examples = images.shape[0]
            if reshape:
                if images.ndim != 4 or images.shape[3] != 1:
                    raise ValueError(f"reshape=True needs [N, rows, cols, 1] images, got {images.shape}")
                images = images.reshape(images.shape[0], images.shape[1] * images.shape[2])
            if dtype == dtypes.float32:
                images = images.astype(np.float32) * np.float32(1.0 / 255.0)
        self._images = images
        self._labels = labels
        self._epochs_completed = 0
        self._index_in_epoch = 0

    images = property(attrgetter("_images"))
    labels = property(attrgetter("_labels"))
    num_examples = property(attrgetter("_num_examples"))
    epochs_completed = property(attrgetter("_epochs_completed"))

    def next_batch(self, batch_size: int, fake_data: bool = False, shuffle: bool = True):
        """The next `batch_size` (images, labels). Fake batches are lists, as TF returns them; a fake
        DataSet gives them whatever `fake_data` says (it has no real examples to give)."""
        if fake_data or self._fake:
            fake_image = [1] * 784
            fake_label = [1] + [0] * 9 if self.one_hot else 0
            return [fake_image for _ in range(batch_size)], [fake_label for _ in range(batch_size)]
        start = self._index_in_epoch
        if self._epochs_completed == 0 and start == 0 and shuffle:
            self._shuffle()
        if start + batch_size > self._num_examples:
            self._epochs_completed += 1
            images_rest = self._images[start:self._num_examples]
            labels_rest = self._labels[start:self._num_examples]
            if shuffle:
                self._shuffle()
            self._index_in_epoch = batch_size - (self._num_examples - start)
            end = self._index_in_epoch
            return (np.concatenate((images_rest, self._images[:end]), axis=0),
                    np.concatenate((labels_rest, self._labels[:end]), axis=0))
        self._index_in_epoch += batch_size
        end = self._index_in_epoch
        return self._images[start:end], self._labels[start:end]

    def _shuffle(self) -> None:
        perm = np.arange(self._num_examples)
        self._rng.shuffle(perm)
        self._images = self._images[perm]
        self._labels = self._labels[perm]


def _find(train_dir: str, stem: str) -> str | None:
    dotted = stem.replace("-idx", ".idx", 1)   # train-images.idx3-ubyte, as some archives unpack
    for name in (stem + ".gz", stem, dotted + ".gz", dotted):
        path = os.path.join(train_dir, name)
        if os.path.isfile(path):
            return path
    return None


def _read(path: str, kind: str, ndim: int) -> np.ndarray:
    try:
        data = read_idx(path)
    except ValueError as e:
        raise ValueError(f"{path} is not a valid MNIST {kind} file: {e}") from None
    if data.dtype != np.uint8 or data.ndim != ndim:
        raise ValueError(f"{path} is not a valid MNIST {kind} file: expected {ndim}-D uint8 data, found "
                         f"{data.ndim}-D {data.dtype}")
    return data


def extract_images(path: str) -> np.ndarray:
    """An IDX image file as a uint8 [N, rows, cols, 1] array."""
    return _read(path, "image", 3)[..., np.newaxis]


def extract_labels(path: str, one_hot: bool = False, num_classes: int = 10) -> np.ndarray:
    """An IDX label file as uint8 class ids, or one-hot rows."""
    labels = _read(path, "label", 1)
    return dense_to_one_hot(labels, num_classes) if one_hot else labels


def read_data_sets(train_dir, fake_data: bool = False, one_hot: bool = False, dtype=dtypes.float32,
                   reshape: bool = True, validation_size: int = 5000, seed=None, source_url=SOURCE_URL):
    """Datasets(train, validation, test) from the MNIST IDX files in `train_dir`; the first
    `validation_size` training examples become the validation set. `source_url` is accepted and
    ignored: nothing is downloaded."""
    if fake_data:
        def fake():
            return DataSet([], [], fake_data=True, one_hot=one_hot, dtype=dtype, seed=seed)
        return Datasets(train=fake(), validation=fake(), test=fake())
    train_dir = os.fspath(train_dir)
    stems = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
    paths = [_find(train_dir, stem) for stem in stems]
    missing = [stem + ".gz" for stem, path in zip(stems, paths) if path is None]
    if missing:
        raise errors.NotFoundError(
            None, None,
            f"MNIST data not found: {train_dir!r} lacks {', '.join(missing)}. xlite never downloads; put the "
            f"four MNIST files {', '.join(s + '.gz' for s in stems)} (gzipped or not) in {train_dir!r}, "
            f"e.g. from {SOURCE_URL}, or pass fake_data=True.")
    train_images = extract_images(paths[0])
    train_labels = extract_labels(paths[1], one_hot=one_hot)
    test_images = extract_images(paths[2])
    test_labels = extract_labels(paths[3], one_hot=one_hot)
    if not 0 <= validation_size <= len(train_images):
        raise ValueError(f"Validation size should be between 0 and {len(train_images)}. "
                         f"Received: {validation_size}.")
    options = dict(dtype=dtype, reshape=reshape, seed=seed)
    return Datasets(train=DataSet(train_images[validation_size:], train_labels[validation_size:], **options),
                    validation=DataSet(train_images[:validation_size], train_labels[:validation_size], **options),
                    test=DataSet(test_images, test_labels, **options))

