"""tf.estimator.RunConfig: TF's defaults and argument checks; train_distribute and the session config are kept."""
import pytest

import xlite as tf

RunConfig = tf.estimator.RunConfig


def test_defaults_are_tfs():
    config = RunConfig()
    assert (config.save_checkpoints_secs, config.save_checkpoints_steps) == (600, None)
    assert (config.save_summary_steps, config.log_step_count_steps, config.keep_checkpoint_max) == (100, 100, 5)
    assert config.model_dir is None and config.tf_random_seed is None and config.is_chief


def test_steps_replace_secs_and_both_is_an_error():
    config = RunConfig(save_checkpoints_steps=10, train_distribute="strategy", session_config="cfg")
    assert (config.save_checkpoints_secs, config.save_checkpoints_steps) == (None, 10)
    assert (config.train_distribute, config.session_config) == ("strategy", "cfg")
    with pytest.raises(ValueError, match="cannot be both set"):
        RunConfig(save_checkpoints_steps=10, save_checkpoints_secs=5)
    replaced = config.replace(save_checkpoints_secs=30, model_dir="/tmp/x")
    assert (replaced.save_checkpoints_secs, replaced.save_checkpoints_steps, replaced.model_dir) == (30, None, "/tmp/x")
    with pytest.raises(ValueError, match="not allowed"):
        config.replace(is_chief=False)


def test_estimator_model_dir_rules(tmp_path):
    def model_fn(features, labels, mode):
        return None
    with pytest.raises(ValueError, match="both in constructor and `RunConfig`"):
        tf.estimator.Estimator(model_fn, model_dir=str(tmp_path / "a"), config=RunConfig(model_dir=str(tmp_path)))
    assert tf.estimator.Estimator(model_fn, config=RunConfig(model_dir=str(tmp_path))).model_dir == str(tmp_path)
    assert tf.estimator.Estimator(model_fn).model_dir      # a temporary directory
