"""tf.estimator.Estimator: train / evaluate / predict around a model_fn, each in a fresh graph whose Session,
checkpoints and summaries the Estimator keeps to itself (TF 1.15 / 2.15 semantics).

Every step is one `MonitoredSession.run` of the train op (or the metric updates, or the predictions) with the
hooks' fetches merged in, so it is one compiled executable call; the input_fn's Dataset feeds it through a
one-shot iterator whose `get_next` the Session fills on the host.
"""
from __future__ import annotations

import copy
import inspect
import os
import tempfile

import numpy as np

from xlite import errors, tf_logging
from xlite.data.dataset import Dataset
from xlite.data.iterators import make_one_shot_iterator
from xlite.estimator import export as export_lib
from xlite.estimator.mode_keys import ModeKeys
from xlite.estimator.model_fn import LOSS_METRIC_KEY, EstimatorSpec
from xlite.estimator.run_config import RunConfig
from xlite.estimator import train_distribute
from xlite.frontend.graph import Graph, GraphKeys, get_default_graph
from xlite.frontend.metrics_ops import mean as metric_mean
from xlite.frontend.random_ops import set_random_seed
from xlite.frontend.variables import group, trainable_variables
from xlite.summary import summary_ops
from xlite.summary.writer_cache import FileWriterCache
from xlite.train.basic_hooks import (CheckpointSaverHook, FinalOpsHook, LoggingTensorHook, NanTensorHook,
                                     StopAtStepHook)
from xlite.train.checkpoint_utils import init_from_checkpoint, list_variables, load_checkpoint, load_variable
from xlite.train.monitored_session import (ChiefSessionCreator, MonitoredSession, MonitoredTrainingSession,
                                           Scaffold)
from xlite.train.optimizers import create_global_step
from xlite.train.saver import Saver, latest_checkpoint
from xlite.train.session_run_hook import SessionRunArgs, SessionRunHook


