"""A dataset's element_spec is tf.TensorSpec itself (one class with tf.function's), so it serves as an
input_signature; TensorSpec's common supertype is TF's (values printed by TF 2.21)."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.context import eager_mode

D = tf.data.Dataset
S = tf.TensorSpec


def _batches():
    return D.from_tensor_slices((np.arange(12, dtype=np.float32).reshape(4, 3), np.arange(4))).batch(3)


def test_element_spec_is_tf_tensorspec():
    spec = _batches().element_spec
    assert tf.data.TensorSpec is tf.TensorSpec and all(type(s) is tf.TensorSpec for s in spec)
    assert repr(spec) == ("(TensorSpec(shape=(None, 3), dtype=tf.float32, name=None), "
                          "TensorSpec(shape=(None,), dtype=tf.int64, name=None))")   # TF 2.21's
    assert spec == (S([None, 3], tf.float32), S([None], tf.int64))


def test_element_spec_is_a_tf_function_input_signature():
    ds = _batches()

    @tf.function(input_signature=[ds.element_spec])
    def total(e):
        return tf.reduce_sum(e[0]) + tf.cast(tf.reduce_sum(e[1]), tf.float32)
    with eager_mode():
        got = [float(total(e)) for e in ds]
    assert got == [39.0, 33.0]                          # TF 2.21


def test_most_specific_common_supertype_is_tfs():
    a = S([2, 3], tf.float32)
    assert a.most_specific_common_supertype([S([2, 4], tf.float32)]) == S([2, None], tf.float32)
    assert a.most_specific_common_supertype([S([2, 3, 1], tf.float32)]) == S(None, tf.float32)
    assert a.most_specific_common_supertype([S([2, 3], tf.int32)]) is None
    x = S([2, 3], tf.float32, name="x")
    assert x.most_specific_common_supertype([S([2, 3], tf.float32, name="x")]) == x
    assert x.most_specific_common_supertype([S([2, 3], tf.float32, name="y")]) is None
    assert a.most_specific_compatible_type(S([2, 4], tf.float32)) == S([2, None], tf.float32)
    with pytest.raises(ValueError) as info:
        a.most_specific_compatible_type(S([2], tf.int32))
    assert str(info.value) == ("No TypeSpec is compatible with both TensorSpec(shape=(2, 3), dtype=tf.float32, "
                               "name=None) and TensorSpec(shape=(2,), dtype=tf.int32, name=None)")


def test_concatenate_relaxes_shapes_and_refuses_other_dtypes():
    a = D.from_tensor_slices(np.zeros((2, 3), np.float32))
    b = D.from_tensor_slices(np.zeros((2, 4), np.float32))
    assert a.concatenate(b).element_spec == S([None], tf.float32)
    with pytest.raises(TypeError, match="Incompatible dataset elements"):
        D.range(2).concatenate(D.from_tensors(1.0))
