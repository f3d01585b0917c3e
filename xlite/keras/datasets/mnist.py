"""tf.keras.datasets.mnist.load_data(): Keras' mnist.npz from ~/.keras/datasets/ (no download in xlite)."""
from __future__ import annotations

import numpy as np

from xlite.keras.utils import get_file


def load_data(path: str = "mnist.npz") -> tuple:
    """((x_train, y_train), (x_test, y_test)) as uint8 images [n, 28, 28] and uint8 labels."""
    path = get_file(path, origin="https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz")
    with np.load(path, allow_pickle=True) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
