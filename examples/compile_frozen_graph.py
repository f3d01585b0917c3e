"""tfcompile's flow with xlite: train, freeze, compile the frozen GraphDef (or the SavedModel) to a C object,
and call it from a C program that knows nothing of Python.

    python examples/compile_frozen_graph.py [OUT_DIR]

Step by step, as one would with TensorFlow and tfcompile:
1. train a small classifier in a Session;
2. freeze it: tf.graph_util.convert_variables_to_constants, written as model.pb (TF's GraphDef; a graph
   frozen by TensorFlow itself compiles the same way), and export a SavedModel with simple_save;
3. `xlite compile OUT/model.pb --fetch probs --feed x:4x2 -o OUT --name classifier`
   (or `xlite compile --saved-model OUT/saved_model --signature serving_default --feed x:4x2 ...`);
4. build classifier_example.c with the system C compiler against classifier.o and run it on raw input.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

import xlite as tf
from xlite.cli import main as xlite_main

out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="xlite_frozen_"))
os.makedirs(out, exist_ok=True)

# 1. train: two interleaved classes in the plane
rng = np.random.default_rng(0)
points = rng.standard_normal((400, 2)).astype(np.float32)
labels = (points[:, 0] * points[:, 1] > 0).astype(np.int64)
x = tf.placeholder(tf.float32, [None, 2], name="x")
y = tf.placeholder(tf.int64, [None], name="y")
hidden = tf.layers.dense(x, 16, activation=tf.nn.tanh, name="hidden")
logits = tf.layers.dense(hidden, 2, name="logits")
probs = tf.nn.softmax(logits, name="probs")
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
train = tf.train.AdamOptimizer(0.05).minimize(loss)
test = np.array([[1.0, 1.0], [-1.0, 1.0], [0.5, -2.0], [-1.5, -0.5]], np.float32)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(301):
        _, value = sess.run([train, loss], {x: points, y: labels})
        if step % 100 == 0:
            print(f"step {step} loss {value:.4f}")
    want = sess.run(probs, {x: test})
    # 2. freeze (the Variables become Consts) and export a SavedModel too
    frozen = tf.graph_util.convert_variables_to_constants(sess, sess.graph.as_graph_def(), ["probs"])
    tf.io.write_graph(frozen, out, "model.pb", as_text=False)
    shutil.rmtree(os.path.join(out, "saved_model"), ignore_errors=True)
    tf.saved_model.simple_save(sess, os.path.join(out, "saved_model"), {"x": x}, {"probs": probs})

# 3. compile the frozen graph, as `xlite compile` on the command line
command = ["compile", os.path.join(out, "model.pb"), "--fetch", "probs", "--feed", "x:4x2", "-o", out,
           "--name", "classifier"]
print("$ xlite " + " ".join(command))
assert xlite_main(command) == 0
command = ["compile", "--saved-model", os.path.join(out, "saved_model"), "--signature", "serving_default",
           "--feed", "x:4x2", "-o", out, "--name", "served"]
print("$ xlite " + " ".join(command))
assert xlite_main(command) == 0

# 4. a C program: classifier_example.c reads x from a raw file and writes probs to another
cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
if cc is None:
    print("no C compiler found: skipping the C program")
    sys.exit(0)
exe = os.path.join(out, "classifier")
subprocess.run([cc, "-O1", "-I", out, "-o", exe, os.path.join(out, "classifier_example.c"),
                os.path.join(out, "classifier.o"), "-lm"], check=True)
test.tofile(os.path.join(out, "x.bin"))
subprocess.run([exe, os.path.join(out, "x.bin"), os.path.join(out, "probs.bin")], check=True)
got = np.fromfile(os.path.join(out, "probs.bin"), np.float32).reshape(4, 2)
print("C program's probs:\n", got)
print(f"max difference from the Session: {np.abs(got - want).max():.2e}")
assert np.allclose(got, want, rtol=1e-5, atol=1e-6)
