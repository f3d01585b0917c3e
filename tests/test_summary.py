"""tf.summary: summary ops computed by the run and serialized to Summary protos, and FileWriter
event files read back with TensorBoard's own readers (skipped without the tensorboard package)."""
import bisect
import glob
import io
import os
import subprocess
import sys

import numpy as np
import pytest

import xlite as tf

try:
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto import event_pb2, summary_pb2
    HAVE_TB = True
except ImportError:
    HAVE_TB = False

needs_tb = pytest.mark.skipif(not HAVE_TB, reason="needs the tensorboard package (xlite[tensorboard])")
DBL_MAX = sys.float_info.max


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def parse(serialized) -> "summary_pb2.Summary":
    assert type(serialized) is bytes
    return summary_pb2.Summary.FromString(serialized)


def accumulator(logdir):
    acc = ea.EventAccumulator(logdir, size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.IMAGES: 0, ea.TENSORS: 0})
    acc.Reload()
    return acc


# graph-side behaviour -------------------------------------------------------------------------------
def test_summary_tensors_are_scalar_strings_named_like_tf():
    a = tf.summary.scalar("loss", tf.constant(1.0))
    b = tf.summary.scalar("loss", tf.constant(2.0))
    with tf.name_scope("train"):
        c = tf.summary.scalar("acc", tf.constant(0.5))
    d = tf.summary.scalar("x", 1.0, family="F")
    e = tf.summary.histogram("bad name!", tf.constant([1.0]))
    m = tf.summary.merge([a, b])
    assert [t.op.name for t in (a, b, c, d, e, m)] == ["loss", "loss_1", "train/acc", "F/x", "bad_name_",
                                                       "Merge/MergeSummary"]
    assert [t.op.type for t in (a, e, m)] == ["ScalarSummary", "HistogramSummary", "MergeSummary"]
    assert repr(a) == 'Tensor("loss:0", shape=(), dtype=string)'
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [a, b, c, d, e]
    assert tf.summary.merge([a], name="foo").op.name == "foo/foo"


def test_scalar_needs_a_scalar_of_real_numbers():
    with pytest.raises(ValueError, match="same shape"):
        tf.summary.scalar("v", tf.constant([1.0, 2.0]))
    with pytest.raises(TypeError):
        tf.summary.scalar("b", tf.constant(True))
    with pytest.raises(TypeError):
        tf.summary.merge([tf.constant(1.0)])


def test_merge_all_of_an_empty_collection_is_none():
    assert tf.summary.merge_all() is None
    tf.summary.scalar("s", tf.constant(1.0), collections=["mine"])
    assert tf.summary.merge_all() is None
    assert tf.summary.merge_all(key="mine") is not None


def test_text_rejects_tensors():
    with pytest.raises(ValueError, match="dtype string"):
        tf.summary.text("t", tf.constant(1.0))


def test_summary_ops_build_without_tensorboard(tmp_path):
    code = ("import sys; sys.modules['tensorboard'] = None\n"
            "import xlite as tf\n"
            "s = tf.summary.merge_all() or tf.summary.merge([tf.summary.scalar('a', tf.constant(1.0))])\n"
            "try:\n"
            f"    tf.summary.FileWriter({str(tmp_path)!r})\n"
            "except ImportError as e:\n"
            "    print('ImportError:', e)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ImportError:" in proc.stdout and "xlite[tensorboard]" in proc.stdout


# values ----------------------------------------------------------------------------------------------
@needs_tb
def test_scalar_values_come_from_the_run():
    x = tf.placeholder(tf.float32, [])
    n = tf.placeholder(tf.int64, [])
    s = tf.summary.scalar("x2", x * 2.0)
    t = tf.summary.scalar("n", n)
    with tf.Session() as sess:
        out = sess.run({"s": s, "pair": [t, s]}, feed_dict={x: 1.25, n: 7})
    assert parse(out["s"]) == summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="x2", simple_value=2.5)])
    assert parse(out["pair"][0]).value[0].simple_value == 7.0
    assert out["pair"][1] == out["s"]
    assert s.eval(feed_dict={x: 3.0}, session=tf.Session()) == \
        summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="x2", simple_value=6.0)]).SerializeToString()


