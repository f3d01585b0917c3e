"""Run under `mpiexec -n 2` by test_mpi_launch.py (not collected by pytest): every multi-process check in
one launch, since each launch costs a second of MPI start-up. Reports one "ok <check>" line per check.

1. The collectives (the async all_reduce_start/done pair too, several in flight at once) on the interpreter,
   the CPU backend and (with a C++ compiler) the emulated CUDA backend against NumPy, for awkward sizes and
   every dtype MPI reduces.
2. The W3 MLP (784-256-256-10) trained for a few steps by two processes, each on half of every batch,
   against one process on the whole batch (same initial weights): Horovod-style API with SGD and Adam,
   MirroredStrategy + Keras fit, and an Estimator with RunConfig(train_distribute=MirroredStrategy()),
   each with SGD and Adam; weights compared after every step.
3. Only rank 0 writes checkpoints, Keras weights and summaries.
4. (`mpi_checks.py eager`) Eagerly: a GradientTape wrapped in hvd.DistributedGradientTape,
   hvd.broadcast_variables, allgather.
"""
from __future__ import annotations

import os
import shutil
import sys
import time

import numpy as np

import xlite as tf
import xlite.distribute.mpi as hvd
from xlite.ir.parser import parse_module
from xlite.runtime.driver import compile as compile_module

RTOL, ATOL = 2e-5, 2e-6        # float32 rounding: two half-batch gradients averaged vs one whole-batch one
# Adam's step is g / (sqrt(v) + 1e-8): where a gradient element is near 0 a rounding difference in it moves
# the step by a visible fraction of the learning rate (0.01). For Adam, at most ADAM_LOOSE_SHARE of the
# elements may miss the tight tolerance, and none by more than ADAM_ATOL.
ADAM_ATOL, ADAM_LOOSE_SHARE = 2e-4, 1e-4
STEPS = 3
BATCH = 16                     # the global batch; each of two processes trains on 8 rows


STARTED = time.perf_counter()


def ok(check: str) -> None:
    """Reports a passed check in a file of this rank's own: mpiexec interleaves the ranks' stdout mid-line."""
    line = f"ok {check} rank {hvd.rank()} ({time.perf_counter() - STARTED:.1f} s)\n"
    with open(os.path.join(os.environ["MPI_CHECKS_DIR"], f"ok.{hvd.rank()}"), "a") as report:
        report.write(line)
    print(line, end="", flush=True)


def per_rank_input(rank: int, dims: tuple, dtype) -> np.ndarray:
    rng = np.random.RandomState(100 + rank)
    return (rng.standard_normal(dims) * 10).astype(dtype)


SIZES = (0, 1, 7, 67)


def collective_module(dtype: str, size: int, kinds: tuple) -> str:
    """Every kind of all_reduce, an all_gather and a collective_broadcast of one parameter per size."""
    lines, results = [], []
    for k, n in enumerate(SIZES):
        lines.append(f"%p{k} = {dtype}[{n},3]{{1,0}} parameter({k})")
        for kind in kinds:
            lines.append(f"%r{k}{kind} = {dtype}[{n},3]{{1,0}} all_reduce(%p{k}), kind={kind}")
            results.append((f"%r{k}{kind}", f"{dtype}[{n},3]{{1,0}}"))
        lines.append(f"%g{k} = {dtype}[{n * size},3]{{1,0}} all_gather(%p{k}), replicas={size}")
        lines.append(f"%b{k} = {dtype}[{n},3]{{1,0}} collective_broadcast(%p{k}), root={size - 1}")
        results += [(f"%g{k}", f"{dtype}[{n * size},3]{{1,0}}"), (f"%b{k}", f"{dtype}[{n},3]{{1,0}}")]
        for kind in kinds:      # the async pair, both in flight while the next size's collectives run
            lines.append(f"%s{k}{kind} = {dtype}[{n},3]{{1,0}} all_reduce_start(%p{k}), kind={kind}")
            results.append((f"%d{k}{kind}", f"{dtype}[{n},3]{{1,0}}"))
    for k, n in enumerate(SIZES):
        for kind in kinds:
            lines.append(f"%d{k}{kind} = {dtype}[{n},3]{{1,0}} all_reduce_done(%s{k}{kind})")
    root = f"ROOT %t = ({', '.join(s for _, s in results)}) tuple({', '.join(r for r, _ in results)})"
    return "ENTRY e {\n  " + "\n  ".join(lines + [root]) + "\n}"


