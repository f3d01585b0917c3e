"""MNIST input_data: TF's read_data_sets and DataSet on small IDX files written here."""
import os

import numpy as np
import pytest

import xlite as tf
from xlite.datasets import write_idx
from xlite.examples.tutorials.mnist import input_data

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def write_mnist(directory, n_train=30, n_test=7, compress=True, rows=28, cols=28, seed=0):
    """Random MNIST-format files; returns the arrays written."""
    rng = np.random.RandomState(seed)
    arrays = (rng.randint(0, 256, (n_train, rows, cols)).astype(np.uint8), rng.randint(0, 10, n_train).astype(np.uint8),
              rng.randint(0, 256, (n_test, rows, cols)).astype(np.uint8), rng.randint(0, 10, n_test).astype(np.uint8))
    os.makedirs(directory, exist_ok=True)
    for name, array in zip(NAMES, arrays):
        write_idx(os.path.join(directory, name + (".gz" if compress else "")), array, compress=compress)
    return arrays


@pytest.mark.parametrize("compress", [True, False])
def test_read_data_sets_splits_and_scales(tmp_path, compress):
    train_x, train_y, test_x, test_y = write_mnist(str(tmp_path), compress=compress)
    data = input_data.read_data_sets(str(tmp_path), validation_size=10)
    assert data._fields == ("train", "validation", "test")
    assert (data.train.num_examples, data.validation.num_examples, data.test.num_examples) == (20, 10, 7)
    assert data.train.images.shape == (20, 784) and data.train.images.dtype == np.float32
    expected = np.multiply(train_x[:10].reshape(10, 784).astype(np.float32), 1.0 / 255.0)   # TF's formula
    assert expected.dtype == np.float32
    np.testing.assert_array_equal(data.validation.images, expected)
    np.testing.assert_array_equal(data.train.labels, train_y[10:])
    np.testing.assert_array_equal(data.test.labels, test_y)
    assert data.train.labels.dtype == np.uint8
    assert 0.0 <= data.test.images.min() and data.test.images.max() <= 1.0
    np.testing.assert_allclose(data.test.images, test_x.reshape(7, 784) / 255.0, rtol=1e-6)


def test_one_hot_uint8_and_unreshaped(tmp_path):
    train_x, train_y, _, _ = write_mnist(str(tmp_path))
    data = input_data.read_data_sets(str(tmp_path), one_hot=True, dtype=np.uint8, reshape=False, validation_size=0)
    assert data.train.images.shape == (30, 28, 28, 1) and data.train.images.dtype == np.uint8
    np.testing.assert_array_equal(data.train.images[..., 0], train_x)
    assert data.train.labels.shape == (30, 10)
    np.testing.assert_array_equal(np.argmax(data.train.labels, 1), train_y)
    assert data.train.labels.sum() == 30


def test_positional_fake_data_argument_as_in_tf():
    data = input_data.read_data_sets("/nonexistent", True)       # fully_connected_feed passes it positionally
    assert data.train.num_examples == 10000


def test_missing_files_name_what_to_put_where(tmp_path):
    write_mnist(str(tmp_path))
    os.remove(os.path.join(str(tmp_path), "t10k-labels-idx1-ubyte.gz"))
    with pytest.raises(tf.errors.NotFoundError) as info:
        input_data.read_data_sets(str(tmp_path), validation_size=5)
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in message and str(tmp_path) in message and "never downloads" in message
    assert "train-images-idx3-ubyte.gz lacks" not in message


def test_bad_files_and_validation_size(tmp_path):
    write_mnist(str(tmp_path))
    with pytest.raises(ValueError, match="Validation size should be between 0 and 30"):
        input_data.read_data_sets(str(tmp_path))                 # the default 5000 is too many here
    write_idx(os.path.join(str(tmp_path), "train-labels-idx1-ubyte.gz"), np.zeros((30, 2), np.uint8), compress=True)
    with pytest.raises(ValueError, match="not a valid MNIST label file"):
        input_data.read_data_sets(str(tmp_path), validation_size=5)


def test_dotted_file_names_are_found(tmp_path):
    arrays = write_mnist(str(tmp_path / "src"), compress=False)
    for name, array in zip(NAMES, arrays):
        write_idx(str(tmp_path / name.replace("-idx", ".idx", 1)), array)
    assert input_data.read_data_sets(str(tmp_path), validation_size=0).train.num_examples == 30


def test_fake_data_as_tf():
    data = input_data.read_data_sets("", fake_data=True, one_hot=True)
    assert data.train.num_examples == 10000 and list(data.train.images) == []
    images, labels = data.train.next_batch(3, fake_data=True)
    assert images == [[1] * 784] * 3 and labels == [[1] + [0] * 9] * 3
    images, labels = input_data.read_data_sets("", fake_data=True).test.next_batch(2, True)
    assert labels == [0, 0] and len(images[0]) == 784


def _dataset(n=10, seed=3):
    images = np.arange(n * 4, dtype=np.uint8).reshape(n, 2, 2, 1)
    return input_data.DataSet(images, np.arange(n), dtype=np.uint8, seed=seed)


def test_next_batch_epochs_are_permutations_and_batches_cross_the_boundary():
    ds = _dataset()
    seen = []
    for _ in range(3):
        _, labels = ds.next_batch(4)
        seen += labels.tolist()
    # 12 labels: the 10 of epoch one, then the first 2 of epoch two.
    assert sorted(seen[:10]) == list(range(10)) and ds.epochs_completed == 1
    _, more = ds.next_batch(8)
    epoch_two = seen[10:] + more.tolist()
    assert sorted(epoch_two) == list(range(10)) and ds.epochs_completed == 1
    _, last = ds.next_batch(1)
    assert ds.epochs_completed == 2 and len(last) == 1


def test_next_batch_without_shuffle_wraps_in_order():
    ds = _dataset()
    batches = [ds.next_batch(4, shuffle=False)[1].tolist() for _ in range(3)]
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 0, 1]]
    images, _ = ds.next_batch(2, shuffle=False)
    assert images.shape == (2, 4) and images[0].tolist() == [8, 9, 10, 11]


def test_same_seed_same_order():
    a, b = _dataset(seed=7), _dataset(seed=7)
    assert [a.next_batch(3)[1].tolist() for _ in range(5)] == [b.next_batch(3)[1].tolist() for _ in range(5)]


def test_dataset_checks():
    with pytest.raises(TypeError, match="Invalid image dtype"):
        input_data.DataSet(np.zeros((2, 2, 2, 1)), np.zeros(2), dtype=np.int32)
    with pytest.raises(ValueError):
        input_data.DataSet(np.zeros((2, 2, 2, 1)), np.zeros(3))
    np.testing.assert_array_equal(input_data.dense_to_one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
