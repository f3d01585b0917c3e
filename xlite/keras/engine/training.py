"""tf.keras.Model: Functional (`Model(inputs, outputs)`) or subclassed (`call`), with compile/fit/evaluate/predict.

The loops here are host-side bookkeeping (batches, callbacks, logs); each step is
one run of a compiled executable made by the step builder of the current mode:
graph_steps.py (a Session run per batch) or eager_steps.py (a tf.function).
"""
from __future__ import annotations

import copy

import numpy as np

from xlite import errors
from xlite.frontend import nest
from xlite.frontend.graph import executing_eagerly
from xlite.keras import callbacks as callbacks_mod
from xlite.keras import optimizers
from xlite.keras.engine import data_adapter, distribution, saving
from xlite.keras.engine.base_layer import Layer
from xlite.keras.engine.compile_utils import LossesContainer, MetricsContainer
from xlite.keras.engine.functional import GraphNetwork


class Model(Layer):
    """Groups layers into an object with training and inference features."""

    _quiet_inside = True

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", args[0] if len(args) > 0 else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        if (inputs is None) != (outputs is None):
            raise ValueError("If your model is Functional, pass both `inputs` and `outputs`.")
        name = kwargs.pop("name", None)
        trainable = kwargs.pop("trainable", True)
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._network = None
        self.optimizer = None
        self.compiled_loss = self.compiled_metrics = None
        self._compiled_loss = self._compiled_metrics = None
        self._steps = None
        self.stop_training = False
        self.history = None
        if inputs is not None:
            self._init_network(inputs, outputs)

    def _init_network(self, inputs, outputs) -> None:
        self._network = GraphNetwork(inputs, outputs)
        for layer in self._network.layers:
            if layer not in self._layers:
                self._layers.append(layer)
        self.built = True
        self._steps = None

    # --- structure -----------------------------------------------------------------------------
    @property
    def weights(self) -> list:
        """Keras' order for a model: each layer's weights in turn (trainable, then the rest), then its own."""
        out: list = []
        for layer in self._flatten_layers():
            out += [w for w in layer.weights if not any(w is o for o in out)]
        return out + [w for w in self._trainable_weights + self._non_trainable_weights
                      if not any(w is o for o in out)]

    variables = weights

    @property
    def inputs(self):
        return None if self._network is None else list(self._network.inputs)

    @property
    def outputs(self):
        return None if self._network is None else list(self._network.outputs)

    @property
    def input_names(self) -> list[str]:
        return [t._keras_history[0].name for t in self._network.inputs] if self._network else []

    @property
    def output_names(self) -> list[str]:
        if self._network is not None:
            names = []
            for t in self._network.outputs:
                name = t._keras_history[0].name
                names.append(name if name not in names else f"{name}_{len(names)}")
            return names
        n = getattr(self, "_n_outputs", 1)
        return [f"output_{i + 1}" for i in range(n)]

    @property
    def layers(self) -> list:
        return list(self._network.layers if self._network is not None else self._flatten_layers())

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name}.")
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    @staticmethod
    def _shapes(tensors: list):
        """Keras' input_shape / output_shape: one shape tuple, or a list of them for several tensors."""
        shapes = [tuple(t.shape.as_list()) for t in tensors]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_shape(self):
        return super().input_shape if self._network is None else self._shapes(self._network.inputs)

    @property
    def output_shape(self):
        return super().output_shape if self._network is None else self._shapes(self._network.outputs)

    def call(self, inputs, training=None, mask=None):
        if self._network is None:
            raise NotImplementedError("Unimplemented `tf.keras.Model.call()`: if you intend to create a `Model` "
                                      "with the Functional API, please provide `inputs` and `outputs` arguments. "
                                      "Otherwise, subclass `Model` with an overridden `call()` method.")
        return self._network.run(inputs)

    def build(self, input_shape) -> None:
        """A subclassed model is built by calling it on placeholders of `input_shape`."""
        if self._network is not None or self.built:
            self.built = True
            return
        if executing_eagerly():
            from xlite.frontend import random_ops
            shapes = input_shape if isinstance(input_shape, list) else [input_shape]
            xs = [random_ops.random_uniform([1 if d is None else d for d in s]) for s in shapes]
        else:
            from xlite.frontend.variables import placeholder
            from xlite.keras import backend
            shapes = input_shape if isinstance(input_shape, list) else [input_shape]
            xs = [placeholder(backend.floatx(), list(s)) for s in shapes]
        self(xs[0] if len(xs) == 1 else xs)
        self.built = True

    def _maybe_build(self, inputs) -> None:
        self.built = True

    # --- compile --------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=None, sample_weight_mode=None, **kwargs) -> None:
        """Resolves the optimizer, the losses and the metrics; the step graphs are built on first use."""
        if kwargs:
            raise TypeError(f"Invalid keyword argument(s) in `compile()`: {tuple(kwargs)}")
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self._compile_specs = (loss, loss_weights, metrics, weighted_metrics)
        self._compiled_loss = self._compiled_metrics = None
        if self._network is not None or hasattr(self, "_n_outputs"):
            self._make_containers()         # else at the first call, when the outputs are known
        self._run_eagerly = run_eagerly
        self._steps = None
        self._distribution_strategy = distribution.current_strategy()     # fit averages gradients over it

    def _make_containers(self) -> None:
        loss, loss_weights, metrics, weighted_metrics = self._compile_specs
        self._compiled_loss = LossesContainer(loss, loss_weights, self.output_names)
        self._compiled_metrics = MetricsContainer(metrics, weighted_metrics, self.output_names, self._compiled_loss)
        self.compiled_loss, self.compiled_metrics = self._compiled_loss, self._compiled_metrics

    def _outputs_known(self, n: int) -> None:
        """A subclassed model's number of outputs is known at its first call: the compiled losses and metrics
        are made again for that many (output_1, output_2, ...), as Keras builds them on first use."""
        stale = self._network is None and n != getattr(self, "_n_outputs", None)
        if stale:
            self._n_outputs = n
        if (stale or self._compiled_loss is None) and getattr(self, "_compile_specs", None) is not None:
            self._make_containers()

    def _step_runner(self):
        if self._steps is None:
            if executing_eagerly():
                from xlite.keras.engine.eager_steps import EagerSteps
                self._steps = EagerSteps(self)
            else:
                from xlite.keras.engine.graph_steps import GraphSteps
                self._steps = GraphSteps(self)
        return self._steps

    def _require_compiled(self) -> None:
        if getattr(self, "_compile_specs", None) is None:
            raise RuntimeError("You must compile your model before training/testing. Use "
                               "`model.compile(optimizer, loss)`.")

    @property
    def metrics(self) -> list:
        if self._compiled_loss is None:
            return []
        return self._compiled_loss.metrics() + (self._compiled_metrics.flat() if self._compiled_metrics else [])

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_states()

    def _build_from_data(self, x) -> None:
        """Subclassed models learn their number of outputs from a first symbolic call (graph_steps)."""

    # --- fit / evaluate / predict ---------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
            max_queue_size=10, workers=1, use_multiprocessing=False):
        """Trains for `epochs` epochs; returns the History (its `history` dict: the epoch-end logs)."""
        self._require_compiled()
        if verbose == "auto":
            verbose = 1
        if validation_split and validation_data is None:
            if data_adapter._is_dataset(x) or hasattr(x, "__next__"):
                raise ValueError("`validation_split` is only supported for Tensors or NumPy arrays")
            (x, y, sample_weight), validation_data = data_adapter.split_validation(x, y, sample_weight,
                                                                                    validation_split)
        data = data_adapter.adapt(x, y, sample_weight, batch_size, shuffle, steps_per_epoch)
        steps = getattr(data, "steps", None)
        cbs = callbacks_mod.configure(callbacks, self, verbose, epochs, steps, do_validation=validation_data
                                      is not None)
        runner = self._step_runner()
        self.stop_training = False
        distribution.synchronize_host_random_state(self)
        cbs.on_train_begin()
        logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            logs = {}
            for step, (bx, by, bw) in enumerate(data.batches()):
                cbs.on_train_batch_begin(step)
                bw = _class_weights(by, bw, class_weight)
                logs = runner.train_step(bx, *_by_output(self, by, bw))
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(logs)
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                vx, vy, vw = data_adapter.unpack(validation_data) if isinstance(validation_data, tuple) else \
                    (validation_data, None, None)
                val = self.evaluate(vx, vy, sample_weight=vw, batch_size=validation_batch_size or batch_size,
                                    steps=validation_steps, verbose=0, return_dict=True, _in_fit=True)
                epoch_logs.update({"val_" + k: v for k, v in val.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        return self.history

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None, callbacks=None,
                 max_queue_size=10, workers=1, use_multiprocessing=False, return_dict=False, _in_fit=False):
        """The loss and metrics over the data: a scalar (no metrics), a list, or a dict with return_dict."""
        self._require_compiled()
        data = data_adapter.adapt(x, y, sample_weight, batch_size, False, steps)
        cbs = callbacks_mod.configure(callbacks, self, verbose, 1, getattr(data, "steps", None), add_history=False,
                                      add_progbar=not _in_fit, _in_fit=_in_fit)
        runner = self._step_runner()
        self.reset_metrics()
        cbs.on_test_begin()
        logs: dict = {}
        for step, (bx, by, bw) in enumerate(data.batches()):
            cbs.on_test_batch_begin(step)
            logs = runner.test_step(bx, *_by_output(self, by, bw))
            cbs.on_test_batch_end(step, logs)
        cbs.on_test_end(logs)
        if return_dict:
            return dict(logs)
        values = [logs[name] for name in self.metrics_names if name in logs]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None, max_queue_size=10, workers=1,
                use_multiprocessing=False):
        """The outputs for every sample, batch by batch, concatenated (NumPy)."""
        data = data_adapter.adapt(x, None, None, batch_size, False, steps)
        cbs = callbacks_mod.configure(callbacks, self, verbose, 1, getattr(data, "steps", None), add_history=False)
        runner = self._step_runner()
        cbs.on_predict_begin()
        chunks = []
        for step, (bx, _, _) in enumerate(data.batches()):
            cbs.on_predict_batch_begin(step)
            chunks.append(runner.predict_step(bx))
            cbs.on_predict_batch_end(step, {"outputs": chunks[-1]})
        cbs.on_predict_end()
        if not chunks:
            raise ValueError("Expected input data to be non-empty.")
        outputs = [np.concatenate([c[i] for c in chunks]) for i in range(len(chunks[0]))]
        return outputs[0] if len(outputs) == 1 else outputs

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, reset_metrics=True,
                       return_dict=False):
        self._require_compiled()
        if reset_metrics:
            self.reset_metrics()
        logs = self._step_runner().train_step(x, *_by_output(self, y, _class_weights(y, sample_weight,
                                                                                   class_weight)))
        return _results(self, logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        self._require_compiled()
        if reset_metrics:
            self.reset_metrics()
        return _results(self, self._step_runner().test_step(x, *_by_output(self, y, sample_weight)), return_dict)

    def predict_on_batch(self, x):
        outputs = self._step_runner().predict_step(x)
        return outputs[0] if len(outputs) == 1 else outputs

    # --- state ----------------------------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False) -> None:
        from xlite.keras.engine.summary import print_summary
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn)

    def save_weights(self, filepath, overwrite=True, save_format=None, options=None) -> None:
        saving.save_weights(self, filepath, save_format)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False, options=None):
        return saving.load_weights(self, filepath, by_name)

    def save(self, filepath, overwrite=True, include_optimizer=True, save_format=None, signatures=None,
             options=None, save_traces=True) -> None:
        saving.save_model(self, filepath, overwrite, include_optimizer, save_format)

    def get_config(self) -> dict:
        if self._network is None:
            raise NotImplementedError("Subclassed models have no config: override `get_config`.")
        from xlite.keras.engine.model_config import functional_config
        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        from xlite.keras.engine.model_config import functional_from_config
        return functional_from_config(cls, config, custom_objects)

    def to_json(self, **kwargs) -> str:
        from xlite.keras.engine.model_config import to_json
        return to_json(self, **kwargs)


def _results(model: Model, logs: dict, return_dict: bool):
    if return_dict:
        return dict(logs)
    values = [logs[name] for name in model.metrics_names if name in logs]
    return values[0] if len(values) == 1 else values


def _by_output(model: Model, y, sample_weight) -> tuple:
    """Targets and sample weights given as dicts keyed by output name, put in the model's output order."""
    names = model.output_names
    if isinstance(y, dict):
        y = [y[n] for n in names]
    if isinstance(sample_weight, dict):
        sample_weight = [sample_weight.get(n) for n in names]
    return y, sample_weight


def _class_weights(y, sample_weight, class_weight):
    """Keras' class_weight: each sample weighs its class's weight (labels as ints, or one-hot argmax), times
    its sample weight."""
    if not class_weight or y is None:
        return sample_weight
    y = np.asarray(nest.flatten(y)[0])
    labels = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y)).astype(np.int64)
    weights = np.array([class_weight.get(int(c), 1.0) for c in labels], np.float32)
    return weights if sample_weight is None else weights * np.asarray(sample_weight, np.float32)


__all__ = ["Model", "copy", "errors"]
