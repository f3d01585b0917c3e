"""tf.keras.estimator.model_to_estimator: an Estimator whose model_fn rebuilds a compiled Keras model in the
Estimator's graph (from its config), starts from the Keras model's current weights, trains with a copy of its
optimizer on its compiled loss, and evaluates its compiled metrics."""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.estimator.estimator import Estimator
from xlite.estimator.mode_keys import ModeKeys
from xlite.estimator.model_fn import EstimatorSpec
from xlite.frontend import nest
from xlite.frontend.convert import constant
from xlite.frontend.graph import GraphKeys, get_default_graph
from xlite.frontend.scopes import control_dependencies
from xlite.frontend.variables import assign, assign_add, group
from xlite.train.optimizers import get_global_step


def _start_from(variables, values) -> None:
    """Each Variable's initializer becomes an assign of the Keras model's value (what TF's first
    checkpoint of a converted model holds); a checkpoint in model_dir, when there is one, wins."""
    for var, value in zip(variables, values):
        graph = var.graph
        with graph.as_default(), graph.control_dependencies(None), graph.name_scope(var.op.name + "/"):
            initial = constant(np.asarray(value, var.dtype.np), name="keras_initial_value")
            var._initializer_op = assign(var, initial, name="keras_initial_assign").op
            var._initial_value = initial


def _as_local(variables) -> None:
    """Metric state is per evaluation: local Variables (initialized each run, never checkpointed)."""
    graph = get_default_graph()
    ids = {id(v) for v in variables}
    global_vars = graph.get_collection_ref(GraphKeys.GLOBAL_VARIABLES)
    global_vars[:] = [v for v in global_vars if id(v) not in ids]
    for v in variables:
        graph.add_to_collection(GraphKeys.LOCAL_VARIABLES, v)


def _model_inputs(model, features):
    if isinstance(features, dict):
        missing = [n for n in model.input_names if n not in features]
        if missing:
            raise KeyError(f"The dictionary passed into features does not have the expected inputs keys defined "
                           f"in the keras model.\n\tExpected keys: {set(model.input_names)}\n\tfeatures keys: "
                           f"{set(features)}\n\tDifference: {set(missing)}")
        inputs = [features[n] for n in model.input_names]
        return inputs[0] if len(inputs) == 1 else inputs
    return features


def _model_targets(model, labels) -> list:
    if isinstance(labels, dict):
        return [labels[n] for n in model.output_names]
    return nest.flatten(labels)


def _keras_model_fn(keras_model, custom_objects):
    config = {"class_name": type(keras_model).__name__, "config": keras_model.get_config()}
    weights = keras_model.get_weights()
    optimizer_config = (type(keras_model.optimizer), keras_model.optimizer.get_config())
    compile_specs = keras_model._compile_specs

    def model_fn(features, labels, mode):
        from xlite.keras.engine.model_config import model_from_config
        model = model_from_config(config, custom_objects)
        loss, loss_weights, metrics, weighted_metrics = compile_specs
        model.compile(optimizer=optimizer_config[0].from_config(optimizer_config[1]), loss=loss,
                      metrics=metrics, loss_weights=loss_weights, weighted_metrics=weighted_metrics)
        outputs = model(_model_inputs(model, features), training=mode == ModeKeys.TRAIN)
        flat = nest.flatten(outputs)
        _start_from(model.weights, weights)
        predictions = dict(zip(model.output_names, flat))
        if mode == ModeKeys.PREDICT:
            return EstimatorSpec(mode, predictions=predictions)
        model._outputs_known(len(flat))
        targets = _model_targets(model, labels)
        regularization = [r() if callable(r) else r for r in model.losses]
        total, _ = model._compiled_loss(targets, flat, [None] * len(flat), regularization)
        if mode == ModeKeys.EVAL:
            updates = model._compiled_metrics.update(targets, flat, [None] * len(flat))
            metric_objects = model._compiled_metrics.flat()
            _as_local([v for m in metric_objects for v in m.weights])
            update_op = group(*updates) if updates else group()
            ops = {m.name: (m.result(), update_op) for m in metric_objects}
            return EstimatorSpec(mode, predictions=predictions, loss=total, eval_metric_ops=ops)
        apply = model.optimizer.minimize(total, var_list=model.trainable_weights)
        with control_dependencies([apply, *model.updates]):
            train_op = assign_add(get_global_step(), constant(np.int64(1))).op
        return EstimatorSpec(mode, predictions=predictions, loss=total, train_op=train_op)
    return model_fn


def model_to_estimator(keras_model=None, keras_model_path=None, custom_objects=None, model_dir=None, config=None,
                       checkpoint_format="checkpoint", metric_names_map=None, export_outputs=None) -> Estimator:
    """An Estimator training, evaluating and predicting with a compiled Keras model (a functional or Sequential
    one: it is rebuilt from its config in each of the Estimator's graphs)."""
    if (keras_model is None) == (keras_model_path is None):
        raise ValueError("Either `keras_model` or `keras_model_path` needs to be provided." if keras_model is None
                         else "Please specity either `keras_model` or `keras_model_path`, but not both.")
    if keras_model_path is not None:
        from xlite.keras.engine.saving import load_model
        keras_model = load_model(keras_model_path, custom_objects=custom_objects)
    if getattr(keras_model, "_network", None) is None:
        raise errors.unimplemented("model_to_estimator of a subclassed Keras model (it has no config to rebuild "
                                   "it from)")
    if getattr(keras_model, "optimizer", None) is None or getattr(keras_model, "_compile_specs", None) is None:
        raise ValueError("The given keras model has not been compiled yet. Please compile the model with "
                         "`model.compile()` before calling `model_to_estimator()`.")
    if metric_names_map or export_outputs:
        raise errors.unimplemented("model_to_estimator(metric_names_map=..., export_outputs=...)")
    return Estimator(_keras_model_fn(keras_model, custom_objects), model_dir=model_dir, config=config)
