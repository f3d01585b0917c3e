"""The benchmark workloads W1-W6 of shared/BENCHMARKS.md, written with xlite's TF1 API as a user would,
and the tf.function ones of #15 (W8, W3-fn: a FunctionProgram, timed by xlite/bench/function_workload.py).

Each `build_wN()` makes a fresh graph and returns a `Program`: what one
`sess.run` fetches, the feeds (fixed seeds), the initializer and the
Variables a training step updates. The harness (xlite/bench/) runs the
same Program on every target and on JAX (benchmarks/jax_workloads.py).
W6 (cold compile) times `build_w3` plus its first run in a fresh process.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import xlite as tf

MiB = 1 << 20


@dataclass
class Program:
    graph: object
    fetches: list                 # what every timed sess.run fetches
    feeds: dict                   # placeholder -> numpy array, fed every call
    init: object = None           # the initializer op, run once per Session
    variables: list = field(default_factory=list)   # state a training step updates (compared after a step)
    outputs: tuple = (0,)         # positions in `fetches` whose values are compared (a train op gives None)


@dataclass(frozen=True)
class Workload:
    id: str
    title: str
    shapes: str
    kind: str                     # "bandwidth" | "train" | "overhead" | "compile" | "aot" | "poly" | "function"
    build: object                 # () -> Program
    bytes_moved: int = 0          # W1/W2: x read once and y written once
    rtol: float = 1e-4            # float32 agreement with the interpreter
    atol: float = 1e-5


def w1_feeds():
    return np.random.RandomState(1).standard_normal((2048, 2048)).astype(np.float32)


def build_w1() -> Program:
    """Elementwise chain: tanh(x*0.5+0.1) * (1/(1+exp(-x))) + maximum(x-0.2, 0)."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [2048, 2048], name="x")
        y = tf.tanh(x * 0.5 + 0.1) * (1.0 / (1.0 + tf.exp(-x))) + tf.maximum(x - 0.2, 0.0)
    return Program(graph, [y], {x: w1_feeds()})


def build_w2() -> Program:
    """Row-wise stable softmax, written out."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [4096, 1024], name="x")
        m = tf.reduce_max(x, 1, keepdims=True)
        e = tf.exp(x - m)
        y = e / tf.reduce_sum(e, 1, keepdims=True)
    xv = (np.random.RandomState(2).standard_normal((4096, 1024)) * 4).astype(np.float32)
    return Program(graph, [y], {x: xv})


def mnist_batch(seed: int, shape, batch: int):
    """Pixel-like images in [0, 1) and one-hot labels, from a fixed seed."""
    rng = np.random.RandomState(seed)
    images = rng.random_sample((batch,) + tuple(shape)).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[rng.randint(0, 10, batch)]
    return images, labels


def w3_step(x, y_):
    """W3's model on images `x` [batch, 784] and one-hot labels `y_`: (loss, SGD train op)."""
    def dense(h, n_in, n_out, relu):
        W = tf.Variable(tf.truncated_normal([n_in, n_out], stddev=0.1), name="W")
        b = tf.Variable(tf.zeros([n_out]), name="b")
        out = tf.matmul(h, W) + b
        return tf.nn.relu(out) if relu else out

    h1 = dense(x, 784, 256, True)
    h2 = dense(h1, 256, 256, True)
    logits = dense(h2, 256, 10, False)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=logits))
    return loss, tf.train.GradientDescentOptimizer(0.01).minimize(loss)


