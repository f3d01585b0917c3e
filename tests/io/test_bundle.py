"""TF's V2 tensor bundle: every dtype round trips bit-exactly; damage and truncation raise DataLossError."""
import os

import numpy as np
import pytest

import xlite as tf
from xlite.io.format import bundle, sstable
from xlite.io.format.protowire import BundleEntry, BundleHeader

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def _tensors():
    rng = np.random.default_rng(0)
    return {"f32": rng.standard_normal((3, 4)).astype(np.float32), "f64": np.float64(np.pi),
            "i32": np.array([-1, 2, 2**31 - 1], np.int32), "i64": np.array([[-(2**62)], [5]], np.int64),
            "bool": np.array([True, False, True]), "empty": np.zeros((0, 3), np.float32),
            "scope/scalar": np.int32(7), "u8": np.arange(5, dtype=np.uint8), "f16": np.array([1.5], np.float16),
            "str": np.array([b"ab", b"", "\u00e9".encode()], dtype=object)}


def test_round_trip_every_dtype(tmp_path):
    prefix = str(tmp_path / "ck")
    tensors = _tensors()
    bundle.write_bundle(prefix, tensors)
    assert sorted(os.listdir(tmp_path)) == ["ck.data-00000-of-00001", "ck.index"]
    reader = bundle.BundleReader(prefix)
    assert list(reader.entries) == sorted(tensors)
    for name, want in tensors.items():
        got = reader.get_tensor(name)
        assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype
        if got.dtype != object:
            assert got.tobytes() == np.asarray(want).tobytes()
        else:
            assert got.tolist() == want.tolist()


@pytest.mark.slow
def test_big_tensor_and_many_entries(tmp_path):
    big = np.random.default_rng(1).standard_normal((1 << 21,)).astype(np.float32)    # 8 MB
    tensors = {f"v{i:04d}": np.full((3,), i, np.int64) for i in range(3000)}     # index spans many blocks
    tensors["big"] = big
    bundle.write_bundle(str(tmp_path / "b"), tensors)
    reader = bundle.BundleReader(str(tmp_path / "b"))
    assert np.array_equal(reader.get_tensor("big"), big) and reader.get_tensor("v2999").tolist() == [2999] * 3


def test_index_is_byte_identical_to_tfs():
    """Rewriting TF's fixture checkpoint with its own values gives TF's exact bytes."""
    prefix = os.path.join(FIXTURES, "tf_model.ckpt")
    reader = bundle.BundleReader(prefix)
    values = {name: reader.get_tensor(name) for name in reader.entries}
    out = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"xlite-bundle-{os.getpid()}")
    try:
        bundle.write_bundle(out, values)
        for suffix in (".index", ".data-00000-of-00001"):
            assert open(out + suffix, "rb").read() == open(prefix + suffix, "rb").read()
    finally:
        for suffix in (".index", ".data-00000-of-00001"):
            if os.path.exists(out + suffix):
                os.unlink(out + suffix)


def test_header_and_entries_as_tf_writes_them(tmp_path):
    bundle.write_bundle(str(tmp_path / "c"), {"b": np.zeros(2, np.float32), "a": np.int64(3)})
    items = sstable.read_table(open(tmp_path / "c.index", "rb").read())
    assert [k for k, _ in items] == [b"", b"a", b"b"]
    assert BundleHeader.decode(items[0][1]) == BundleHeader(num_shards=1, producer=1)
    a, b = (BundleEntry.decode(v) for _, v in items[1:])
    assert (a.dtype, a.shape, a.offset, a.size) == (9, (), 0, 8)
    assert (b.dtype, b.shape, b.offset, b.size) == (1, (2,), 8, 8)


def test_corrupt_byte_in_data_or_index_and_truncation_are_data_loss(tmp_path):
    prefix = str(tmp_path / "d")
    bundle.write_bundle(prefix, _tensors())
    for path in (prefix + ".data-00000-of-00001", prefix + ".index"):
        original = open(path, "rb").read()
        for damaged in (original[:5] + bytes([original[5] ^ 0x40]) + original[6:], original[: len(original) - 3]):
            with open(path, "wb") as f:
                f.write(damaged)
            with pytest.raises(tf.errors.DataLossError):
                reader = bundle.BundleReader(prefix)
                for name in reader.entries:
                    reader.get_tensor(name)
        with open(path, "wb") as f:
            f.write(original)


def test_missing_checkpoint_is_not_found(tmp_path):
    with pytest.raises(tf.errors.NotFoundError, match="Failed to find any matching files"):
        bundle.BundleReader(str(tmp_path / "none"))
