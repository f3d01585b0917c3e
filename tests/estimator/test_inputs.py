"""tf.estimator.inputs.numpy_input_fn (also under tf.compat.v1): batches across epoch boundaries as TF's
queues gave them, features as a dict or a tensor, TF's argument errors."""
import numpy as np
import pytest

import xlite as tf


def batches(input_fn):
    out = []
    with tf.Graph().as_default():
        tensors = input_fn()
        with tf.Session() as sess:
            try:
                while True:
                    out.append(sess.run(tensors))
            except tf.errors.OutOfRangeError:
                return out


def test_batches_run_across_epochs():
    x = np.arange(5, dtype=np.float32)
    fn = tf.compat.v1.estimator.inputs.numpy_input_fn({"a": x}, x * 10, batch_size=2, num_epochs=2, shuffle=False)
    got = batches(fn)
    assert [b[0]["a"].tolist() for b in got] == [[0, 1], [2, 3], [4, 0], [1, 2], [3, 4]]
    assert [b[1].tolist() for b in got][2] == [40, 0]


def test_array_features_and_shuffled_epochs():
    x = np.arange(6, dtype=np.int64)
    got = batches(tf.estimator.inputs.numpy_input_fn(x, batch_size=4, num_epochs=1, shuffle=True))
    assert [len(b) for b in got] == [4, 2] and sorted(np.concatenate(got).tolist()) == x.tolist()


def test_argument_errors():
    x = {"a": np.zeros(3)}
    with pytest.raises(ValueError, match="shuffle must be provided"):
        tf.estimator.inputs.numpy_input_fn(x)
    with pytest.raises(ValueError, match="mismatched"):
        tf.estimator.inputs.numpy_input_fn(x, np.zeros(4), shuffle=False)
    with pytest.raises(ValueError, match="duplicate keys"):
        tf.estimator.inputs.numpy_input_fn(x, {"a": np.zeros(3)}, shuffle=False)


def test_pandas_input_fn_reads_columns():
    try:
        import pandas as pd
    except ImportError:
        with pytest.raises(TypeError, match="without pandas"):
            tf.estimator.inputs.pandas_input_fn(None, shuffle=False)
        return
    frame = pd.DataFrame({"a": np.arange(3.0), "b": np.arange(3)})
    got = batches(tf.estimator.inputs.pandas_input_fn(frame, pd.Series(np.arange(3) * 2), batch_size=3,
                                                      shuffle=False))
    assert got[0][0]["b"].tolist() == [0, 1, 2] and got[0][1].tolist() == [0, 2, 4]