@needs_tb
def test_scalar_of_a_non_scalar_fed_value_fails_at_run():
    x = tf.placeholder(tf.float32)
    s = tf.summary.scalar("x", x)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="same shape"):
            sess.run(s, feed_dict={x: [1.0, 2.0]})


def _reference_histogram(values):
    """TF's Histogram::Add and EncodeToProto, written out with bisect."""
    limits, v = [], 1e-12
    while v < 1e20:
        limits.append(v)
        v *= 1.1
    limits = [-x for x in reversed(limits + [DBL_MAX])] + [0.0] + limits + [DBL_MAX]
    counts = [0.0] * len(limits)
    for x in map(float, values):
        counts[min(bisect.bisect_right(limits, x), len(limits) - 1)] += 1
    out_limits, out_counts, i = [], [], 0
    while i < len(counts):
        end, count = limits[i], counts[i]
        i += 1
        if count <= 0:
            while i < len(counts) and counts[i] <= 0:
                end, count = limits[i], counts[i]
                i += 1
        out_limits.append(end)
        out_counts.append(count)
    return out_limits, out_counts


@needs_tb
@pytest.mark.parametrize("values", [
    np.random.RandomState(0).randn(3, 17).astype(np.float32) * 50,
    np.array([], np.float32),
    np.array([0.0, 1e-13, -1e-13, 1e30, -7.5], np.float64),
    np.random.RandomState(1).randint(-20, 20, size=(33,)).astype(np.int32),
])
def test_histogram_matches_tfs_buckets(values):
    h = tf.summary.histogram("h", tf.constant(values))
    histo = parse(tf.Session().run(h)).value[0].histo
    limits, counts = _reference_histogram(values.ravel())
    assert list(histo.bucket_limit) == limits and list(histo.bucket) == counts
    v = values.astype(np.float64).ravel()
    assert histo.num == v.size
    assert histo.min == (v.min() if v.size else DBL_MAX) and histo.max == (v.max() if v.size else -DBL_MAX)
    assert histo.sum == pytest.approx(v.sum(), rel=1e-12, abs=1e-12)
    assert histo.sum_squares == pytest.approx((v * v).sum(), rel=1e-12)


@needs_tb
def test_histogram_as_tensorflow_writes_it():
    """The proto TensorFlow 2.21's tf.compat.v1.summary.histogram gives for these values."""
    h = tf.summary.histogram("h", tf.constant([1.0, -2.5, 0.0, 3e-13, 7.0]))
    histo = parse(tf.Session().run(h)).value[0].histo
    assert (histo.min, histo.max, histo.num, histo.sum_squares) == (-2.5, 7.0, 5.0, 56.25)
    assert list(histo.bucket_limit) == [-2.6170109961884593, -2.3791009056258718, 0.0, 1e-12, 0.917246389039776,
                                        1.0089710279437536, 6.7878525393626115, 7.4666377932988732, DBL_MAX]
    assert list(histo.bucket) == [0, 1, 0, 2, 0, 1, 0, 1, 0]


@needs_tb
def test_histogram_of_nan_fails_like_tf():
    x = tf.placeholder(tf.float32, [None])
    h = tf.summary.histogram("weights", x)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Nan in summary histogram for: weights"):
        tf.Session().run(h, feed_dict={x: [1.0, np.nan]})


