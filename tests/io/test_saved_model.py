"""tf.saved_model: SavedModelBuilder / simple_save write TF's directory layout, loader.load reads it back
(ours, and one TF 1's builder wrote: tests/io/fixtures/tf_saved_model), with TF's errors."""
import os

import numpy as np
import pytest

import xlite as tf
from xlite.io.saved_model import proto

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sm = tf.saved_model


def _model():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2) / 4, name="w")
    b = tf.Variable([0.5, -1.0], name="b")
    y = tf.nn.sigmoid(tf.matmul(x, w) + b, name="y")
    return x, w, y


def test_simple_save_then_load_gives_the_trained_values(tmp_path):
    export = str(tmp_path / "export")
    xv = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        x, w, y = _model()
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(w, w * -3.0))      # not what the initializer gives: the load must restore it
        want = sess.run(y, {x: xv})
        sm.simple_save(sess, export, inputs={"x": x}, outputs={"y": y})
    assert sorted(os.listdir(export)) == ["saved_model.pb", "variables"]
    assert sorted(os.listdir(os.path.join(export, "variables"))) == ["variables.data-00000-of-00001",
                                                                     "variables.index"]
    saved = proto.parse_saved_model(export)
    assert saved.saved_model_schema_version == 1 and list(saved.meta_graphs[0].meta_info_def.tags) == ["serve"]
    assert tf.saved_model.contains_saved_model(export) and not sm.loader.maybe_saved_model_directory(str(tmp_path))
    with tf.Graph().as_default() as g, tf.Session(graph=g) as sess:
        meta = sm.loader.load(sess, [sm.tag_constants.SERVING], export)
        sig = meta.signature_def[sm.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY]
        assert sig.method_name == "tensorflow/serving/predict"
        assert sig.inputs["x"].dtype == 1 and [d.size for d in sig.inputs["x"].tensor_shape.dim] == [-1, 3]
        out = sm.utils.get_tensor_from_tensor_info(sig.outputs["y"], g)
        np.testing.assert_array_equal(sess.run(out, {sig.inputs["x"].name: xv}), want)


def test_builder_two_meta_graphs_text_format_and_main_op(tmp_path):
    export = str(tmp_path / "m")
    with tf.Graph().as_default(), tf.Session() as sess:
        x, w, y = _model()
        counter = tf.Variable(0, name="counter", trainable=False, collections=[tf.GraphKeys.LOCAL_VARIABLES])
        main = tf.group(tf.local_variables_initializer(), tf.assign(counter, 7), name="main")
        sess.run(tf.global_variables_initializer())
        builder = sm.builder.SavedModelBuilder(export)
        with pytest.raises(AssertionError, match="has not been saved yet"):
            builder.add_meta_graph(["x"])
        builder.add_meta_graph_and_variables(sess, [sm.tag_constants.SERVING, sm.tag_constants.GPU], main_op=main,
                                             signature_def_map={"pred": sm.predict_signature_def({"x": x}, {"y": y})})
        with pytest.raises(AssertionError, match="already been saved"):
            builder.add_meta_graph_and_variables(sess, ["again"])
        with pytest.raises(KeyError, match="reserved for initialization"):
            builder.add_meta_graph(["t"], signature_def_map={"__saved_model_init_op": sm.build_signature_def()})
        builder.add_meta_graph([sm.tag_constants.TRAINING])
        path = builder.save(as_text=True)
    assert path == os.path.join(export, "saved_model.pbtxt").encode()
    with tf.Session(graph=tf.Graph()) as sess:      # tags match as a set, in any order
        meta = sm.loader.load(sess, ["gpu", "serve"], export)
        assert sess.run("counter:0") == 7 and list(meta.signature_def) == ["pred"]
    with tf.Session(graph=tf.Graph()) as sess:
        sm.loader.load(sess, ["train"], export, import_scope="imported")
        np.testing.assert_allclose(sess.run("imported/w:0"), np.arange(6).reshape(3, 2) / 4)
    with tf.Session(graph=tf.Graph()) as sess, pytest.raises(RuntimeError, match="could not be found in SavedModel"):
        sm.loader.load(sess, ["serve"], export)
    with pytest.raises(AssertionError, match="already exists, and isn't empty"):
        sm.builder.SavedModelBuilder(export)


def test_asset_paths_come_from_the_meta_graph(tmp_path):
    """xlite has no string tensors, so it writes no assets; a TF SavedModel's AssetFileDefs still resolve to
    files under assets/ (the paths TF feeds its init op), and a non-string asset tensor is refused as in TF."""
    from xlite.io import protos
    meta = protos.pb().meta_graph_pb2.MetaGraphDef()
    asset = meta.asset_file_def.add()
    asset.filename, asset.tensor_info.name = "vocab.txt", "vocab_path:0"
    assert sm.loader.get_asset_tensors(str(tmp_path), meta, "scope") == {
        "scope/vocab_path:0": os.path.join(str(tmp_path), "assets", "vocab.txt")}
    with tf.Graph().as_default(), tf.Session() as sess:
        x, _, _ = _model()
        sess.run(tf.global_variables_initializer())
        builder = sm.builder.SavedModelBuilder(str(tmp_path / "a"))
        with pytest.raises(TypeError, match="must be of type constant"):
            builder.add_meta_graph_and_variables(sess, ["serve"], assets_collection=[x])