def emulated_cuda(module):
    if shutil.which("g++") is None and shutil.which("clang++") is None:
        return None
    from xlite.codegen.cuda import emit_cuda
    from xlite.codegen.cuda.emulator import EmulatedDriver
    from xlite.codegen.cuda.executable import CudaExecutable
    from xlite.runtime.driver import with_naive_buffers
    compiled = with_naive_buffers(module)
    return CudaExecutable(compiled.module, emit_cuda(compiled), EmulatedDriver())


def expected_collectives(np_dtype, kinds: tuple, size: int) -> list:
    reducers = {"sum": np.sum, "max": np.max, "min": np.min}
    expected = []
    for n in SIZES:
        inputs = [per_rank_input(r, (n, 3), np_dtype) for r in range(size)]
        stacked = np.stack(inputs)
        reduced = [(stacked.sum(0) / np_dtype(size)).astype(np_dtype) if kind == "mean"
                   else reducers[kind](stacked, axis=0).astype(np_dtype) for kind in kinds]
        expected += reduced + [np.concatenate(inputs), inputs[size - 1]] + reduced
    return expected


def check_collectives() -> None:
    """Each dtype's module on the interpreter and the CPU backend, float32's on the emulated CUDA backend."""
    size, rank = hvd.size(), hvd.rank()
    for dtype, np_dtype in (("f32", np.float32), ("f64", np.float64), ("s32", np.int32), ("s64", np.int64)):
        kinds = ("sum", "max", "min") + (("mean",) if dtype[0] == "f" else ())
        module = parse_module(collective_module(dtype, size, kinds))
        backends = {"interpreter": compile_module(module, "interpreter"), "cpu": compile_module(module, "cpu")}
        if dtype == "f32":
            backends["cuda-emulated"] = emulated_cuda(module)
        args = [per_rank_input(rank, (n, 3), np_dtype) for n in SIZES]
        expected = expected_collectives(np_dtype, kinds, size)
        for name, executable in backends.items():
            if executable is None:
                continue
            got = executable.run(list(args))
            assert len(got) == len(expected)
            for i, (g, e) in enumerate(zip(got, expected)):
                g = np.asarray(g)
                assert g.shape == e.shape and g.dtype == e.dtype, (name, dtype, i, g.dtype, g.shape, e.shape)
                tol = dict(rtol=1e-6, atol=1e-5) if dtype[0] == "f" else dict(rtol=0, atol=0)
                np.testing.assert_allclose(g, e, err_msg=f"{name} {dtype} output {i}", **tol)
    ok("collectives")


def w3_batches():
    rng = np.random.RandomState(30)
    images = rng.random_sample((STEPS * BATCH, 784)).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[rng.randint(0, 10, STEPS * BATCH)]
    return images, labels


def my_rows(array: np.ndarray, step: int) -> np.ndarray:
    batch = array[step * BATCH:(step + 1) * BATCH]
    half = BATCH // hvd.size()
    return batch[hvd.rank() * half:(hvd.rank() + 1) * half]