def _reference_uint8(img):
    """TF's ImageSummary scaling of one float image, pixel by pixel."""
    img = img.astype(np.float32)
    h, w, c = img.shape
    pixels = img.reshape(-1, c)
    finite_rows = [p for p in pixels if np.all(np.isfinite(p))]
    lo = min((float(v) for p in finite_rows for v in p), default=np.inf)
    hi = max((float(v) for p in finite_rows for v in p), default=-np.inf)
    if lo < 0:
        top = np.float32(max(abs(lo), abs(hi)))
        scale, offset = (np.float32(0) if top < 1e-6 else np.float32(127) / top), np.float32(128)
    else:
        scale, offset = (np.float32(0) if hi < 1e-6 else np.float32(255) / np.float32(hi)), np.float32(0)
    out = np.zeros((h * w, c), np.uint8)
    for i, p in enumerate(pixels):
        out[i] = (p * scale + offset).astype(np.uint8) if np.all(np.isfinite(p)) else [255, 0, 0, 255][:c]
    return out.reshape(h, w, c)


def _decode_png(data: bytes) -> np.ndarray:
    image_module = pytest.importorskip("PIL.Image")
    pixels = np.asarray(image_module.open(io.BytesIO(data)))
    return pixels if pixels.ndim == 3 else pixels[..., None]


@needs_tb
@pytest.mark.parametrize("images", [
    np.random.RandomState(2).rand(4, 5, 3, 3).astype(np.float32) * 7,           # non-negative: 255 / max
    np.random.RandomState(3).randn(2, 3, 4, 1).astype(np.float32),              # signed: 127 / max|x| + 128
    np.where(np.random.RandomState(4).rand(1, 4, 4, 4) > 0.7, np.nan,
             np.random.RandomState(5).randn(1, 4, 4, 4)).astype(np.float32),    # NaN pixels are red
    np.zeros((1, 2, 2, 3), np.float32),
    np.random.RandomState(6).randint(0, 256, (2, 3, 2, 3)).astype(np.uint8),
])
def test_image_pixels_and_tags(images):
    x = tf.placeholder(tf.as_dtype(images.dtype), [None] + list(images.shape[1:]))
    s = tf.summary.image("img", x, max_outputs=3)
    one = tf.summary.image("single", x, max_outputs=1)
    with tf.Session() as sess:
        summary, single = (parse(v) for v in sess.run([s, one], feed_dict={x: images}))
    n = min(3, len(images))
    assert [v.tag for v in summary.value] == [f"img/image/{i}" for i in range(n)]
    assert [v.tag for v in single.value] == ["single/image"]
    for value, img in zip(summary.value, images):
        assert (value.image.height, value.image.width, value.image.colorspace) == img.shape
        expected = img if img.dtype == np.uint8 else _reference_uint8(img)
        np.testing.assert_array_equal(_decode_png(value.image.encoded_image_string), expected)


def test_image_needs_4d_with_1_3_or_4_channels():
    with pytest.raises(ValueError, match="4-D"):
        tf.summary.image("i", tf.zeros([2, 3, 3, 2]))
    with pytest.raises(ValueError, match="4-D"):
        tf.summary.image("i", tf.zeros([3, 3, 3]))
    with pytest.raises(TypeError):
        tf.summary.image("i", tf.zeros([1, 3, 3, 3], tf.int32))


@needs_tb
def test_text_summary_is_a_string_tensor_for_the_text_plugin():
    s = tf.summary.text("notes", [["a", "bc"], ["d", "é"]])
    value = parse(tf.Session().run(s)).value[0]
    assert value.tag == "notes" and value.metadata.plugin_data.plugin_name == "text"
    assert [d.size for d in value.tensor.tensor_shape.dim] == [2, 2]
    assert list(value.tensor.string_val) == [b"a", b"bc", b"d", "é".encode()]


@needs_tb
def test_merge_joins_values_and_runs_with_training_once():
    v = tf.Variable(0.0)
    step = tf.assign_add(v, 1.0)
    with tf.control_dependencies([step]):
        after = tf.identity(v)
    tf.summary.scalar("after", after)
    tf.summary.histogram("v", v)
    tf.summary.text("t", "hi")
    merged = tf.summary.merge_all()
    with tf.Session() as sess:
        sess.run(v.initializer)
        for i in range(1, 4):
            out, _ = sess.run([merged, step])
            summary = parse(out)
            assert [val.tag for val in summary.value] == ["after", "v", "t"]
            assert summary.value[0].simple_value == i
        assert sess.run(v) == 3.0
        assert sess.run(merged.op) is None and sess.run(v) == 4.0   # as a target it runs its inputs