class Estimator:
    """Trains, evaluates and serves the model a `model_fn(features, labels, mode, params, config)` builds."""

    def __init__(self, model_fn, model_dir=None, config=None, params=None, warm_start_from=None):
        if config is not None and not isinstance(config, RunConfig):
            raise ValueError(f"config must be an instance of `RunConfig`, but provided {config}.")
        config = config or RunConfig()
        model_dir = os.fspath(model_dir) if model_dir is not None else None
        if model_dir is not None and config.model_dir is not None and model_dir != config.model_dir:
            raise ValueError(f"`model_dir` are set both in constructor and `RunConfig`, but with different values. "
                             f"In constructor: '{model_dir}', in `RunConfig`: '{config.model_dir}' ")
        model_dir = model_dir or config.model_dir
        if model_dir is None:
            model_dir = tempfile.mkdtemp()
            tf_logging.warning("Using temporary folder as model directory: %s", model_dir)
        self._config = config.replace(model_dir=model_dir) if config.model_dir != model_dir else config
        tf_logging.info("Using config: %s", {k: getattr(self._config, k) for k in (
            "model_dir", "tf_random_seed", "save_summary_steps", "save_checkpoints_steps", "save_checkpoints_secs",
            "keep_checkpoint_max", "log_step_count_steps")})
        self._model_dir = model_dir
        _verify_model_fn_args(model_fn, params)
        self._model_fn = model_fn
        self._params = copy.deepcopy(params or {})
        self._warm_start = _warm_start_settings(warm_start_from)

    model_dir = property(lambda self: self._model_dir)
    config = property(lambda self: copy.deepcopy(self._config))
    params = property(lambda self: copy.deepcopy(self._params))

    @property
    def model_fn(self):
        """The model_fn bound to this Estimator's params: model_fn(features, labels, mode, config), as TF's."""
        def public_model_fn(features, labels, mode, config):
            return self._call_model_fn(features, labels, mode, config)
        return public_model_fn

    # model_dir -------------------------------------------------------------------------------------------
    def latest_checkpoint(self):
        return latest_checkpoint(self._model_dir)

    def eval_dir(self, name=None) -> str:
        """Where evaluate(name=name) writes its summaries."""
        return os.path.join(self._model_dir, "eval" if not name else "eval_" + name)

    def get_variable_names(self) -> list:
        return [name for name, _ in list_variables(self._checkpoint_or_raise())]

    def get_variable_value(self, name: str):
        return load_variable(self._checkpoint_or_raise(), name)

    def _checkpoint_or_raise(self) -> str:
        path = self.latest_checkpoint()
        if path is None:
            raise ValueError(f"Could not find trained model in model_dir: {self._model_dir}.")
        return path

    # train -----------------------------------------------------------------------------------------------
    def train(self, input_fn, hooks=None, steps=None, max_steps=None, saving_listeners=None) -> "Estimator":
        """Runs train_op until input_fn's data ends, `steps` more steps, or global_step reaches max_steps."""
        if steps is not None and max_steps is not None:
            raise ValueError("Can not provide both steps and max_steps.")
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        if max_steps is not None:
            start = _checkpoint_global_step(self._model_dir)
            if start >= max_steps:
                tf_logging.info("Skipping training since max_steps has already saved.")
                return self
        hooks = list(hooks or [])
        if steps is not None or max_steps is not None:
            hooks.append(StopAtStepHook(steps, max_steps))
        loss = self._train_model(input_fn, hooks, list(saving_listeners or []))
        tf_logging.info("Loss for final step: %s.", loss)
        return self

    def _train_model(self, input_fn, hooks, saving_listeners):
        with Graph().as_default() as graph:
            self._seed_graph()
            global_step = create_global_step(graph)
            features, labels, input_hooks = self._features_and_labels(input_fn, ModeKeys.TRAIN)
            with train_distribute.replica_scope(self._config.train_distribute):
                spec = self._call_model_fn(features, labels, ModeKeys.TRAIN)
            self._maybe_warm_start()
            if not any(t.op.name == "loss" for t in graph.get_collection(GraphKeys.SUMMARIES)):
                summary_ops.scalar("loss", spec.loss)
            config = self._config
            worker_hooks = hooks + input_hooks + [NanTensorHook(spec.loss)] + list(spec.training_hooks)
            if config.log_step_count_steps is not None:
                worker_hooks.append(LoggingTensorHook({"loss": spec.loss, "step": global_step},
                                                      every_n_iter=config.log_step_count_steps))
            scaffold = _scaffold_with_saver(spec.scaffold, config)
            chief_hooks = list(spec.training_chief_hooks)
            _add_saver_hook(self._model_dir, config, scaffold, worker_hooks, chief_hooks, saving_listeners)
            loss = None
            with MonitoredTrainingSession(
                    checkpoint_dir=self._model_dir, scaffold=scaffold, hooks=worker_hooks,
                    chief_only_hooks=chief_hooks, save_checkpoint_secs=0,
                    save_summaries_steps=config.save_summary_steps, config=config.session_config,
                    log_step_count_steps=config.log_step_count_steps) as session:
                while not session.should_stop():
                    _, loss = session.run([spec.train_op, spec.loss])
            FileWriterCache.get(self._model_dir).flush()
            return loss

    # evaluate --------------------------------------------------------------------------------------------
    def evaluate(self, input_fn, steps=None, hooks=None, checkpoint_path=None, name=None) -> dict:
        """The eval_metric_ops' values (plus `loss` and `global_step`) over `steps` batches or all of
        input_fn's data, from the latest checkpoint; also written to model_dir/eval[_name] for TensorBoard."""
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        checkpoint_path = checkpoint_path or self.latest_checkpoint()
        with Graph().as_default() as graph:
            self._seed_graph()
            global_step = create_global_step(graph)
            features, labels, input_hooks = self._features_and_labels(input_fn, ModeKeys.EVAL)
            spec = self._call_model_fn(features, labels, ModeKeys.EVAL)
            metrics = dict(spec.eval_metric_ops)
            if LOSS_METRIC_KEY not in metrics:
                metrics[LOSS_METRIC_KEY] = metric_mean(spec.loss)
            update_op = group(*[update for _, update in metrics.values()])
            final_ops = {key: value for key, (value, _) in metrics.items()}
            final_ops[GraphKeys.GLOBAL_STEP] = global_step
            final_hook = FinalOpsHook(final_ops)
            all_hooks = list(hooks or []) + input_hooks + list(spec.evaluation_hooks) + [
                _StopAfterNEvalsHook(steps), final_hook]
            if checkpoint_path is None:
                tf_logging.info("Could not find trained model in model_dir: %s, running initialization to "
                                "evaluate.", self._model_dir)
            tf_logging.info("Starting evaluation")
            scaffold = _scaffold_with_saver(spec.scaffold, self._config)
            creator = ChiefSessionCreator(scaffold=scaffold, checkpoint_filename_with_path=checkpoint_path,
                                          config=self._config.session_config)
            if checkpoint_path is not None:
                tf_logging.info("Restoring parameters from %s", checkpoint_path)
            with MonitoredSession(session_creator=creator, hooks=all_hooks) as session:
                while not session.should_stop():
                    session.run(update_op)
            results = {key: _python_value(v) for key, v in final_hook.final_ops_values.items()}
        tf_logging.info("Finished evaluation")
        tf_logging.info("Saving dict for global step %d: %s", results[GraphKeys.GLOBAL_STEP],
                        ", ".join(f"{k} = {results[k]}" for k in sorted(results)))
        _write_dict_to_summary(self.eval_dir(name), results, results[GraphKeys.GLOBAL_STEP])
        return results

    # predict ---------------------------------------------------------------------------------------------
    def predict(self, input_fn, predict_keys=None, hooks=None, checkpoint_path=None, yield_single_examples=True):
        """Yields the predictions of each example (or each batch) of input_fn's data, from the latest
        checkpoint."""
        checkpoint_path = checkpoint_path or self.latest_checkpoint()
        with Graph().as_default() as graph:
            self._seed_graph()
            create_global_step(graph)
            features, _, input_hooks = self._features_and_labels(input_fn, ModeKeys.PREDICT)
            spec = self._call_model_fn(features, None, ModeKeys.PREDICT)
            predictions = _selected_predictions(spec.predictions, predict_keys)
            if checkpoint_path is None:
                tf_logging.info("Could not find trained model in model_dir: %s, running initialization to "
                                "predict.", self._model_dir)
            scaffold = _scaffold_with_saver(spec.scaffold, self._config)
            creator = ChiefSessionCreator(scaffold=scaffold, checkpoint_filename_with_path=checkpoint_path,
                                          config=self._config.session_config)
            with MonitoredSession(session_creator=creator,
                                  hooks=list(hooks or []) + input_hooks + list(spec.prediction_hooks)) as session:
                while not session.should_stop():
                    values = session.run(predictions)
                    if not yield_single_examples:
                        yield values
                    elif not isinstance(values, dict):
                        yield from values
                    else:
                        rows = _batch_length(values)
                        for i in range(rows):
                            yield {key: value[i] for key, value in values.items()}

    # export ----------------------------------------------------------------------------------------------
    def export_saved_model(self, export_dir_base, serving_input_receiver_fn, assets_extra=None, as_text=False,
                           checkpoint_path=None, experimental_mode=ModeKeys.PREDICT) -> bytes:
        """A SavedModel under export_dir_base/<timestamp> whose signatures serve the PREDICT graph built on
        the receiver's tensors, with the latest checkpoint's Variables; returns its path as bytes."""
        if serving_input_receiver_fn is None:
            raise ValueError("An input_receiver_fn must be defined.")
        checkpoint_path = checkpoint_path or self.latest_checkpoint()
        if checkpoint_path is None:
            raise ValueError(f"Couldn't find trained model at {self._model_dir}.")
        with Graph().as_default() as graph:
            self._seed_graph()
            create_global_step(graph)
            receiver = serving_input_receiver_fn()
            spec = self._call_model_fn(receiver.features, None, experimental_mode)
            return export_lib.write_saved_model(export_dir_base, receiver, spec, checkpoint_path, assets_extra,
                                                as_text)

    export_savedmodel = export_saved_model

    # building the graph ----------------------------------------------------------------------------------
    def _seed_graph(self) -> None:
        if self._config.tf_random_seed is not None:
            set_random_seed(self._config.tf_random_seed)

    def _features_and_labels(self, input_fn, mode):
        """input_fn's (features, labels, hooks): a Dataset's elements through a one-shot iterator."""
        kwargs = {}
        args = _fn_args(input_fn)
        if "params" in args:
            kwargs["params"] = self.params
        if "config" in args:
            kwargs["config"] = self.config
        if "mode" in args:
            kwargs["mode"] = mode
        strategy = self._config.train_distribute if mode == ModeKeys.TRAIN else None
        if "input_context" in args:
            kwargs["input_context"] = train_distribute.input_context(strategy)
        result = train_distribute.shard_input(input_fn(**kwargs), strategy, "input_context" in args)
        hooks = []
        if isinstance(result, Dataset):
            result = make_one_shot_iterator(result).get_next()
        if isinstance(result, (list, tuple)):
            if len(result) != 2:
                raise ValueError("input_fn should return (features, labels) as a len 2 tuple.")
            return result[0], result[1], hooks
        return result, None, hooks

    def _call_model_fn(self, features, labels, mode, config=None) -> EstimatorSpec:
        args = _fn_args(self._model_fn)
        kwargs = {}
        if "labels" in args:
            kwargs["labels"] = labels
        elif labels is not None:
            raise ValueError("model_fn does not take labels, but input_fn returns labels.")
        if "mode" in args:
            kwargs["mode"] = mode
        if "params" in args:
            kwargs["params"] = self.params
        if "config" in args:
            kwargs["config"] = config if config is not None else self.config
        tf_logging.info("Calling model_fn.")
        spec = self._model_fn(features=features, **kwargs)
        tf_logging.info("Done calling model_fn.")
        if not isinstance(spec, EstimatorSpec):
            raise ValueError(f"model_fn should return an EstimatorSpec. Given: {spec}")
        return spec

    def _maybe_warm_start(self) -> None:
        if self._warm_start is None or latest_checkpoint(self._model_dir) is not None:
            return
        tf_logging.info("Warm-starting from: %s", self._warm_start)
        reader = load_checkpoint(self._warm_start)
        init_from_checkpoint(self._warm_start, {v.op.name: v for v in trainable_variables()
                                                if reader.has_tensor(v.op.name)})