def build_w3() -> Program:
    """One SGD step (lr 0.01) of an MLP 784-256-256-10 with ReLU and mean softmax cross-entropy."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(3)
        x = tf.placeholder(tf.float32, [None, 784], name="images")
        y_ = tf.placeholder(tf.float32, [None, 10], name="labels")
        loss, train_op = w3_step(x, y_)
        init = tf.global_variables_initializer()
        variables = tf.trainable_variables()
    images, labels = mnist_batch(30, (784,), 128)
    return Program(graph, [loss, train_op], {x: images, y_: labels}, init, variables)


def build_w4() -> Program:
    """Per-call overhead: add two float32 scalars, both fed."""
    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float32, [], name="a")
        b = tf.placeholder(tf.float32, [], name="b")
        c = a + b
    return Program(graph, [c], {a: np.array(1.5, np.float32), b: np.array(2.25, np.float32)})


def build_w5() -> Program:
    """One SGD step (lr 0.01) of the Deep-MNIST CNN, NHWC, batch 32 of 28x28x1."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(5)
        x = tf.placeholder(tf.float32, [None, 28, 28, 1], name="images")
        y_ = tf.placeholder(tf.float32, [None, 10], name="labels")

        def weight(shape):
            return tf.Variable(tf.truncated_normal(shape, stddev=0.1))

        def bias(shape):
            return tf.Variable(tf.constant(0.1, shape=shape))

        def conv2d(h, W):
            return tf.nn.conv2d(h, W, strides=[1, 1, 1, 1], padding="SAME")

        def max_pool_2x2(h):
            return tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")

        h_pool1 = max_pool_2x2(tf.nn.relu(conv2d(x, weight([5, 5, 1, 32])) + bias([32])))
        h_pool2 = max_pool_2x2(tf.nn.relu(conv2d(h_pool1, weight([5, 5, 32, 64])) + bias([64])))
        flat = tf.reshape(h_pool2, [-1, 7 * 7 * 64])
        h_fc1 = tf.nn.relu(tf.matmul(flat, weight([7 * 7 * 64, 1024])) + bias([1024]))
        logits = tf.matmul(h_fc1, weight([1024, 10])) + bias([10])
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=logits))
        train_op = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
        init = tf.global_variables_initializer()
        variables = tf.trainable_variables()
    images, labels = mnist_batch(50, (28, 28, 1), 32)
    return Program(graph, [loss, train_op], {x: images, y_: labels}, init, variables)


@dataclass
class FunctionProgram:
    """A tf.function workload: the Session program it is measured against, and `make(initial)`, which
    runs in eager mode and returns (function, arguments): one timed call is `function(*arguments)`.
    `initial` is the Session's initial Variable values, so both start from the same state."""
    baseline: Program
    make: object


def w8_function(initial=None):
    """W8: W4's sum of two float32 scalars as a tf.function, called eagerly on two scalar tensors."""
    @tf.function
    def add(a, b):
        return a + b
    feeds = list(build_w4().feeds.values())
    return add, (tf.constant(feeds[0]), tf.constant(feeds[1]))


def w3_function(initial):
    """W3's SGD step as a tf.function: the same MLP and loss, a GradientTape, GradientDescentOptimizer
    (0.01).apply_gradients on eager Variables holding `initial` (W, b per layer, as W3 makes them). Its
    input_signature has W3's placeholder shapes ([None, 784], [None, 10]), so it compiles, as the
    Session does, one executable for every batch size."""
    variables = [tf.Variable(v) for v in initial]
    optimizer = tf.train.GradientDescentOptimizer(0.01)

    @tf.function(input_signature=[tf.TensorSpec([None, 784], tf.float32), tf.TensorSpec([None, 10], tf.float32)])
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            h = images
            for layer in range(3):
                h = tf.matmul(h, variables[2 * layer]) + variables[2 * layer + 1]
                if layer < 2:
                    h = tf.nn.relu(h)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=h))
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return loss
    images, labels = mnist_batch(30, (784,), 128)
    return train_step, (tf.constant(images), tf.constant(labels))


def build_w8() -> FunctionProgram:
    return FunctionProgram(build_w4(), w8_function)


def build_w3_function() -> FunctionProgram:
    return FunctionProgram(build_w3(), w3_function)


