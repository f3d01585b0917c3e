"""TensorFlow names xlite lacks raise UnimplementedError naming them (and stay AttributeErrors for hasattr);
the small nn/math composites that filled some of them."""
import numpy as np
import pytest

import xlite as tf
from xlite.frontend.missing_api import MissingAPIError
from xlite.frontend.tf_api_missing import MISSING


@pytest.mark.parametrize("namespace, name", [("", "acos"), ("nn", "ctc_loss"), ("linalg", "inv"), ("math", "erf"),
                                             ("random", "gamma"), ("train", "Supervisor"), ("image", "crop_and_resize"),
                                             ("sparse", "to_indicator"),
                                             ("strings", "unicode_decode")])
def test_a_tf_name_xlite_lacks_is_unimplemented_naming_it(namespace, name):
    if name not in MISSING[namespace]:
        pytest.skip(f"tf.{namespace}.{name} exists now")
    module = getattr(tf, namespace) if namespace else tf
    where = f"tf.{namespace}.{name}" if namespace else f"tf.{name}"
    with pytest.raises(tf.errors.UnimplementedError, match=rf"{where} is not implemented in xlite yet"):
        getattr(module, name)
    assert not hasattr(module, name) and getattr(module, name, "absent") == "absent"
    assert issubclass(MissingAPIError, AttributeError)


def test_a_name_tf_lacks_too_is_a_plain_attribute_error():
    for module in (tf, tf.nn, tf.math, tf.linalg):
        with pytest.raises(AttributeError) as info:
            getattr(module, "no_such_name_anywhere")
        assert not isinstance(info.value, tf.errors.OpError)


def test_the_list_names_no_attribute_xlite_has():
    for namespace, names in MISSING.items():
        module = getattr(tf, namespace) if namespace else tf
        present = [n for n in names if n in dir(module) or n in vars(module)]
        assert not present, (namespace, present)


def test_zero_fraction_crelu_relu_layer_and_math_aliases():
    x = np.array([[1.0, -2.0, 0.0, 0.0]], np.float32)
    w, b = np.eye(4, dtype=np.float32)[:, :3], np.ones(3, np.float32)
    with tf.Session() as sess:
        frac, crelu, layer, soft = sess.run([tf.math.zero_fraction(x), tf.nn.crelu(x), tf.nn.relu_layer(x, w, b),
                                             tf.math.softmax(x)])
    assert frac == 0.5
    np.testing.assert_array_equal(crelu, [[1, 0, 0, 0, 0, 2, 0, 0]])
    np.testing.assert_array_equal(layer, np.maximum(x @ w + b, 0))
    np.testing.assert_allclose(soft, np.exp(x) / np.exp(x).sum(), rtol=1e-6)
    assert tf.math.log_softmax is tf.nn.log_softmax and tf.math.invert_permutation is tf.invert_permutation
