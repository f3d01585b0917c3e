"""tf.keras on xlite: layers build frontend ops, fit runs one compiled step per batch.

Graph mode (TF1's default): models build into the default graph and run in
`tf.keras.backend.get_session()`; Keras layers mix with tf.layers and raw ops.
While executing eagerly, fit runs a tf.function-compiled step.
"""
from __future__ import annotations

from xlite.keras import (activations, backend, callbacks, constraints, datasets, initializers, layers, losses,
                         metrics, models, optimizers, regularizers, utils)
from xlite.keras.engine.input_layer import Input
from xlite.keras.engine.sequential import Sequential
from xlite.keras.engine.training import Model

__version__ = "2.15.0"

__all__ = ["Input", "Model", "Sequential", "activations", "backend", "callbacks", "constraints", "datasets",
           "initializers", "layers", "losses", "metrics", "models", "optimizers", "regularizers", "utils"]