class DataProgram:
    """W9: the W3 step fed by a tf.data pipeline over 60,000 28x28 uint8 images for an epoch, against the
    same steps fed NumPy batches (xlite/bench/data_workload.py times each `*_epoch()` it returns)."""

    N, BATCH = 60000, 128

    def __init__(self):
        rng = np.random.RandomState(9)
        self.images = rng.randint(0, 256, (self.N, 28, 28)).astype(np.uint8)
        self.labels = rng.randint(0, 10, self.N).astype(np.int64)
        self.steps_per_epoch = -(-self.N // self.BATCH)

    @staticmethod
    def normalize(image, label):
        return tf.reshape(tf.cast(image, tf.float32) / 255.0, [784]), tf.one_hot(label, 10)

    def pipeline(self, data):
        return (data.Dataset.from_tensor_slices((self.images, self.labels)).map(self.normalize)
                .shuffle(1000, seed=9).batch(self.BATCH).prefetch(2))

    def get_next_epoch(self, target: str):
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(3)
            iterator = self.pipeline(tf.data).make_initializable_iterator()
            _, train_op = w3_step(*iterator.get_next())
            sess = tf.Session(target=target)
            sess.run(tf.global_variables_initializer())

        def epoch():
            sess.run(iterator.initializer)
            try:
                while True:
                    sess.run(train_op)
            except tf.errors.OutOfRangeError:
                pass
        epoch()                 # compiles (the step, and the last batch's shape)
        return epoch

    def feed_dict_epoch(self, target: str):
        order = np.random.RandomState(9).permutation(self.N)
        xs = (self.images.reshape(self.N, 784)[order] / np.float32(255.0)).astype(np.float32)
        ys = np.eye(10, dtype=np.float32)[self.labels[order]]
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(3)
            x = tf.placeholder(tf.float32, [None, 784], name="images")
            y_ = tf.placeholder(tf.float32, [None, 10], name="labels")
            _, train_op = w3_step(x, y_)
            sess = tf.Session(target=target)
            sess.run(tf.global_variables_initializer())

        def epoch():
            for start in range(0, self.N, self.BATCH):
                sess.run(train_op, {x: xs[start:start + self.BATCH], y_: ys[start:start + self.BATCH]})
        epoch()
        return epoch

    def pipeline_epoch(self):
        from xlite.eager.context import eager_mode
        dataset = self.pipeline(tf.data)

        def epoch():
            with eager_mode():      # Python iteration over a dataset is TF2's, executing eagerly
                for _ in dataset:
                    pass
        epoch()
        return epoch

    def tensorflow_epoch(self):
        import tensorflow as real_tf
        dataset = (real_tf.data.Dataset.from_tensor_slices((self.images, self.labels))
                   .map(lambda image, label: (real_tf.reshape(real_tf.cast(image, real_tf.float32) / 255.0,
                                                              [784]), real_tf.one_hot(label, 10)))
                   .shuffle(1000, seed=9).batch(self.BATCH).prefetch(2))

        def epoch():
            for _ in dataset:
                pass
        epoch()
        return epoch


def build_w9() -> DataProgram:
    return DataProgram()


@dataclass
class EagerProgram:
    """An eager workload (W7): `loop(x)` is the user's Python loop, the same code on an xlite, JAX or TF
    eager tensor; `ops` eager ops per loop; `want()` its value by NumPy in float32."""
    x0: np.ndarray
    steps: int

    @property
    def ops(self) -> int:
        return 2 * self.steps

    def loop(self, x):
        for _ in range(self.steps):
            x = x * 0.5 + 1.0
        return x

    def want(self) -> np.ndarray:
        x = self.x0.copy()
        for _ in range(self.steps):
            x = x * np.float32(0.5) + np.float32(1.0)
        return x


def build_w7() -> EagerProgram:
    """W7: 1,000 small eager ops, `x = x * 0.5 + 1.0` on a [16] float32 tensor."""
    return EagerProgram(np.linspace(-4.0, 4.0, 16, dtype=np.float32), 500)


class KerasProgram:
    """W10: TF's Keras quickstart MLP fit for one epoch of 60,000 28x28 examples, batch 32, against the same
    model's step written with raw ops in a Session (xlite/bench/keras_workload.py times them)."""

    N, BATCH = 60000, 32

    def __init__(self):
        rng = np.random.RandomState(10)
        self.x = rng.randint(0, 256, (self.N, 28, 28)).astype(np.float32) / np.float32(255.0)
        self.y = rng.randint(0, 10, self.N).astype(np.int64)
        self.steps_per_epoch = -(-self.N // self.BATCH)

    @staticmethod
    def model():
        model = tf.keras.models.Sequential([
            tf.keras.layers.Flatten(input_shape=(28, 28)),
            tf.keras.layers.Dense(128, activation="relu"),
            tf.keras.layers.Dropout(0.2),
            tf.keras.layers.Dense(10)])
        model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        return model

    def keras_fit(self, target: str) -> tuple:
        """(wall seconds of the first epoch, compile included; seconds per step of a second epoch)."""
        import time
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(10)
            tf.keras.backend.set_session(tf.Session(target=target, graph=graph))
            start = time.perf_counter()
            model = self.model()
            model.fit(self.x, self.y, batch_size=self.BATCH, epochs=1, shuffle=False, verbose=0)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            model.fit(self.x, self.y, batch_size=self.BATCH, epochs=1, shuffle=False, verbose=0)
            return fit_s, (time.perf_counter() - start) / self.steps_per_epoch

    def session_step(self, target: str, steps: int = 400) -> float:
        """Seconds per step of the same model and Adam in a Session, fed NumPy batches."""
        import time
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(10)
            x = tf.placeholder(tf.float32, [None, 28, 28])
            y = tf.placeholder(tf.int64, [None])
            hidden = tf.layers.dense(tf.reshape(x, [-1, 784]), 128, activation=tf.nn.relu)
            logits = tf.layers.dense(tf.nn.dropout(hidden, rate=0.2), 10)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
            train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
            sess = tf.Session(target=target)
            sess.run(tf.global_variables_initializer())
            batches = [(self.x[i:i + self.BATCH], self.y[i:i + self.BATCH])
                       for i in range(0, steps * self.BATCH, self.BATCH)]
            sess.run([train_op, loss], {x: batches[0][0], y: batches[0][1]})
            start = time.perf_counter()
            for bx, by in batches:
                sess.run([train_op, loss], {x: bx, y: by})
            return (time.perf_counter() - start) / steps


def build_w10() -> KerasProgram:
    return KerasProgram()


WORKLOADS = {w.id: w for w in (
    Workload("W1", "elementwise chain", "x f32[2048,2048]", "bandwidth", build_w1, bytes_moved=32 * MiB),
    Workload("W2", "row-wise softmax", "x f32[4096,1024]", "bandwidth", build_w2, bytes_moved=32 * MiB),
    Workload("W3", "MLP 784-256-256-10 SGD step", "batch 128", "train", build_w3),
    Workload("W4", "add two f32 scalars", "f32[] + f32[]", "overhead", build_w4),
    Workload("W5", "Deep-MNIST CNN SGD step", "batch 32, 28x28x1 NHWC", "train", build_w5),
    Workload("W6", "cold compile of the W3 step", "fresh process, empty/warm cache", "compile", build_w3),
    Workload("W6-aot", "AOT library of the W3 step: load + first step", "fresh process, no LLVM", "aot", build_w3),
    Workload("W6-poly", "W3 step: first run at batch 100 after the cold compile at 128",
             "[None, 784] placeholder, fresh process", "poly", build_w3),
    Workload("W7", "eager dispatch: x = x * 0.5 + 1.0", "1000 eager ops on f32[16], per op", "eager",
             build_w7),
    Workload("W8", "tf.function call: add two f32 scalars", "eager f32[] + f32[] vs W4's sess.run", "function",
             build_w8),
    Workload("W3-fn", "W3's SGD step as a tf.function", "GradientTape + optimizer, batch 128", "function",
             build_w3_function),
    Workload("W9", "tf.data input pipeline feeding the W3 step", "60,000 28x28 u8, map/shuffle/batch 128/prefetch",
             "data", build_w9),
    Workload("W10", "Keras fit: quickstart MLP, one epoch", "60,000 28x28, batch 32, Adam, from_logits",
             "keras", build_w10),
    Workload("W11", "data-parallel W3 step over MPI: 1 vs 2 ranks", "global batch 256, SGD, mpiexec -n 1 / -n 2",
             "distributed", build_w3),
)}
