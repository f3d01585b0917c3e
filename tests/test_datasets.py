import gzip

import numpy as np
import pytest

from xlite import datasets


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, dtype, compress):
    rng = np.random.default_rng(0)
    array = (rng.random((5, 3, 4)) * 100).astype(dtype)
    path = tmp_path / "a.idx"
    datasets.write_idx(str(path), array, compress=compress)
    back = datasets.read_idx(str(path))
    assert back.dtype == np.dtype(dtype) and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_idx_mnist_header_bytes(tmp_path):
    path = tmp_path / "labels.idx1-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    np.testing.assert_array_equal(datasets.read_idx(str(path)), [7, 2, 1])


def test_idx_truncated_and_bad_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(ValueError, match="expected 5 bytes"):
        datasets.read_idx(str(path))
    path.write_bytes(b"PK\x03\x04junk")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(str(path))


def test_next_batch_covers_an_epoch_then_reshuffles():
    x = np.arange(10).reshape(10, 1)
    ds = datasets.Dataset(x, x[:, 0], seed=1)
    seen = np.concatenate([ds.next_batch(5)[1] for _ in range(2)])
    assert sorted(seen) == list(range(10)) and ds.epochs_completed == 0
    ds.next_batch(5)
    assert ds.epochs_completed == 1


@pytest.mark.slow
def test_load_digits_and_iris():
    pytest.importorskip("sklearn")
    (xtr, ytr), (xte, yte) = datasets.load_digits()
    assert xtr.shape[1] == 64 and xtr.dtype == np.float32 and 0 <= xtr.min() and xtr.max() <= 1
    assert len(xtr) + len(xte) == 1797 and set(ytr) == set(range(10))
    (xtr, ytr), (xte, yte) = datasets.load_iris()
    assert xtr.shape[1] == 4 and len(xtr) + len(xte) == 150
    np.testing.assert_array_equal(datasets.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
