"""Host ops against TensorFlow itself (in a subprocess where an interpreter with TF is at hand; skipped
otherwise): tf.Print's and tf.print's text and the first line of the check and assertion errors."""
import json

import xlite as tf
from tests.io.tf_subprocess import LIVE_TF, run_tf

pytestmark = LIVE_TF

_GRAPH = """
x = tf1.placeholder(tf.float32, [None], name="x")
a = tf1.Print(x + 1, [x, x * 2], "first: ", summarize=2)
p = tf1.print("third:", a, tf.reshape(tf.range(20), [4, 5]), tf.range(9), output_stream="file://" + out_path,
              sep="|")
checks = [tf1.Assert(tf.reduce_all(x > 0), ["x must be positive:", x], summarize=2),
          tf1.assert_less(x, 5.0), tf1.assert_positive(x, message="pos"), tf1.check_numerics(tf1.log(x), "log of x")]
feeds = [[1, -2, 3], [1, 2, 7], [0, 1, 2], [-1, 1, 2]]
"""


def _first_line(message: str) -> str:
    """The kernel's own line (TF's message adds the node and where it was defined around it)."""
    return [line for line in message.split("\n") if line.startswith(("assertion failed", "log of x"))][0]


def test_host_ops_match_tensorflow(tmp_path, capfd):
    script = f"""
import json
out_path = os.path.join(d, "tf_out.txt")
{_GRAPH}
err = os.open(os.path.join(d, "tf_err.txt"), os.O_WRONLY | os.O_CREAT)
saved = os.dup(2)
os.dup2(err, 2)
s = tf1.Session()
s.run([a, p], {{x: [1, 2, 3, 4]}})
sys.stderr.flush()
os.dup2(saved, 2)
messages = []
for check, feed in zip(checks, feeds):
    try:
        s.run(check, {{x: feed}})
        messages.append(None)
    except tf.errors.InvalidArgumentError as e:
        messages.append(e.message)
json.dump(messages, open(os.path.join(d, "tf_errors.json"), "w"))
"""
    run_tf(script, tmp_path)
    tf1, out_path = tf, str(tmp_path / "xlite_out.txt")
    with tf.Graph().as_default():
        scope = {"tf": tf, "tf1": tf1, "out_path": out_path}
        exec(_GRAPH, scope)
        x, a, p, checks, feeds = (scope[k] for k in ("x", "a", "p", "checks", "feeds"))
        capfd.readouterr()
        with tf.Session(target="cpu") as s:
            s.run([a, p], {x: [1, 2, 3, 4]})
            err = capfd.readouterr().err
            messages = []
            for check, feed in zip(checks, feeds):
                try:
                    s.run(check, {x: feed})
                    messages.append(None)
                except tf.errors.InvalidArgumentError as e:
                    messages.append(e.message)
    assert err.startswith("first: [1 2...][2 4...]") and err == (tmp_path / "tf_err.txt").read_text()
    assert open(out_path).read() == (tmp_path / "tf_out.txt").read_text()
    want = json.load(open(tmp_path / "tf_errors.json"))
    assert [_first_line(m) for m in messages] == [_first_line(m) for m in want]
