"""Callbacks during fit: History, EarlyStopping, ModelCheckpoint, LearningRateScheduler, CSVLogger, Lambda, custom."""
import csv

import numpy as np
import pytest

import xlite as tf

keras = tf.keras


def _setup(lr=0.1):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]])).astype(np.float32)
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])
    model.compile(keras.optimizers.SGD(lr), "mse", metrics=["mae"])
    return model, x, y


def test_custom_callback_sees_every_hook_in_order():
    model, x, y = _setup()
    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append("train_begin")
            assert self.params["epochs"] == 2 and self.params["steps"] == 2

        def on_epoch_begin(self, epoch, logs=None):
            seen.append(f"epoch_begin {epoch}")

        def on_train_batch_end(self, batch, logs=None):
            seen.append(f"batch {batch} {sorted(logs)}")

        def on_epoch_end(self, epoch, logs=None):
            seen.append(f"epoch_end {epoch} {sorted(logs)}")
            assert self.model is model

        def on_train_end(self, logs=None):
            seen.append("train_end")
    model.fit(x, y, batch_size=16, epochs=2, callbacks=[Recorder()], verbose=0)
    assert seen == ["train_begin", "epoch_begin 0", "batch 0 ['loss', 'mae']", "batch 1 ['loss', 'mae']",
                    "epoch_end 0 ['loss', 'mae']", "epoch_begin 1", "batch 0 ['loss', 'mae']",
                    "batch 1 ['loss', 'mae']", "epoch_end 1 ['loss', 'mae']", "train_end"]


def test_early_stopping_stops_and_restores_best_weights():
    model, x, y = _setup(lr=0.0)           # nothing improves: stops after `patience` epochs
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=20, callbacks=[stop], shuffle=False, verbose=0)   # the same loss each epoch
    assert len(history.epoch) == 3 and stop.stopped_epoch == 2 and model.stop_training


def test_learning_rate_scheduler_and_lambda_callback():
    model, x, y = _setup()
    rates = []
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    record = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: rates.append(float(keras.backend.get_value(model.optimizer.lr))))
    history = model.fit(x, y, epochs=3, callbacks=[schedule, record], verbose=0)
    np.testing.assert_allclose(rates, [0.1, 0.05, 0.1 / 3], rtol=1e-6)
    np.testing.assert_allclose(history.history["lr"], rates, rtol=1e-6)


@pytest.mark.slow
def test_model_checkpoint_and_csv_logger(tmp_path):
    model, x, y = _setup()
    path = str(tmp_path / "w.{epoch:02d}")
    log = tmp_path / "log.csv"
    model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
              callbacks=[keras.callbacks.ModelCheckpoint(path, save_weights_only=True),
                         keras.callbacks.CSVLogger(str(log))])
    assert (tmp_path / "w.01.index").exists() and (tmp_path / "w.02.index").exists()
    rows = list(csv.DictReader(open(log)))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert set(rows[0]) == {"epoch", "loss", "mae", "val_loss", "val_mae"}
    final = model.get_weights()
    model.load_weights(str(tmp_path / "w.02"))
    np.testing.assert_array_equal(model.get_weights()[0], final[0])
    best = keras.callbacks.ModelCheckpoint(str(tmp_path / "best"), monitor="val_loss", save_best_only=True,
                                           save_weights_only=True)
    model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[best])
    assert (tmp_path / "best.index").exists()


def test_tensorboard_writes_epoch_scalars(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    model, x, y = _setup()
    model.fit(x, y, epochs=2, validation_data=(x, y), verbose=0,
              callbacks=[keras.callbacks.TensorBoard(str(tmp_path / "logs"))])
    train = EventAccumulator(str(tmp_path / "logs" / "train"))
    train.Reload()
    assert set(train.Tags()["scalars"]) == {"epoch_loss", "epoch_mae"} and train.Tags()["graph"]
    assert [e.step for e in train.Scalars("epoch_loss")] == [0, 1]
    validation = EventAccumulator(str(tmp_path / "logs" / "validation"))
    validation.Reload()
    assert set(validation.Tags()["scalars"]) == {"epoch_loss", "epoch_mae"}
    with pytest.raises(tf.errors.UnimplementedError, match="histogram_freq"):
        keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1)