@needs_tb
def test_merge_with_duplicate_tags_fails_at_run():
    a = tf.summary.scalar("a", tf.constant(1.0))
    b = tf.summary.scalar("a", tf.constant(2.0), family=None)
    duplicate = tf.summary.merge([a, a])
    ok = tf.summary.merge([a, b, tf.summary.merge([a])], name="nested")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Duplicate tag a"):
            sess.run(duplicate)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Duplicate tag a"):
            sess.run(ok)
        assert [v.tag for v in parse(sess.run(tf.summary.merge([a, b]))).value] == ["a", "a_1"]


# FileWriter and TensorBoard's readers ------------------------------------------------------------------
def _model():
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    with tf.name_scope("hidden"):
        w = tf.Variable(tf.ones([4, 3]), name="weights")
        h = tf.nn.relu(tf.matmul(x, w))
    with tf.name_scope("cost"):
        loss = tf.reduce_mean(h)
    tf.summary.scalar("loss", loss)
    tf.summary.histogram("weights", w)
    tf.summary.image("input", tf.reshape(x, [-1, 2, 2, 1]), max_outputs=2)
    tf.summary.text("note", "xlite")
    return x, w, loss, tf.summary.merge_all()


@needs_tb
@pytest.mark.slow
def test_file_writer_events_read_back_by_tensorboard(tmp_path):
    logdir = str(tmp_path / "logs")
    x, w, loss, merged = _model()
    batches = [np.full((3, 4), i, np.float32) for i in range(4)]
    with tf.Session() as sess:
        writer = tf.summary.FileWriter(logdir, sess.graph)
        sess.run(w.initializer)
        for step, batch in enumerate(batches):
            writer.add_summary(sess.run(merged, feed_dict={x: batch}), global_step=np.int64(step * 10))
        writer.add_summary(summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="manual", simple_value=1.5)]), 99)
        writer.flush()
        writer.close()
    assert len(glob.glob(os.path.join(logdir, "events.out.tfevents.*"))) == 1
    acc = accumulator(logdir)
    tags = acc.Tags()
    assert sorted(tags["scalars"]) == ["loss", "manual"]
    assert tags["histograms"] == ["weights"]
    assert sorted(tags["images"]) == ["input/image/0", "input/image/1"]
    assert tags["graph"] is True
    scalars = acc.Scalars("loss")
    assert [e.step for e in scalars] == [0, 10, 20, 30]
    np.testing.assert_allclose([e.value for e in scalars], [4.0 * i for i in range(4)])
    assert [(e.step, e.value) for e in acc.Scalars("manual")] == [(99, 1.5)]
    histos = acc.Histograms("weights")
    assert [e.step for e in histos] == [0, 10, 20, 30]
    assert histos[0].histogram_value.num == 12 and histos[0].histogram_value.sum == 12.0
    images = acc.Images("input/image/1")
    assert [(e.step, e.width, e.height) for e in images] == [(0, 2, 2), (10, 2, 2), (20, 2, 2), (30, 2, 2)]
    texts = pea.EventAccumulator(logdir)
    texts.Reload()
    assert "note" in texts.Tags()["tensors"]
    assert texts.Tensors("note")[0].tensor_proto.string_val == [b"xlite"]
    assert texts.SummaryMetadata("note").plugin_data.plugin_name == "text"