def add_metrics(estimator: Estimator, metric_fn) -> Estimator:
    """An Estimator like `estimator` whose evaluation also reports metric_fn's metrics; metric_fn takes any
    of labels, predictions, features, config by name and returns {name: (value, update_op)}."""
    args = set(_fn_args(metric_fn))
    invalid = args - {"labels", "predictions", "features", "config"}
    if invalid:
        raise ValueError(f"metric_fn ({metric_fn}) has following not expected args: {sorted(invalid)}")
    inner = estimator.model_fn

    def model_fn(features, labels, mode, config):
        spec = inner(features, labels, mode, config)
        if mode != ModeKeys.EVAL:
            return spec
        available = {"labels": labels, "predictions": spec.predictions, "features": features, "config": config}
        extra = metric_fn(**{name: available[name] for name in args})
        return spec._replace(eval_metric_ops={**spec.eval_metric_ops, **extra})
    return Estimator(model_fn, model_dir=estimator.model_dir, config=estimator.config,
                     warm_start_from=estimator._warm_start)


class WarmStartSettings:
    """Where to warm-start from: `ckpt_to_initialize_from` (a checkpoint or its directory) for the trainable
    Variables (vars_to_warm_start='.*', the default, is all xlite supports)."""

    def __init__(self, ckpt_to_initialize_from, vars_to_warm_start=".*", var_name_to_vocab_info=None,
                 var_name_to_prev_var_name=None):
        if var_name_to_vocab_info or var_name_to_prev_var_name:
            raise errors.unimplemented("WarmStartSettings(var_name_to_vocab_info / var_name_to_prev_var_name)")
        self.ckpt_to_initialize_from = os.fsdecode(ckpt_to_initialize_from)
        self.vars_to_warm_start = vars_to_warm_start


