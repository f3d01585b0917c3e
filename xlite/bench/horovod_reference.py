"""W11's reference: the same W3 step in Horovod + TensorFlow (graph mode), run by a Python that has them.

Not imported by xlite: `distributed_workload.py` starts this file under `mpiexec -n R` with the Python
named by XLITE_HOROVOD_PYTHON (or XLITE_TF_PYTHON), whose TensorFlow and Horovod are never xlite's
dependencies. Each rank trains on its 256 / R rows on one thread (intra- and inter-op parallelism 1, as
xlite's ranks run), timed like xlite's side: rounds of `steps` calls, each function in turn after a
barrier, medians. Rank 0 prints one JSON line: the step with hvd.DistributedOptimizer and without it.
"""
import json
import sys
import time

import numpy as np

GLOBAL_BATCH = 256


def main(steps: int, rounds: int) -> None:
    import horovod.tensorflow as hvd
    import tensorflow as tf
    from mpi4py import MPI
    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    hvd.init()
    size, rank = hvd.size(), hvd.rank()
    rng = np.random.RandomState(30)
    images = rng.random_sample((GLOBAL_BATCH, 784)).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[rng.randint(0, 10, GLOBAL_BATCH)]
    rows = slice(rank * GLOBAL_BATCH // size, (rank + 1) * GLOBAL_BATCH // size)
    tf1.set_random_seed(3)
    x = tf1.placeholder(tf.float32, [None, 784])
    y_ = tf1.placeholder(tf.float32, [None, 10])
    h = x
    for n_in, n_out, relu in ((784, 256, True), (256, 256, True), (256, 10, False)):
        w = tf.Variable(tf1.truncated_normal([n_in, n_out], stddev=0.1))
        h = tf.matmul(h, w) + tf.Variable(tf.zeros([n_out]))
        h = tf.nn.relu(h) if relu else h
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=h))
    train = hvd.DistributedOptimizer(tf1.train.GradientDescentOptimizer(0.01)).minimize(loss)
    local = tf1.train.GradientDescentOptimizer(0.01).minimize(loss)
    config = tf1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    with tf1.Session(config=config) as sess:
        sess.run(tf1.global_variables_initializer())
        sess.run(hvd.broadcast_global_variables(0))
        feed = {x: images[rows], y_: labels[rows]}
        timed = {"step_s": lambda: sess.run(train, feed), "local_step_s": lambda: sess.run(local, feed)}
        for fn in timed.values():
            for _ in range(3):
                fn()
        times = {name: [] for name in timed}
        for _ in range(rounds):
            for name, fn in timed.items():
                MPI.COMM_WORLD.Barrier()
                start = time.perf_counter()
                for _ in range(steps):
                    fn()
                times[name].append((time.perf_counter() - start) / steps)
    if rank == 0:
        print(json.dumps({name: float(np.median(t)) for name, t in times.items()}), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