def w3_graph_training(make_optimizer, distributed: bool, seed: int, predivide: float = 1.0, passes: int = 1,
                      merge: int = 1) -> list:
    """The weights after each step; `passes`: Horovod's backward_passes_per_step, `merge`: (one process) each step
    on that many consecutive batches at once."""
    """The W3 model trained STEPS steps; the weights after broadcast and after every step."""
    images, labels = w3_batches()
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, [None, 784])
        y_ = tf.placeholder(tf.float32, [None, 10])
        h = x
        for n_in, n_out, relu in ((784, 256, True), (256, 256, True), (256, 10, False)):
            W = tf.Variable(tf.truncated_normal([n_in, n_out], stddev=0.1))
            b = tf.Variable(tf.zeros([n_out]))
            h = tf.matmul(h, W) + b
            h = tf.nn.relu(h) if relu else h
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=h))
        optimizer = make_optimizer()
        if distributed:
            optimizer = hvd.DistributedOptimizer(optimizer, gradient_predivide_factor=predivide,
                                                 backward_passes_per_step=passes)
        train_op = optimizer.minimize(loss)
        weights = tf.trainable_variables()
        init = tf.group(tf.global_variables_initializer(), tf.local_variables_initializer())
        bcast = hvd.broadcast_global_variables(0) if distributed else None
        with tf.Session() as sess:
            sess.run(init)
            if bcast is not None:
                sess.run(bcast)
            history = [sess.run(weights)]
            for step in range(STEPS // merge):
                if distributed:
                    feed = {x: my_rows(images, step), y_: my_rows(labels, step)}
                else:
                    rows = slice(step * merge * BATCH, (step + 1) * merge * BATCH)
                    feed = {x: images[rows], y_: labels[rows]}
                sess.run(train_op, feed)
                history.append(sess.run(weights))
    return history


def same_weights(got: list, want: list, what: str, steps: int = STEPS) -> None:
    adam = "adam" in what
    assert len(got) == len(want) and len(got) >= steps + 1, (len(got), len(want))
    for step, (g, w) in enumerate(zip(got, want)):
        for a, b in zip(g, w):
            if adam:
                loose = ~np.isclose(a, b, rtol=RTOL, atol=ATOL)
                assert loose.mean() <= ADAM_LOOSE_SHARE, f"{what}: step {step}: {loose.sum()} of {loose.size}"
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ADAM_ATOL if adam else ATOL,
                                       err_msg=f"{what}: step {step}")


