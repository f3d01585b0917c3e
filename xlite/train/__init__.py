"""tf.train: optimizers, the global step and checkpoints (Saver)."""
from __future__ import annotations

from xlite.train.optimizers import (AdagradOptimizer, AdamOptimizer, GradientDescentOptimizer,
                                    MomentumOptimizer, Optimizer, RMSPropOptimizer, create_global_step,
                                    get_global_step, get_or_create_global_step)
from xlite.train.saver import Saver, checkpoint_exists, latest_checkpoint
from xlite.summary.writer import SummaryWriter   # deprecated spelling of tf.summary.FileWriter
