"""tf.train: optimizers, learning-rate schedules, moving averages, the global step and checkpoints (Saver)."""
from __future__ import annotations

import importlib

from xlite.train.learning_rate_decay import (cosine_decay, exponential_decay, inverse_time_decay,
                                             natural_exp_decay, piecewise_constant, piecewise_constant_decay,
                                             polynomial_decay)
from xlite.train.moving_averages import ExponentialMovingAverage
from xlite.train.ftrl import FtrlOptimizer
from xlite.train.coordinator import Coordinator, LooperThread, start_queue_runners
from xlite.train.training_util import assert_global_step, global_step
from xlite.train.session_run_hook import SessionRunArgs, SessionRunContext, SessionRunHook, SessionRunValues
from xlite.train.optimizers import (AdadeltaOptimizer, AdagradOptimizer, AdamOptimizer,
                                    GradientDescentOptimizer, MomentumOptimizer, Optimizer,
                                    ProximalGradientDescentOptimizer, RMSPropOptimizer, create_global_step,
                                    get_global_step, get_or_create_global_step)

# tf.train.<name> -> its module, imported on first use: hooks, MonitoredSession, Saver and checkpoints load
# xlite.io and tf.summary's writers, which `import xlite` leaves for later (#18)
_DEFERRED = {
    **dict.fromkeys(("CheckpointSaverHook", "CheckpointSaverListener", "FeedFnHook", "FinalOpsHook",
                     "LoggingTensorHook", "NanLossDuringTrainingError", "NanTensorHook", "SecondOrStepTimer",
                     "StepCounterHook", "StopAtStepHook", "SummarySaverHook"), "xlite.train.basic_hooks"),
    **dict.fromkeys(("ChiefSessionCreator", "MonitoredSession", "MonitoredTrainingSession", "Scaffold",
                     "SingularMonitoredSession"), "xlite.train.monitored_session"),
    **dict.fromkeys(("Saver", "checkpoint_exists", "export_meta_graph", "get_checkpoint_state", "import_meta_graph",
                     "latest_checkpoint"), "xlite.train.saver"),
    **dict.fromkeys(("CheckpointReader", "NewCheckpointReader"), "xlite.train.checkpoint_reader"),
    **dict.fromkeys(("init_from_checkpoint", "list_variables", "load_checkpoint", "load_variable"),
                    "xlite.train.checkpoint_utils"),
    "CheckpointState": "xlite.io.format.checkpoint_state",
    "SummaryWriter": "xlite.summary.writer",      # deprecated spelling of tf.summary.FileWriter
    "write_graph": "xlite.io",
}


def __dir__():
    return sorted(set(globals()) | set(_DEFERRED))


def __getattr__(name):
    if name in _DEFERRED:
        value = getattr(importlib.import_module(_DEFERRED[name]), name)
        globals()[name] = value
        return value
    if name == "SaverDef":
        from xlite.io import protos
        return protos.pb().saver_pb2.SaverDef     # TF's proto (tensorboard's copy): SaverDef.V1, SaverDef.V2
    from xlite.frontend.missing_api import missing_api
    raise missing_api("train", name, "xlite.train")
