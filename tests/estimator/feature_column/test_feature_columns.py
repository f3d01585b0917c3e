"""tf.feature_column: input_layer and linear_model outputs on fixed features against values worked out by
hand; string columns (vocabulary, hash bucket, cross) through a tf.data pipeline against TF's ids."""
import numpy as np
import pytest

import xlite as tf
from tests.io.tf_subprocess import LIVE_TF, run_tf

fc = tf.feature_column


@pytest.fixture
def graph():
    with tf.Graph().as_default() as g:
        yield g


def run(fetches):
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        return sess.run(fetches)


FEATURES = {"age": np.array([[1.0], [5.0], [9.0]], np.float32),
            "pos": np.array([[0.5, 1.0], [2.0, -1.0], [3.0, 0.0]], np.float32),
            "k": np.array([0, 2, 7], np.int64),
            "v": np.array([30, 10, 99], np.int64)}


def test_input_layer_concatenates_columns_by_name(graph):
    age = fc.numeric_column("age")
    columns = [fc.embedding_column(fc.categorical_column_with_vocabulary_list("v", [10, 20, 30]), 2,
                                   initializer=tf.constant_initializer([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])),
               fc.numeric_column("pos", shape=2, normalizer_fn=lambda t: t * 2),
               fc.bucketized_column(age, [2.0, 6.0]), age,
               fc.indicator_column(fc.categorical_column_with_identity("k", 4))]
    net = tf.compat.v1.feature_column.input_layer(FEATURES, columns)
    # age | age_bucketized (3) | k_indicator (4; 7 is out of range) | pos * 2 | v_embedding (99: no id -> 0)
    expected = [[1, 1, 0, 0, 1, 0, 0, 0, 1, 2, 5, 6],
                [5, 0, 1, 0, 0, 0, 1, 0, 4, -2, 1, 2],
                [9, 0, 0, 1, 0, 0, 0, 0, 6, 0, 0, 0]]
    np.testing.assert_allclose(run(net), expected)
    assert [v.op.name for v in tf.global_variables()] == ["input_layer/v_embedding/embedding_weights"]


def test_embedding_combiners_and_multivalent_ids(graph):
    ids = {"ids": np.array([[0, 2], [1, -1], [-1, -1]], np.int64)}
    table = tf.constant_initializer([[1.0], [10.0], [100.0]])
    cat = fc.categorical_column_with_identity("ids", 3)
    outs = [fc.input_layer(ids, [fc.embedding_column(cat, 1, combiner=c, initializer=table)])
            for c in ("sum", "mean", "sqrtn")]
    outs.append(fc.input_layer(ids, [fc.indicator_column(cat)]))
    got = run(outs)
    np.testing.assert_allclose(got[0], [[101], [10], [0]])
    np.testing.assert_allclose(got[1], [[50.5], [10], [0]])
    np.testing.assert_allclose(got[2], [[101 / np.sqrt(2)], [10], [0]], rtol=1e-6)
    np.testing.assert_allclose(got[3], [[1, 0, 1], [0, 1, 0], [0, 0, 0]])


def test_linear_model_weights_and_names(graph):
    columns = [fc.numeric_column("pos", shape=2), fc.bucketized_column(fc.numeric_column("age"), [2.0, 6.0]),
               fc.categorical_column_with_identity("k", 4, default_value=3)]
    logits = fc.linear_model(FEATURES, columns, units=2)
    names = [v.op.name for v in tf.global_variables()]
    assert names == ["linear_model/age_bucketized/weights", "linear_model/k/weights", "linear_model/pos/weights",
                     "linear_model/bias_weights"]
    assigns = [tf.assign(v, np.arange(np.prod(v.shape.as_list()), dtype=np.float32).reshape(v.shape.as_list()))
               for v in tf.global_variables()]
    with tf.Session() as sess:
        sess.run(assigns)
        got = sess.run(logits)
    wb, wk, wp, bias = [np.arange(n, dtype=np.float32).reshape(s) for n, s in ((6, (3, 2)), (8, (4, 2)),
                                                                               (4, (2, 2)), (2, (2,)))]
    buckets, ks = [0, 1, 2], [0, 2, 3]                   # k=7 is out of range -> default_value 3
    expected = wb[buckets] + wk[ks] + FEATURES["pos"] @ wp + bias
    np.testing.assert_allclose(got, expected)


def test_column_argument_errors():
    with pytest.raises(ValueError, match="sorted"):
        fc.bucketized_column(fc.numeric_column("a"), [3.0, 1.0])
    with pytest.raises(ValueError, match="_DenseColumn"):
        fc.input_layer(FEATURES, [fc.categorical_column_with_identity("k", 4)])
    with pytest.raises(ValueError, match="hash_bucket"):
        fc.crossed_column(["a", fc.categorical_column_with_hash_bucket("b", 10)], 10)
    with pytest.raises(tf.errors.UnimplementedError):
        fc.categorical_column_with_vocabulary_list("v", [1, 2], num_oov_buckets=2)