def check_horovod_api() -> None:
    for name, make in (("sgd", lambda: tf.train.GradientDescentOptimizer(0.1)),
                       ("adam", lambda: tf.train.AdamOptimizer(0.01))):
        reference = w3_graph_training(make, False, seed=3)
        # rank 1 starts from other weights: broadcast_global_variables(0) must replace them
        distributed = w3_graph_training(make, True, seed=3 + hvd.rank())
        same_weights(distributed, reference, f"horovod {name}")
        ok(f"horovod-{name}")
    # Horovod's predivide: the sum of g / 2 scaled by 2 / size is the same average
    sgd = lambda: tf.train.GradientDescentOptimizer(0.1)      # noqa: E731
    same_weights(w3_graph_training(sgd, True, seed=3, predivide=2.0), w3_graph_training(sgd, False, seed=3),
                 "horovod sgd predivide")
    ok("horovod-predivide")
    # backward_passes_per_step=2: every second step applies the sum of two steps' averaged gradients, which
    # is one step of twice the rate on both batches at once
    aggregated = w3_graph_training(sgd, True, seed=3, passes=2)[::2]
    same_weights(aggregated, w3_graph_training(lambda: tf.train.GradientDescentOptimizer(0.2), False, seed=3,
                                               merge=2), "horovod sgd backward_passes_per_step=2", steps=STEPS // 2)
    ok("horovod-local-aggregation")


def keras_model(initial=None):
    model = tf.keras.Sequential([tf.keras.layers.Dense(256, activation="relu", input_shape=(784,)),
                                 tf.keras.layers.Dense(256, activation="relu"), tf.keras.layers.Dense(10)])
    if initial is not None:
        model.set_weights(initial)
    return model


class WeightHistory(tf.keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.history = []

    def on_train_batch_end(self, batch, logs=None):
        self.history.append(self.model.get_weights())


def keras_training(make_optimizer, initial, strategy=None, horovod=False, batch=BATCH) -> list:
    """Keras fit of the W3 model: on the whole batches, under `strategy`, or (horovod) on this rank's half
    of every batch with hvd.DistributedOptimizer, as a horovod.tensorflow.keras script does."""
    images, labels = w3_batches()
    recorder = WeightHistory()

    def train():
        model = keras_model(initial)
        optimizer = hvd.DistributedOptimizer(make_optimizer()) if horovod else make_optimizer()
        model.compile(optimizer, tf.keras.losses.CategoricalCrossentropy(from_logits=True))
        recorder.history.append(model.get_weights())
        return model

    if strategy is None:
        model = train()
    else:
        with strategy.scope():
            model = train()
    if horovod:
        images = np.concatenate([my_rows(images, step) for step in range(STEPS)])
        labels = np.concatenate([my_rows(labels, step) for step in range(STEPS)])
    model.fit(images, labels, batch_size=batch, epochs=1, shuffle=False, verbose=0, callbacks=[recorder])
    return recorder.history


def check_mirrored_keras() -> None:
    strategy = tf.distribute.MirroredStrategy()
    assert strategy.num_replicas_in_sync == hvd.size()
    initial = keras_model().get_weights()
    initial = hvd.broadcast_object(initial, 0)
    for name, make in (("sgd", lambda: tf.keras.optimizers.SGD(0.1)), ("adam", lambda: tf.keras.optimizers.Adam(0.01))):
        reference = keras_training(make, initial)
        distributed = keras_training(make, initial, strategy)
        same_weights(distributed, reference, f"keras {name}")
        ok(f"keras-{name}")
    # 48 rows in batches of 15: 8 + 7 rows a step, and a last batch of 3 split 1 + 2; each replica's
    # gradient weighted by its rows
    uneven = keras_training(lambda: tf.keras.optimizers.SGD(0.1), initial, strategy, batch=15)
    same_weights(uneven, keras_training(lambda: tf.keras.optimizers.SGD(0.1), initial, batch=15), "keras uneven")
    assert len(uneven) == 5
    ok("keras-uneven-batches")
    reference = keras_training(lambda: tf.keras.optimizers.SGD(0.1), initial)
    hvd_keras = keras_training(lambda: tf.keras.optimizers.SGD(0.1), initial, horovod=True, batch=BATCH // hvd.size())
    same_weights(hvd_keras, reference, "keras hvd")
    ok("keras-horovod-sgd")


class _WeightsAfterEachStep(tf.train.SessionRunHook):
    def __init__(self):
        self.history = []

    def after_create_session(self, session, coord):
        self.history.append(session.run(tf.trainable_variables()))

    def after_run(self, run_context, run_values):
        self.history.append(run_context.session.run(tf.trainable_variables()))


def estimator_training(make_optimizer, model_dir: str, strategy=None) -> list:
    images, labels = w3_batches()

    def model_fn(features, labels, mode):
        h = features
        for units, activation in ((256, tf.nn.relu), (256, tf.nn.relu), (10, None)):
            h = tf.layers.dense(h, units, activation=activation)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=h))
        train_op = make_optimizer().minimize(loss, global_step=tf.train.get_global_step())
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

    per_replica = BATCH if strategy is None else BATCH // hvd.size()

    def input_fn():
        return tf.data.Dataset.from_tensor_slices((images, labels)).batch(per_replica)

    config = tf.estimator.RunConfig(model_dir=model_dir, tf_random_seed=5, train_distribute=strategy,
                                    save_checkpoints_steps=None, save_checkpoints_secs=None)
    recorder = _WeightsAfterEachStep()
    tf.estimator.Estimator(model_fn, config=config).train(input_fn, hooks=[recorder])
    return recorder.history


def check_estimator(directory: str) -> None:
    strategy = tf.distribute.MirroredStrategy()
    for name, make in (("sgd", lambda: tf.train.GradientDescentOptimizer(0.1)),
                       ("adam", lambda: tf.train.AdamOptimizer(0.01))):
        base = os.path.join(directory, f"estimator-{name}-rank{hvd.rank()}")
        reference = estimator_training(make, base + "-one")
        distributed = estimator_training(make, base + "-dist", strategy)
        same_weights(distributed, reference, f"estimator {name}")
        ok(f"estimator-{name}")


def eager_training(distributed: bool) -> list:
    """A small MLP trained eagerly with a GradientTape (hvd.DistributedGradientTape on this rank's half of
    every batch); rank 1 starts from other weights until hvd.broadcast_variables."""
    images, labels = w3_batches()
    rng = np.random.RandomState(7 + (hvd.rank() if distributed else 0))
    weights = [tf.Variable(rng.standard_normal(shape).astype(np.float32) * 0.1)
               for shape in ((784, 32), (32,), (32, 10), (10,))]
    if distributed:
        hvd.broadcast_variables(weights, root_rank=0)
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    history = [[w.numpy() for w in weights]]
    for step in range(STEPS):
        if distributed:
            x, y = my_rows(images, step), my_rows(labels, step)
        else:
            x, y = images[step * BATCH:(step + 1) * BATCH], labels[step * BATCH:(step + 1) * BATCH]
        with tf.GradientTape() as tape:
            h = tf.nn.relu(tf.matmul(tf.constant(x), weights[0]) + weights[1])
            logits = tf.matmul(h, weights[2]) + weights[3]
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.constant(y), logits=logits))
        if distributed:
            tape = hvd.DistributedGradientTape(tape)
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        history.append([w.numpy() for w in weights])
    return history


