"""A deterministic Keras setup shared by the graph-mode and eager fit tests, with TensorFlow's numbers for it."""
import numpy as np

# Made with TF 2.21 / Keras 3.15 (/tmp/tfvenv) running exactly `_model` and `_data` below:
# fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history and evaluate(x, y).
TF_HISTORY = {
    "sgd": {"loss": [1.372244954109192, 1.1039741039276123, 1.026832938194275],
            "accuracy": [0.234375, 0.375, 0.453125], "eval": [0.998640239238739, 0.484375]},
    "adam": {"loss": [1.4119908809661865, 1.3066022396087646, 1.2301020622253418],
             "accuracy": [0.234375, 0.28125, 0.34375], "eval": [1.1907989978790283, 0.359375]},
}


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = rng.integers(0, 3, size=64)
    w1 = (rng.normal(size=(5, 8)) * 0.5).astype(np.float32)
    b1 = np.zeros(8, np.float32) + 0.1
    w2 = (rng.normal(size=(8, 3)) * 0.5).astype(np.float32)
    return x, y, [w1, b1, w2, np.zeros(3, np.float32)]