def test_tensorflow_written_saved_model_loads():
    want = np.load(os.path.join(FIXTURES, "tf_saved_model.npz"))
    export = os.path.join(FIXTURES, "tf_saved_model")
    with tf.Session(graph=tf.Graph()) as sess:
        meta = sm.loader.load(sess, [sm.tag_constants.SERVING], export)
        sig = meta.signature_def["serving_default"]
        prob = sess.run(sig.outputs["prob"].name, {sig.inputs["features"].name: want["x"]})
        np.testing.assert_allclose(prob, want["prob"], rtol=1e-5, atol=1e-6)
        assert sess.run("calls:0") == 5      # TF's main op ran after the restore
    with tf.Session(graph=tf.Graph()) as sess:   # the second MetaGraphDef carries a second Saver (save_1)
        meta = sm.loader.load(sess, ["train"], export)
        sig = meta.signature_def["logits"]
        logits = sess.run(sig.outputs["logits"].name, {sig.inputs["features"].name: want["x"]})
        np.testing.assert_allclose(logits, want["logits"], rtol=1e-5, atol=1e-5)


def test_a_graph_without_variables(tmp_path):
    export = str(tmp_path / "no_variables")
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, [2], name="x")
        sm.simple_save(sess, export, {"x": x}, {"y": tf.square(x, name="y")})
    assert os.listdir(os.path.join(export, "variables")) == []
    with tf.Session(graph=tf.Graph()) as sess:
        meta = sm.load(sess, ["serve"], export)
        assert not meta.HasField("saver_def")
        np.testing.assert_array_equal(sess.run("y:0", {"x:0": [3.0, -2.0]}), [9.0, 4.0])


def test_loader_and_signature_errors(tmp_path):
    with tf.Session(graph=tf.Graph()) as sess, pytest.raises(tf.errors.NotFoundError, match="SavedModel file does not exist at"):
        sm.loader.load(sess, ["serve"], str(tmp_path))
    (tmp_path / "saved_model.pb").write_bytes(b"\xff\xff\xff")
    with tf.Session(graph=tf.Graph()) as sess, pytest.raises(tf.errors.DataLossError, match="Cannot parse file"):
        sm.loader.load(sess, ["serve"], str(tmp_path))
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        with pytest.raises(ValueError, match="Prediction `inputs` cannot be None or empty."):
            sm.predict_signature_def({}, {"x": x})
        with pytest.raises(ValueError, match="Regression input tensors must be of type string"):
            sm.regression_signature_def(x, x)
        with pytest.raises(ValueError, match="cannot both be None"):
            sm.classification_signature_def(x, None, None)
        string_info, float_info = sm.build_tensor_info(x), sm.build_tensor_info(x)
        string_info.dtype = 7     # DT_STRING: xlite has no string tensors, TF Serving's examples are strings
        assert sm.is_valid_signature(sm.build_signature_def({"inputs": string_info}, {"outputs": float_info},
                                                            sm.REGRESS_METHOD_NAME))
        assert sm.is_valid_signature(sm.build_signature_def({"inputs": string_info}, {"scores": float_info},
                                                            sm.CLASSIFY_METHOD_NAME))
        assert not sm.is_valid_signature(sm.build_signature_def({"inputs": string_info}, {"x": float_info},
                                                                sm.CLASSIFY_METHOD_NAME))
        assert not sm.is_valid_signature(sm.build_signature_def({"x": float_info}, {}, sm.PREDICT_METHOD_NAME))


def test_simple_save_then_load_a_dynamic_rnn_with_a_check(tmp_path):
    """A recurrent model (a while loop reading Variables) with a tf.Assert on its input, saved and loaded."""
    export = str(tmp_path / "rnn")
    xv = np.random.default_rng(1).standard_normal((2, 3, 2)).astype(np.float32)
    with tf.Graph().as_default(), tf.Session(target="interpreter") as sess:
        x = tf.placeholder(tf.float32, [2, 3, 2], name="x")
        with tf.control_dependencies([tf.Assert(tf.reduce_all(tf.is_finite(x)), ["x not finite"])]):
            out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(3), tf.identity(x), dtype=tf.float32)
        sess.run(tf.global_variables_initializer())
        want = sess.run(out, {x: xv})
        sm.simple_save(sess, export, {"x": x}, {"out": out})
    with tf.Graph().as_default(), tf.Session(target="interpreter") as sess:
        meta = sm.loader.load(sess, [sm.tag_constants.SERVING], export)
        signature = meta.signature_def["serving_default"]
        feed, fetch = signature.inputs["x"].name, signature.outputs["out"].name
        np.testing.assert_allclose(sess.run(fetch, {feed: xv}), want, rtol=1e-6)
        with pytest.raises(tf.errors.InvalidArgumentError, match="x not finite"):
            sess.run(fetch, {feed: np.full_like(xv, np.inf)})
