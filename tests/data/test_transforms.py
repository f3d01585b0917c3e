"""Per-element transformations against TF's values, specs and cardinalities (checked with TF 2.21)."""
import os

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


def test_map_computes_through_a_traced_compiled_function():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 3)).astype(np.float32)
    y = rng.integers(0, 5, 7)
    ds = D.from_tensor_slices((x, y)).map(lambda a, b: {"s": tf.reduce_sum(a * a), "b": b + 1})
    assert ds.element_spec == {"s": TensorSpec([], tf.float32), "b": TensorSpec([], tf.int64)}
    assert cardinality(ds) == 7
    got = values(ds)
    np.testing.assert_allclose([g["s"] for g in got], (x * x).sum(1), rtol=1e-6)
    np.testing.assert_array_equal([g["b"] for g in got], y + 1)
    assert ds._fn.graph is not tf.get_default_graph()        # traced into its own graph, once
    assert any(op.type == "Mul" for op in ds._fn.graph.get_operations())


def test_map_of_a_single_component_and_a_list_result_is_a_tuple():
    ds = D.range(3).map(lambda v: [v, tf.cast(v, tf.float32) * 0.5])
    assert ds.element_spec == (TensorSpec([], tf.int64), TensorSpec([], tf.float32))
    assert values(ds) == [(0, 0.0), (1, 0.5), (2, 1.0)]


@pytest.mark.parametrize("threads", [2, tf.data.AUTOTUNE])
def test_parallel_map_keeps_input_order(threads):
    x = np.arange(40, dtype=np.float32)
    ds = D.from_tensor_slices(x).map(lambda v: v * 3.0 + 1.0, num_parallel_calls=threads, deterministic=True)
    np.testing.assert_allclose(values(ds), x * 3.0 + 1.0)


def test_a_map_that_raises_at_run_time_names_the_users_line():
    ds = D.from_generator(lambda: iter([[1.0] * 4, [1.0] * 6]), output_types=tf.float32, output_shapes=[None])
    ds = ds.map(lambda v: tf.reshape(v, [2, 2]))                          # the second has 6 values
    with eager_mode():
        it = iter(ds)
        assert next(it).shape == (2, 2)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"test_transforms.py:\d+"):
            next(it)


def test_a_map_that_raises_while_tracing_raises_at_map():
    def bad(v):
        raise RuntimeError("in the user's function")
    with pytest.raises(RuntimeError, match="user's function"):
        D.range(3).map(bad)


def test_filter():
    ds = D.range(10).filter(lambda v: tf.equal(v % 3, 0))
    assert values(ds) == [0, 3, 6, 9]
    assert cardinality(ds) == tf.data.UNKNOWN_CARDINALITY
    with pytest.raises(ValueError, match="predicate"):
        D.range(3).filter(lambda v: v * 2)


def test_flat_map_and_interleave_orders():
    assert values(D.range(1, 4).flat_map(lambda v: D.range(v))) == [0, 0, 1, 0, 1, 2]
    ds = D.range(1, 6).interleave(lambda v: D.from_tensors(v).repeat(v), cycle_length=2, block_length=1)
    assert values(ds) == [1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 4, 5, 5, 5, 5]       # TF's order
    ds = D.range(1, 4).interleave(lambda v: D.from_tensors(v).repeat(3), cycle_length=2, block_length=2)
    assert values(ds) == [1, 1, 2, 2, 1, 2, 3, 3, 3]
    rows = np.arange(6).reshape(3, 2)
    assert values(D.from_tensor_slices(rows).flat_map(D.from_tensor_slices)) == list(range(6))


def test_take_skip_repeat_and_their_cardinalities():
    assert values(D.range(3).repeat().take(7)) == [0, 1, 2, 0, 1, 2, 0]
    assert cardinality(D.range(3).repeat().take(7)) == 7
    assert cardinality(D.range(5).repeat()) == tf.data.INFINITE_CARDINALITY
    assert values(D.range(5).skip(2)) == [2, 3, 4] and cardinality(D.range(5).skip(2)) == 3
    assert values(D.range(5).skip(-1)) == [] and values(D.range(5).take(-1)) == [0, 1, 2, 3, 4]
    assert values(D.range(2).repeat(2)) == [0, 1, 0, 1] and cardinality(D.range(2).repeat(2)) == 4
    assert values(D.range(0).repeat()) == []               # repeating nothing ends
    assert values(D.range(4).take(0)) == []


def test_enumerate_and_concatenate():
    assert values(D.range(3).enumerate(5)) == [(5, 0), (6, 1), (7, 2)]
    ds = D.range(3).concatenate(D.range(10, 12))
    assert values(ds) == [0, 1, 2, 10, 11] and cardinality(ds) == 5
    a = D.from_tensor_slices(np.zeros((2, 3), np.float32))
    b = D.from_tensor_slices(np.zeros((2, 4), np.float32))
    assert a.concatenate(b).element_spec == TensorSpec([None], tf.float32)
    with pytest.raises(TypeError):
        D.range(3).concatenate(a)


def test_memory_cache_keeps_the_first_complete_pass():
    calls = []

    def gen():
        calls.append(1)
        yield from range(3)
    ds = D.from_generator(gen, output_types=tf.int64, output_shapes=[]).cache()
    assert values(ds) == [0, 1, 2] and values(ds) == [0, 1, 2]
    assert len(calls) == 1
    partial = D.from_generator(gen, output_types=tf.int64, output_shapes=[]).cache()
    with eager_mode():
        next(iter(partial))                # a pass cut short keeps nothing
    assert values(partial) == [0, 1, 2] and len(calls) == 3


def test_file_cache_is_read_back_by_another_dataset(tmp_path):
    name = str(tmp_path / "cache")
    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    assert len(values(D.from_tensor_slices(x).map(lambda v: v + 1.0).cache(name))) == 4
    assert os.path.exists(name + ".index")
    again = D.from_tensor_slices(np.zeros((4, 2), np.float32)).map(lambda v: v + 1.0).cache(name)
    np.testing.assert_array_equal(np.stack(values(again)), x + 1.0)