def check_eager() -> None:
    tf.enable_eager_execution()
    same_weights(eager_training(True), eager_training(False), "eager gradient tape")
    np.testing.assert_array_equal(hvd.allgather(tf.constant([float(hvd.rank())])).numpy(), np.arange(hvd.size()))
    ok("eager-gradient-tape")


def check_strategy_reduce_and_dataset() -> None:
    strategy = tf.distribute.MirroredStrategy()
    with tf.Graph().as_default(), tf.Session() as sess:
        value = tf.constant([1.0, 2.0]) * float(hvd.rank() + 1)
        total = sess.run(strategy.reduce(tf.distribute.ReduceOp.SUM, value))
        mean = sess.run(strategy.reduce("MEAN", value, axis=0))
        context = strategy.run(tf.distribute.get_replica_context)
        assert context.replica_id_in_sync_group == hvd.rank() and context.num_replicas_in_sync == hvd.size()
        np.testing.assert_allclose(sess.run(context.all_reduce("SUM", value)), [3.0, 6.0])
    np.testing.assert_allclose(total, [3.0, 6.0])
    np.testing.assert_allclose(mean, 2.25)
    dataset = strategy.experimental_distribute_dataset(tf.data.Dataset.range(8).batch(4))
    with tf.Graph().as_default(), tf.Session() as sess:
        it = tf.compat.v1.data.make_one_shot_iterator(dataset)
        part = sess.run(it.get_next())
    np.testing.assert_array_equal(part, [0, 1] if hvd.rank() == 0 else [2, 3])
    ok("strategy-reduce-dataset")


def check_only_rank_0_writes(directory: str) -> None:
    """Checkpoints, Keras weights and summaries: rank 0's are written, rank 1's are not."""
    mine = os.path.join(directory, f"rank{hvd.rank()}")
    os.makedirs(mine)
    with tf.Graph().as_default():
        v = tf.Variable([1.0, 2.0])
        saver = tf.train.Saver()
        writer = tf.summary.FileWriter(mine)
        with tf.Session() as sess:
            sess.run(v.initializer)
            assert saver.save(sess, os.path.join(mine, "model.ckpt"), global_step=3).endswith("model.ckpt-3")
            writer.add_summary(sess.run(tf.summary.scalar("v0", v[0])), 3)
            writer.close()
    keras_model().save_weights(os.path.join(mine, "weights.h5"))
    hvd.allgather_object(None)      # a barrier: both have written what they write
    if hvd.rank() == 0:
        written = {r: sorted(os.listdir(os.path.join(directory, f"rank{r}"))) for r in range(hvd.size())}
        assert "checkpoint" in written[0] and "weights.h5" in written[0], written
        assert any(f.startswith("events.out.tfevents") for f in written[0]), written
        assert all(written[r] == [] for r in range(1, hvd.size())), written
    ok("rank-0-writes")


def fail_fast() -> None:
    """Rank 1 raises; rank 0 waits in an all-reduce that rank 1 never joins: MPI_Abort must end both."""
    hvd.init()
    if hvd.rank() == 1:
        raise ValueError("rank 1 fails on purpose")
    with tf.Graph().as_default(), tf.Session() as sess:
        sess.run(hvd.allreduce(tf.constant([1.0])))
    print("rank 0 was not stopped", flush=True)


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    if which == "fail":
        fail_fast()
    elif which == "eager":          # eager execution is switched on at a program's start: a launch of its own
        hvd.init()
        check_eager()
    else:
        hvd.init()
        assert hvd.size() == int(os.environ.get("EXPECTED_SIZE", "2")), hvd.size()
        check_collectives()
        check_strategy_reduce_and_dataset()
        check_horovod_api()
        check_mirrored_keras()
        check_only_rank_0_writes(os.environ["MPI_CHECKS_DIR"])
        check_estimator(os.environ["MPI_CHECKS_DIR"])
