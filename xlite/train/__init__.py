"""tf.train: optimizers, learning-rate schedules, moving averages, the global step and checkpoints (Saver)."""
from __future__ import annotations

from xlite.train.learning_rate_decay import (cosine_decay, exponential_decay, inverse_time_decay,
                                             natural_exp_decay, piecewise_constant, piecewise_constant_decay,
                                             polynomial_decay)
from xlite.train.moving_averages import ExponentialMovingAverage
from xlite.train.ftrl import FtrlOptimizer
from xlite.train.coordinator import Coordinator, LooperThread, start_queue_runners
from xlite.train.training_util import assert_global_step, global_step
from xlite.train.session_run_hook import SessionRunArgs, SessionRunContext, SessionRunHook, SessionRunValues
from xlite.train.basic_hooks import (CheckpointSaverHook, CheckpointSaverListener, FeedFnHook, FinalOpsHook,
                                     LoggingTensorHook,
                                     NanLossDuringTrainingError, NanTensorHook, SecondOrStepTimer, StepCounterHook,
                                     StopAtStepHook, SummarySaverHook)
from xlite.train.monitored_session import (ChiefSessionCreator, MonitoredSession, MonitoredTrainingSession, Scaffold,
                                           SingularMonitoredSession)
from xlite.train.optimizers import (AdadeltaOptimizer, AdagradOptimizer, AdamOptimizer,
                                    GradientDescentOptimizer, MomentumOptimizer, Optimizer,
                                    ProximalGradientDescentOptimizer, RMSPropOptimizer, create_global_step,
                                    get_global_step, get_or_create_global_step)
from xlite.train.saver import (Saver, checkpoint_exists, export_meta_graph, get_checkpoint_state, import_meta_graph,
                               latest_checkpoint)
from xlite.train.checkpoint_reader import CheckpointReader, NewCheckpointReader
from xlite.train.checkpoint_utils import init_from_checkpoint, list_variables, load_checkpoint, load_variable
from xlite.io.format.checkpoint_state import CheckpointState
from xlite.summary.writer import SummaryWriter   # deprecated spelling of tf.summary.FileWriter
from xlite.io import write_graph


def __getattr__(name):
    if name == "SaverDef":
        from xlite.io import protos
        return protos.pb().saver_pb2.SaverDef     # TF's proto (tensorboard's copy): SaverDef.V1, SaverDef.V2
    raise AttributeError(f"module 'xlite.train' has no attribute {name!r}")