def test_string_columns_from_a_dataset(graph):
    words = np.array(["b", "zz", "a", ""])
    colors = np.array(["x", "y", "x", "y"])
    batch = tf.data.make_one_shot_iterator(
        tf.data.Dataset.from_tensor_slices({"w": words, "c": colors}).batch(4)).get_next()
    vocab = fc.categorical_column_with_vocabulary_list("w", ["a", "b"], num_oov_buckets=3)
    hashed = fc.categorical_column_with_hash_bucket("w", 1000)
    crossed = fc.crossed_column(["w", "c"], 1000)
    from xlite.estimator.feature_column.columns import FeatureTransformationCache
    cache = FeatureTransformationCache(batch)
    fetches = [column.get_ids(cache) for column in (vocab, hashed, crossed)]
    (vocab_ids, vocab_ok), (hash_ids, hash_ok), (cross_ids, cross_ok) = run(fetches)
    # TF 2.21: to_hash_bucket_fast(["b", "zz", "a"], 1000) and Fingerprint64("zz") % 3 for the OOV bucket
    from xlite.estimator.feature_column.fingerprint import fingerprint64
    assert vocab_ids[:3, 0].tolist() == [1, 2 + fingerprint64(b"zz") % 3, 0] and vocab_ok[:, 0].tolist() == \
        [True, True, True, False]
    assert hash_ids[:3, 0].tolist() == [fingerprint64(s) % 1000 for s in (b"b", b"zz", b"a")]
    assert hash_ok[:, 0].tolist() == [True, True, True, False]
    assert cross_ok.sum(1).tolist() == [1, 1, 1, 0]


def test_crossed_ids_are_tfs():
    """tf.sparse.cross_hashed([[a], [cc]], [[x], [yy]], num_buckets=1000) in TF 2.21 is [892, 376]."""
    from xlite.estimator.feature_column.fingerprint import fingerprint64, fingerprint_cat64
    from xlite.estimator.feature_column.string_lookup import DEFAULT_HASH_KEY
    got = [fingerprint_cat64(fingerprint_cat64(DEFAULT_HASH_KEY, fingerprint64(a)), fingerprint64(b)) % 1000
           for a, b in ((b"a", b"x"), (b"cc", b"yy"))]
    assert got == [892, 376]


@pytest.mark.parametrize("text, bucket", [
    ("", 1936946117179621455), ("a", 3694432073954588131), ("hello world", 1769834696496558107),
    ("x" * 20, 3621402210320469444), ("y" * 40, 276292113409495006), ("z" * 100, 4609163928736578169),
    ("abcdefgh", 4533385575889643785), ("abcd", 1897425971756105985), ("q" * 64, 3227602484106814583),
    ("w" * 65, 3272011567211491968), ("e" * 128, 636238372002547799), ("r" * 129, 4233010728707922025),
    ("abc", 2640714258260161385)])
def test_fingerprint64_is_tfs_string_hash(text, bucket):
    """tf.strings.to_hash_bucket_fast(text, 2**62) recorded from TF 2.21: every length class of farmhash."""
    from xlite.estimator.feature_column.fingerprint import fingerprint64
    assert fingerprint64(text.encode()) % 2 ** 62 == bucket


LIVE_COLUMNS = """[fc.bucketized_column(fc.numeric_column("age"), [2.0, 6.0]),
    fc.indicator_column(fc.categorical_column_with_vocabulary_list("w", ["a", "b"], num_oov_buckets=3)),
    fc.embedding_column(fc.categorical_column_with_hash_bucket("w", 7), 2, combiner="sqrtn",
                        initializer=CONST(np.arange(14.0).reshape(7, 2))),
    fc.indicator_column(fc.crossed_column(["w", "z"], 5)),
    fc.indicator_column(fc.categorical_column_with_identity("k", 4))]"""
LIVE_FEATURES = dict(age=np.array([[1.0], [5.0], [9.0]], np.float32), w=np.array(["b", "zz", "a"]),
                     z=np.array(["x", "y", "x"]), k=np.array([0, 2, 3], np.int64))


@LIVE_TF[0]
@LIVE_TF[1]
def test_input_layer_and_linear_model_match_tensorflow(graph, tmp_path):
    """Every column kind, TF's hashes and OOV buckets included: TF's tf.compat.v1.feature_column gives the same
    input_layer and (with the same weights) linear_model."""
    np.savez(tmp_path / "features.npz", **LIVE_FEATURES)
    script = ("fc, CONST = tf1.feature_column, tf1.constant_initializer\n"
              "raw = np.load(os.path.join(d, 'features.npz'))\n"
              "features = {k: tf1.constant(raw[k]) for k in raw.files}\n"
              f"columns = lambda: {LIVE_COLUMNS}\n"
              "net = fc.input_layer(features, columns())\n"
              "logits = fc.linear_model(features, columns()[:2] + [fc.crossed_column(['w', 'z'], 5)], units=2)\n"
              "with tf1.Session() as s:\n"
              "    s.run([tf1.global_variables_initializer(), tf1.tables_initializer()])\n"
              "    ws = [v for v in tf1.global_variables() if v.op.name.startswith('linear_model')]\n"
              "    s.run([tf1.assign(v, np.arange(np.prod(v.shape.as_list()), dtype=np.float32)"
              ".reshape(v.shape.as_list())) for v in ws])\n"
              "    np.savez(os.path.join(d, 'tf.npz'), net=s.run(net), logits=s.run(logits))\n")
    run_tf(script, tmp_path)
    expected = np.load(tmp_path / "tf.npz")
    batch = tf.data.make_one_shot_iterator(tf.data.Dataset.from_tensor_slices(LIVE_FEATURES).batch(3)).get_next()
    scope = {"fc": fc, "CONST": tf.constant_initializer, "np": np}
    net = fc.input_layer(batch, eval(LIVE_COLUMNS, scope))
    logits = fc.linear_model(batch, eval(LIVE_COLUMNS, scope)[:2] + [fc.crossed_column(["w", "z"], 5)], units=2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        weights = [v for v in tf.global_variables() if v.op.name.startswith("linear_model")]
        sess.run([tf.assign(v, np.arange(np.prod(v.shape.as_list()), dtype=np.float32).reshape(v.shape.as_list()))
                  for v in weights])
        got_net, got_logits = sess.run([net, logits])
    np.testing.assert_allclose(got_net, expected["net"], rtol=1e-6)
    np.testing.assert_allclose(got_logits, expected["logits"], rtol=1e-6)
