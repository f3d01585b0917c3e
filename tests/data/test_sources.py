"""Dataset sources against TF's values and specs (checked with TF 2.21 on the same calls)."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.context import eager_mode
from xlite.data import TensorSpec

D = tf.data.Dataset


def values(ds):
    with eager_mode():      # Python iteration, as in TF, executes eagerly
        return list(ds.as_numpy_iterator())


def cardinality(ds) -> int:
    with eager_mode():
        return int(ds.cardinality())


def test_from_tensor_slices_of_a_tuple_keeps_numpy_dtypes_and_views():
    x = np.random.default_rng(0).random((5, 3, 2)).astype(np.float32)
    y = np.arange(5)
    ds = D.from_tensor_slices((x, y))
    assert ds.element_spec == (TensorSpec([3, 2], tf.float32), TensorSpec([], tf.int64))
    assert ds.output_types == (tf.float32, tf.int64)
    assert [s.as_list() for s in ds.output_shapes] == [[3, 2], []]
    assert cardinality(ds) == 5
    with eager_mode():
        assert len(ds) == 5
    got = values(ds)
    assert len(got) == 5
    for i, (a, b) in enumerate(got):
        np.testing.assert_array_equal(a, x[i])
        assert b == i and isinstance(b, np.int64)


def test_from_tensor_slices_of_a_nested_dict_and_python_lists():
    ds = D.from_tensor_slices({"a": [[1.0, 2.0], [3.0, 4.0]], "b": ({"c": [1, 2]}, [True, False])})
    spec = ds.element_spec
    assert spec["a"] == TensorSpec([2], tf.float32)     # a Python list is one tensor; floats are float32
    assert spec["b"][0]["c"] == TensorSpec([], tf.int32)
    assert spec["b"][1] == TensorSpec([], tf.bool)
    first = values(ds)[0]
    np.testing.assert_array_equal(first["a"], [1.0, 2.0])
    assert first["b"][0]["c"] == 1 and first["b"][1]


def test_from_tensor_slices_errors():
    with pytest.raises(ValueError):
        D.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError):
        D.from_tensor_slices(np.float32(1.0))


def test_from_tensor_slices_of_an_empty_array():
    ds = D.from_tensor_slices(np.zeros((0, 4), np.float32))
    assert cardinality(ds) == 0 and values(ds) == []
    assert ds.element_spec == TensorSpec([4], tf.float32)


def test_from_tensors_is_one_element():
    x = np.arange(6).reshape(2, 3)
    ds = D.from_tensors((x, 1.5))
    assert ds.element_spec == (TensorSpec([2, 3], tf.int64), TensorSpec([], tf.float32))
    (a, b), = values(ds)
    np.testing.assert_array_equal(a, x)
    assert b == np.float32(1.5)


def test_range_forms_and_output_type():
    assert values(D.range(4)) == [0, 1, 2, 3]
    assert values(D.range(10, 2, -3)) == [10, 7, 4]
    assert values(D.range(2, 2)) == []
    assert cardinality(D.range(10, 2, -3)) == 3
    ds = D.range(1, 4, output_type=tf.int32)
    assert ds.element_spec == TensorSpec([], tf.int32)
    assert values(ds)[0].dtype == np.int32


def test_from_generator_with_types_and_shapes():
    ds = D.from_generator(lambda: iter([[1, 2], [3]]), output_types=tf.int32, output_shapes=[None])
    assert ds.element_spec == TensorSpec([None], tf.int32)
    got = values(ds)
    assert [g.tolist() for g in got] == [[1, 2], [3]] and got[0].dtype == np.int32
    assert cardinality(ds) == tf.data.UNKNOWN_CARDINALITY


def test_from_generator_with_output_signature_and_args_restarts_each_pass():
    calls = []

    def gen(n):
        calls.append(n)
        for i in range(n):
            yield {"x": np.full([2], i, np.float32), "y": i}
    ds = D.from_generator(gen, args=(3,), output_signature={"x": TensorSpec([2], tf.float32),
                                                           "y": TensorSpec([], tf.int64)})
    first, second = values(ds), values(ds)
    assert calls == [3, 3]
    assert [e["y"] for e in first] == [0, 1, 2] == [e["y"] for e in second]
    assert first[2]["x"].tolist() == [2.0, 2.0]


def test_from_generator_errors_surface_while_iterating():
    def bad():
        yield [1.0]
        raise KeyError("boom")
    ds = D.from_generator(bad, output_types=tf.float32, output_shapes=[1])
    with eager_mode():
        it = iter(ds)
        next(it)
        with pytest.raises(tf.errors.InvalidArgumentError, match="KeyError"):
            next(it)
    wrong_shape = D.from_generator(lambda: iter([[1.0, 2.0]]), output_types=tf.float32, output_shapes=[3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="shape"):
        values(wrong_shape)
    with pytest.raises(TypeError):
        D.from_generator(lambda: iter([]))


def test_zip_of_nested_datasets():
    ds = D.zip((D.range(3), {"a": D.range(10, 20)}))
    assert cardinality(ds) == 3
    got = values(ds)
    assert [(a, b["a"]) for a, b in got] == [(0, 10), (1, 11), (2, 12)]
    assert cardinality(D.zip((D.range(3), D.range(5).repeat()))) == 3


def test_list_files_and_text_lines(tmp_path):
    for name, text in [("b.csv", "3,4\n5,6\n"), ("a.csv", "1,2\r\n"), ("c.txt", "x\n")]:
        (tmp_path / name).write_text(text)
    files = D.list_files(str(tmp_path / "*.csv"), shuffle=False)
    assert [f.decode() for f in values(files)] == [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    shuffled = values(D.list_files(str(tmp_path / "*.csv"), seed=3))
    assert sorted(shuffled) == sorted(values(files))
    lines = tf.data.TextLineDataset(files)
    assert values(lines) == [b"1,2", b"3,4", b"5,6"]
    assert values(tf.data.TextLineDataset([str(tmp_path / "c.txt")])) == [b"x"]
    with pytest.raises(tf.errors.InvalidArgumentError):
        D.list_files(str(tmp_path / "*.none"))
    with pytest.raises(tf.errors.NotFoundError):
        values(tf.data.TextLineDataset(str(tmp_path / "missing.txt")))
