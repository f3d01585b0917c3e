"""Text pipelines: file names and lines are host strings; read_file and decode_csv run as host steps of
a dataset function whose arithmetic is compiled."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.context import eager_mode

D = tf.data.Dataset


def values(ds):
    with eager_mode():      # Python iteration, as in TF, executes eagerly
        return list(ds.as_numpy_iterator())


@pytest.fixture
def csv_dir(tmp_path):
    (tmp_path / "a.csv").write_text('1,2.5,"x,y"\n3,,z\n')
    (tmp_path / "b.csv").write_text("5,6,w\n")
    return tmp_path


def test_lines_of_listed_files_through_interleave(csv_dir):
    files = D.list_files(str(csv_dir / "*.csv"), shuffle=False)
    lines = files.interleave(lambda f: tf.data.TextLineDataset(f), cycle_length=1)
    assert lines.element_spec.dtype.name == "string"
    assert values(lines) == [b'1,2.5,"x,y"', b"3,,z", b"5,6,w"]


def test_decode_csv_defaults_types_quotes_and_compiled_arithmetic(csv_dir):
    lines = tf.data.TextLineDataset([str(csv_dir / "a.csv"), str(csv_dir / "b.csv")])
    parsed = lines.map(lambda line: tuple(tf.io.decode_csv(line, [[0], [-1.0]], select_cols=[0, 1])))
    assert [s.dtype for s in parsed.element_spec] == [tf.int32, tf.float32]
    assert values(parsed) == [(1, 2.5), (3, -1.0), (5, 6.0)]
    total = parsed.map(lambda a, b: tf.cast(a, tf.float32) * 2.0 + b)
    np.testing.assert_allclose(values(total), [4.5, 5.0, 16.0])
    with tf.Graph().as_default():
        n = total.batch(2).make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(n), [4.5, 5.0])


def test_decode_csv_errors_at_the_element(tmp_path):
    (tmp_path / "bad.csv").write_text("1,2\nx,3\n4\n")
    lines = tf.data.TextLineDataset(str(tmp_path / "bad.csv"))
    with eager_mode():
        it = iter(lines.map(lambda l: tuple(tf.io.decode_csv(l, [[0], [0]]))))
        assert [int(v) for v in next(it)] == [1, 2]
        with pytest.raises(tf.errors.InvalidArgumentError, match="not a valid int32"):
            next(it)
    required = lines.skip(2).map(lambda l: tuple(tf.io.decode_csv(l, [[0], tf.constant([], tf.int32)])))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Expect 2 fields"):
        values(required)


def test_read_file_in_a_map(csv_dir):
    contents = D.list_files(str(csv_dir / "*.csv"), shuffle=False).map(tf.io.read_file)
    assert values(contents) == [(csv_dir / "a.csv").read_bytes(), (csv_dir / "b.csv").read_bytes()]


def test_string_ops_outside_dataset_functions_are_unimplemented():
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.UnimplementedError, match="decode_csv"):
            tf.io.decode_csv(tf.constant(1.0), [[0.0]])


def test_decode_csv_and_read_file_on_get_next_strings_in_graph_mode(csv_dir):
    with tf.Graph().as_default():
        lines = tf.data.TextLineDataset([str(csv_dir / "a.csv"), str(csv_dir / "b.csv")]).batch(2)
        line = lines.make_one_shot_iterator().get_next()
        assert line.dtype.name == "string" and line.shape.as_list() == [None]
        a, b = tf.decode_csv(line, [[0], [-1.0]], select_cols=[0, 1])
        total = tf.cast(a, tf.float32) * 2.0 + b
        name = D.list_files(str(csv_dir / "b.csv")).make_one_shot_iterator().get_next()
        first, second = tf.io.decode_csv(tf.io.read_file(name), [[0], [0]], select_cols=[0, 1])
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(total), [4.5, 5.0])
            assert list(sess.run(line)) == [b"5,6,w"]     # strings are fetched as bytes (this run took the second batch)
            with pytest.raises(tf.errors.OutOfRangeError):
                sess.run(total)
            assert sess.run([first, second * 10]) == [5, 60]
