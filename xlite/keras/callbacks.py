"""tf.keras.callbacks: the hooks fit/evaluate/predict call, and Keras' own callbacks.

History, ProgbarLogger, EarlyStopping, ModelCheckpoint, LearningRateScheduler,
CSVLogger, LambdaCallback, TerminateOnNaN, ReduceLROnPlateau, TensorBoard (epoch scalars).
"""
from __future__ import annotations

import collections
import csv
import math
import os

import numpy as np

from xlite import errors, tf_logging
from xlite.keras import backend
from xlite.keras.progbar import Progbar


class Callback:
    """The base: every hook is a no-op; `self.model` and `self.params` are set by fit."""

    def __init__(self):
        self.model = None
        self.params: dict = {}
        self.validation_data = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self.model = model

    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs)
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass
    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass


class CallbackList:
    """Calls each hook on every callback in order."""

    def __init__(self, callbacks=None, model=None, **params):
        self.callbacks = list(callbacks or [])
        for c in self.callbacks:
            if model is not None:
                c.set_model(model)
            c.set_params(params)

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)

    def __getattr__(self, hook: str):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        batch_or_epoch = hook not in ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
                                      "on_predict_begin", "on_predict_end")

        def call(*args, logs=None):
            """Every hook gets its logs ({} when there are none), as Keras' CallbackList passes them."""
            n = 1 if batch_or_epoch else 0
            if len(args) > n:
                logs = args[n]
            args, logs = args[:n], {} if logs is None else logs
            for c in self.callbacks:
                getattr(c, hook)(*args, logs)
        return call


class History(Callback):
    """Records each epoch's logs: `history.history['loss']`, `history.epoch`."""

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = getattr(self, "history", None) or {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints `Epoch i/n` and a progress bar per epoch (fit), or one bar (evaluate/predict)."""

    def __init__(self, count_mode: str = "steps", stateful_metrics=None):
        super().__init__()
        self._bar = None
        self._seen = 0

    def _start(self):
        self._bar = Progbar(self.params.get("steps"), verbose=self.params.get("verbose", 1))
        self._seen = 0

    def on_epoch_begin(self, epoch, logs=None):
        if self.params.get("verbose", 1) and self.params.get("epochs", 1) > 0:
            print(f"Epoch {epoch + 1}/{self.params['epochs']}")
        self._start()

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        self._bar.update(self._seen, dict(logs or {}), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        self._bar.target = self._bar.target or self._seen
        self._bar.update(self._seen, dict(logs or {}), finalize=True)

    def on_test_begin(self, logs=None):
        if not self.params.get("_in_fit"):
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self.params.get("_in_fit"):
            self._seen = batch + 1
            self._bar.update(self._seen, dict(logs or {}), finalize=False)

    def on_test_end(self, logs=None):
        if not self.params.get("_in_fit"):
            self._bar.target = self._bar.target or self._seen
            self._bar.update(self._seen, dict(logs or {}), finalize=True)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        self._bar.update(self._seen, None, finalize=False)

    def on_predict_end(self, logs=None):
        self._bar.target = self._bar.target or self._seen
        self._bar.update(self._seen, None, finalize=True)


class LambdaCallback(Callback):
    """Callbacks from plain functions: on_epoch_begin/end(epoch, logs), on_batch_begin/end(batch, logs),
    on_train_begin/end(logs)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        for name, fn in dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                             on_batch_begin=on_batch_begin, on_batch_end=on_batch_end,
                             on_train_begin=on_train_begin, on_train_end=on_train_end, **kwargs).items():
            if fn is not None:
                setattr(self, name, fn)


def _monitor_op(mode: str, monitor: str):
    if mode not in ("auto", "min", "max"):
        tf_logging.warning(f"mode {mode} is unknown, fallback to auto mode.")
        mode = "auto"
    if mode == "max" or (mode == "auto" and ("acc" in monitor or monitor.startswith("fmeasure")
                                             or "auc" in monitor)):
        return np.greater, -np.inf
    return np.less, np.inf