# helpers ------------------------------------------------------------------------------------------------
class _StopAfterNEvalsHook(SessionRunHook):
    """Stops evaluation after `num_evals` runs (never, when None: the input's end stops it); logs progress."""

    def __init__(self, num_evals):
        self._num_evals, self._evals_completed = num_evals, 0
        self._log_every = max(num_evals // 10, 1) if num_evals else None

    def before_run(self, run_context):
        return SessionRunArgs(None)

    def after_run(self, run_context, run_values):
        self._evals_completed += 1
        if self._num_evals is None:
            return
        if self._evals_completed % self._log_every == 0 or self._evals_completed == self._num_evals:
            tf_logging.info("Evaluation [%d/%d]", self._evals_completed, self._num_evals)
        if self._evals_completed >= self._num_evals:
            run_context.request_stop()


def _add_saver_hook(model_dir, config: RunConfig, scaffold, worker_hooks: list, chief_hooks: list,
                    saving_listeners: list) -> None:
    """TF's rule: a CheckpointSaverHook when the config saves (unless the hooks have one), and the saving
    listeners on the first saver hook (a ValueError without one)."""
    savers = [h for h in worker_hooks + chief_hooks if isinstance(h, CheckpointSaverHook)]
    if (config.save_checkpoints_steps or config.save_checkpoints_secs) and not savers:
        savers = [CheckpointSaverHook(model_dir, save_secs=config.save_checkpoints_secs,
                                      save_steps=config.save_checkpoints_steps, scaffold=scaffold,
                                      save_graph_def=config.checkpoint_save_graph_def)]
        chief_hooks.extend(savers)
    if saving_listeners:
        if not savers:
            raise ValueError("There should be a CheckpointSaverHook to use saving_listeners. Please set one of "
                             "the RunConfig.save_checkpoints_steps or RunConfig.save_checkpoints_secs.")
        savers[0]._listeners.extend(listener for listener in saving_listeners
                                    if listener not in savers[0]._listeners)


def _scaffold_with_saver(scaffold, config: RunConfig) -> Scaffold:
    """The model_fn's Scaffold, given the Estimator's sharded Saver that keeps keep_checkpoint_max files."""
    scaffold = scaffold or Scaffold()
    if scaffold.saver is None and not get_default_graph().get_collection(GraphKeys.SAVERS):
        saver = Saver(sharded=True, max_to_keep=config.keep_checkpoint_max,
                      keep_checkpoint_every_n_hours=config.keep_checkpoint_every_n_hours, defer_build=True,
                      save_relative_paths=True, allow_empty=True)
        scaffold._saver = saver
    return scaffold


def _fn_args(fn) -> tuple:
    """The argument names of a function, a functools.partial or a callable object."""
    try:
        return tuple(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return ()


def _verify_model_fn_args(model_fn, params) -> None:
    args = set(_fn_args(model_fn))
    if "features" not in args:
        raise ValueError(f"model_fn ({model_fn}) must include features argument.")
    if params is not None and "params" not in args:
        raise ValueError(f"model_fn ({model_fn}) does not include params argument, but params ({params}) is "
                         "passed to Estimator.")
    if params is None and "params" in args:
        tf_logging.warning("Estimator's model_fn (%s) includes params argument, but params are not passed to "
                           "Estimator.", model_fn)


def _warm_start_settings(warm_start_from):
    """The checkpoint to warm-start every trainable Variable from: a path or a WarmStartSettings."""
    if warm_start_from is None:
        return None
    if isinstance(warm_start_from, (str, bytes, os.PathLike)):
        path = os.fsdecode(warm_start_from)
        return latest_checkpoint(path) or path
    ckpt = warm_start_from.ckpt_to_initialize_from
    prefix = warm_start_from.vars_to_warm_start
    if not isinstance(prefix, str) or prefix not in (".*", "/"):
        raise errors.unimplemented("WarmStartSettings(vars_to_warm_start=...) other than '.*' (all variables)")
    return latest_checkpoint(ckpt) or ckpt


def _checkpoint_global_step(model_dir: str) -> int:
    path = latest_checkpoint(model_dir)
    if path is None:
        return 0
    return int(load_variable(path, GraphKeys.GLOBAL_STEP))


def _selected_predictions(predictions, predict_keys):
    if predict_keys is None:
        return predictions
    if not isinstance(predictions, dict):
        raise ValueError("predict_keys argument is not valid in case of non-dict predictions.")
    keys = [predict_keys] if isinstance(predict_keys, str) else list(predict_keys)
    missing = [k for k in keys if k not in predictions]
    if missing:
        raise ValueError(f"Expected to run at least one output from {sorted(predictions)}, provided "
                         f"{keys}.")
    return {k: predictions[k] for k in keys}


def _batch_length(values: dict) -> int:
    lengths = {key: (np.shape(v)[0] if np.ndim(v) else None) for key, v in values.items()}
    for key, n in lengths.items():
        if n is None:
            raise ValueError(f"Batch length of predictions should be same. {key} has different batch length "
                             "than others.")
    if len(set(lengths.values())) > 1:
        raise ValueError("Batch length of predictions should be same. " + str(lengths))
    return next(iter(lengths.values()), 0)


def _python_value(value):
    value = np.asarray(value)
    return value.item() if value.ndim == 0 and value.dtype.kind in "fiub" else value


def _write_dict_to_summary(output_dir: str, results: dict, step: int) -> None:
    """The scalar results as simple_value summaries at `step` (what TensorBoard's eval run shows)."""
    try:
        from xlite.summary import Summary
    except ImportError:
        tf_logging.warning("eval summaries not written: TensorBoard's protos are missing")
        return
    summary = Summary()
    for key, value in results.items():
        if key == GraphKeys.GLOBAL_STEP:
            continue
        if isinstance(value, (bool, int, float, np.floating, np.integer)):
            summary.value.add(tag=key, simple_value=float(value))
        else:
            tf_logging.warning("Skipping summary for %s, must be a float or np.float32.", key)
    writer = FileWriterCache.get(output_dir)
    writer.add_summary(summary, step)
    writer.flush()