@needs_tb
def test_graph_def_has_ops_inputs_and_shapes(tmp_path):
    x, w, loss, merged = _model()
    with tf.summary.FileWriter(str(tmp_path)) as writer:
        writer.add_graph(tf.get_default_graph())
    graph = accumulator(str(tmp_path)).Graph()
    nodes = {n.name: n for n in graph.node}
    axes = [n.name for n in graph.node if n.name.endswith("/reduction_indices")]   # TF's Mean names its axes
    assert [op.name for op in tf.get_default_graph().get_operations()] == [n.name for n in graph.node
                                                                           if n.name not in axes]
    assert nodes["x"].op == "Placeholder"
    assert [d.size for d in nodes["x"].attr["shape"].shape.dim] == [-1, 4]
    assert nodes["x"].attr["dtype"].type == 1                            # DT_FLOAT
    matmul = nodes["hidden/MatMul"]
    assert matmul.op == "MatMul" and list(matmul.input) == ["x", "hidden/weights"]
    assert [d.size for d in matmul.attr["_output_shapes"].list.shape[0].dim] == [-1, 3]
    assert nodes["hidden/weights"].op == "VariableV2"
    assert nodes["cost/Mean"].op == "Mean"
    assert nodes["hidden/weights/Assign"].input == ["hidden/weights", "hidden/ones"]
    const = nodes["hidden/ones"].attr["value"].tensor
    assert np.frombuffer(const.tensor_content, np.float32).tolist() == [1.0] * 12
    assert nodes[merged.op.name].attr["_output_shapes"].list.shape[0].dim == []


@needs_tb
def test_graph_def_control_inputs(tmp_path):
    a = tf.constant(1.0, name="a")
    with tf.control_dependencies([a]):
        b = tf.constant(2.0, name="b")
    c = tf.add(a, b, name="c")
    from xlite.summary.graph_def import graph_def
    nodes = {n.name: n for n in graph_def(tf.get_default_graph()).node}
    assert list(nodes["b"].input) == ["^a"] and list(nodes["c"].input) == ["a", "b"]
    assert c.op.name == "c"


@needs_tb
def test_file_writer_lifecycle_and_run_metadata(tmp_path):
    writer = tf.summary.FileWriter(str(tmp_path), graph=None)
    assert writer.get_logdir() == str(tmp_path)
    run_metadata = tf.RunMetadata()
    x = tf.constant(1.0)
    tf.Session().run(x, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=run_metadata)
    writer.add_run_metadata(run_metadata, "step1", global_step=1)
    writer.close()
    writer.add_summary(summary_pb2.Summary(), 5)          # closed: a logged no-op, as in TF
    writer.reopen()
    writer.add_summary(summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="z", simple_value=0.0)]), 7)
    writer.close()
    files = sorted(glob.glob(os.path.join(str(tmp_path), "events.out.tfevents.*")))
    assert len(files) == 2
    events = [event_pb2.Event.FromString(record) for path in files for record in RawEventFileLoader(path).Load()]
    assert [e.tagged_run_metadata.tag for e in events if e.HasField("tagged_run_metadata")] == ["step1"]
    assert [(e.step, e.summary.value[0].tag) for e in events if e.HasField("summary")] == [(7, "z")]
    assert [e.file_version for e in events if e.file_version] == ["brain.Event:2"] * 2


@needs_tb
def test_only_the_first_value_of_a_tag_keeps_its_metadata(tmp_path):
    s = tf.summary.text("t", "x")
    with tf.Session() as sess, tf.summary.FileWriter(str(tmp_path)) as writer:
        for step in range(2):
            writer.add_summary(sess.run(s), step)
    (path,) = glob.glob(os.path.join(str(tmp_path), "events.*"))
    events = [event_pb2.Event.FromString(record) for record in RawEventFileLoader(path).Load()]
    values = [e.summary.value[0] for e in events if e.HasField("summary")]
    assert [v.HasField("metadata") for v in values] == [True, False]


@needs_tb
def test_proto_classes_are_exported():
    assert tf.Summary is summary_pb2.Summary and tf.summary.Summary is summary_pb2.Summary
    assert tf.summary.Event is event_pb2.Event