class EarlyStopping(Callback):
    """Stops fit when `monitor` has not improved by `min_delta` for `patience` epochs."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.monitor_op, _ = _monitor_op(mode, monitor)
        self.min_delta = abs(min_delta) * (1 if self.monitor_op is np.greater else -1)
        self.stopped_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_weights, self.best_epoch = 0, 0, None, 0
        self.best = np.inf if self.monitor_op is np.less else -np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            tf_logging.warning(f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                               f"Available metrics are: {','.join(logs or {})}")
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self.monitor_op(current - self.min_delta, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self.monitor_op(current - self.min_delta, self.baseline):
                self.wait = 0
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose > 0:
                    print("Restoring model weights from the end of the best epoch: "
                          f"{self.best_epoch + 1}.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class ModelCheckpoint(Callback):
    """Saves the weights (save_weights_only) or the model after each epoch, or only when `monitor` improves;
    `filepath` may name the epoch and the logs: 'weights.{epoch:02d}-{val_loss:.2f}'."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", options=None, initial_value_threshold=None, **kwargs):
        super().__init__()
        if save_freq != "epoch":
            raise errors.unimplemented("ModelCheckpoint: only save_freq='epoch' is supported by xlite yet")
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.monitor_op, self.best = _monitor_op(mode, monitor)
        if initial_value_threshold is not None:
            self.best = initial_value_threshold

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                tf_logging.warning(f"Can save best model only with {self.monitor} available, skipping.")
                return
            if not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate to schedule(epoch, lr) at the start of each epoch."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = float(backend.get_value(optimizer.learning_rate))
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:           # the old signature: schedule(epoch)
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, int, np.floating, np.integer)):
            raise ValueError(f'The output of the "schedule" function should be float. Got: {lr}')
        backend.set_value(optimizer.learning_rate, float(lr))
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = float(backend.get_value(self.model.optimizer.learning_rate))


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by `factor` when `monitor` stalls for `patience` epochs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0, **kwargs):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Got {factor}")
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr
        self.monitor_op, self.best = _monitor_op(mode, monitor)
        self.wait = self.cooldown_counter = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        lr = float(backend.get_value(self.model.optimizer.learning_rate))
        logs["lr"] = lr
        current = logs.get(self.monitor)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        better = (current < self.best - self.min_delta) if self.monitor_op is np.less else \
            (current > self.best + self.min_delta)
        if better:
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience and lr > self.min_lr:
                new_lr = max(lr * self.factor, self.min_lr)
                backend.set_value(self.model.optimizer.learning_rate, new_lr)
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                self.cooldown_counter, self.wait = self.cooldown, 0


class CSVLogger(Callback):
    """Appends one CSV row per epoch: epoch, then the logs' keys in sorted order."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys = None
        self._file = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._append_header = not exists
        self._file = open(self.filename, "a" if self.append else "w", newline="")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if not hasattr(self, "_writer"):
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self.keys], delimiter=self.sep)
            if self._append_header:
                self._writer.writeheader()
        row = collections.OrderedDict({"epoch": epoch})
        row.update((k, logs.get(k, "NA")) for k in self.keys)
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None
        if hasattr(self, "_writer"):
            del self._writer


class TerminateOnNaN(Callback):
    """Stops training when a batch's loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (math.isnan(loss) or math.isinf(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class TensorBoard(Callback):
    """Writes each epoch's logs as TensorBoard scalars, as Keras does: `epoch_loss`, `epoch_accuracy`, ... at
    step = epoch, in `log_dir/train` and (the `val_` logs, prefix dropped) `log_dir/validation`; in graph mode
    the train writer also gets the graph. Histograms, per-batch updates, profiling and embeddings are not done
    yet (UnimplementedError when asked for)."""

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None, **kwargs):
        super().__init__()
        for name, value, default in (("histogram_freq", histogram_freq, 0), ("update_freq", update_freq, "epoch"),
                                     ("profile_batch", profile_batch, 0), ("embeddings_freq", embeddings_freq, 0),
                                     ("write_images", write_images, False)):
            if value != default:
                raise errors.unimplemented(f"tf.keras.callbacks.TensorBoard({name}={value!r}) is not supported by "
                                           f"xlite yet")
        self.log_dir, self.write_graph = os.fspath(log_dir), write_graph
        self._writers: dict = {}

    def _writer(self, which: str):
        if which not in self._writers:
            from xlite.frontend.graph import executing_eagerly, get_default_graph
            from xlite.summary.writer import FileWriter
            graph = get_default_graph() if which == "train" and self.write_graph and not executing_eagerly() else None
            self._writers[which] = FileWriter(os.path.join(self.log_dir, which), graph=graph)
        return self._writers[which]

    def on_train_begin(self, logs=None):
        self._writer("train")

    def on_epoch_end(self, epoch, logs=None):
        from xlite.summary import encode
        summary_pb2 = encode.protos().summary_pb2
        train, validation = {}, {}
        for k, v in (logs or {}).items():
            (validation if k.startswith("val_") else train)[k[4:] if k.startswith("val_") else k] = v
        for which, values in (("train", train), ("validation", validation)):
            if values:
                summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=f"epoch_{k}", simple_value=float(v))
                                                     for k, v in values.items()])
                self._writer(which).add_summary(summary, epoch)
                self._writer(which).flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


def configure(callbacks, model, verbose: int, epochs: int, steps, add_history: bool = True,
              add_progbar: bool = True, **params) -> CallbackList:
    """fit's CallbackList: the user's callbacks, then the progress bar (verbose) and the model's History."""
    callbacks = list(callbacks or [])
    if add_progbar and verbose:
        callbacks.insert(0, ProgbarLogger())     # first, as Keras puts it
    if add_history:
        model.history = History()
        callbacks.append(model.history)
    return CallbackList(callbacks, model=model, verbose=verbose, epochs=epochs, steps=steps, **params)
