"""tf.io is one namespace (xlite/io/__init__.py): the input-pipeline steps (read_file, decode_csv, host steps
of xlite/data/text.py), tf.io.gfile, and the GraphDef readers and writers of xlite/io."""
import xlite as tf
from xlite.data import text


def test_tf_io_holds_the_pipeline_steps_gfile_and_graph_files(tmp_path):
    assert tf.io.read_file is text.read_file is tf.read_file
    assert tf.io.decode_csv is text.decode_csv is tf.decode_csv
    for name in ("exists", "GFile", "glob", "makedirs", "listdir"):
        assert callable(getattr(tf.io.gfile, name)), name
    assert callable(tf.io.write_graph) and callable(tf.io.read_graph_def)
    tf.io.gfile.makedirs(str(tmp_path / "a" / "b"))
    assert tf.io.gfile.exists(str(tmp_path / "a" / "b"))
