"""tf.train.Saver: Variables to checkpoints in TF's V2 format and back, bit-exact and written atomically.

`save` writes `PREFIX.index` and `PREFIX.data-00000-of-00001` (xlite/io/format/bundle.py: TF's
tensor bundle, CRC32C-checked) and, unless told not to, `PREFIX.meta` (the MetaGraphDef,
xlite/io/meta_graph.py). TensorFlow reads what this writes and the reverse. `restore` also reads
xlite's older `PREFIX.xckpt` files (xlite/train/xckpt.py). Every file is written to a temporary
name and renamed into place (xlite/io/format/atomic.py), so a crash never leaves a partial
checkpoint under the real name; the next save removes temporaries that killed saves left.
Beside the checkpoints a `checkpoint` text file (TF's CheckpointState) names the latest ones.
File-system failures raise TF's classes (PermissionDeniedError, FailedPreconditionError, ...).
"""
from __future__ import annotations

import glob
import os
import time

import numpy as np

from xlite import errors, tf_logging
from xlite.frontend.graph import GraphKeys, get_default_graph
from xlite.io.format import bundle
from xlite.io.format.atomic import remove_stale_temp_files, write_atomic
from xlite.io.format.checkpoint_state import CheckpointState, format_state, parse_state
from xlite.semantics.world import is_chief
from xlite.train.checkpoint_reader import CheckpointReader, checkpoint_exists
from xlite.train.xckpt import SUFFIX as LEGACY_SUFFIX

__all__ = ["Saver", "checkpoint_exists", "latest_checkpoint", "get_checkpoint_state", "remove_stale_temp_files"]

V1, V2 = 1, 2     # SaverDef.CheckpointFormatVersion


def get_checkpoint_state(checkpoint_dir: str, latest_filename: str | None = None) -> CheckpointState | None:
    """The `checkpoint` file's state with relative paths made absolute against `checkpoint_dir`, or None."""
    path = os.path.join(checkpoint_dir, latest_filename or "checkpoint")
    if not os.path.exists(path):
        return None
    try:
        with open(path, "rb") as f:
            state = parse_state(f.read().decode("utf-8"))
    except (OSError, ValueError) as e:
        tf_logging.warning("%s: %s", path, e)
        return None
    if not state.model_checkpoint_path:
        return None

    def absolute(p: str) -> str:
        return p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)
    state.model_checkpoint_path = absolute(state.model_checkpoint_path)
    state.all_model_checkpoint_paths = [absolute(p) for p in state.all_model_checkpoint_paths]
    return state


def latest_checkpoint(checkpoint_dir: str, latest_filename: str | None = None) -> str | None:
    """The newest checkpoint the state file names, or None (as TF, also when that file is unreadable)."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not checkpoint_exists(state.model_checkpoint_path):
        return None
    return state.model_checkpoint_path


def _checkpoint_files(prefix: str, meta_graph_suffix: str = "meta") -> list[str]:
    files = [bundle.index_path(prefix), prefix + LEGACY_SUFFIX, f"{prefix}.{meta_graph_suffix}"]
    return [f for f in files if os.path.exists(f)] + glob.glob(glob.escape(prefix) + ".data-?????-of-?????")


class Saver:
    """Saves and restores Variables by their op names (or the names of a var_list dict)."""

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=None, pad_step_number=False, save_relative_paths=False, filename=None):
        if write_version not in (None, V2):
            raise errors.UnimplementedError(None, None, f"checkpoint format version {write_version}: xlite "
                                            "writes TF's V2 format only (SaverDef.V2)")
        graph = get_default_graph()
        if var_list is None:
            var_list = graph.get_collection(GraphKeys.GLOBAL_VARIABLES)
        if isinstance(var_list, dict):
            self._vars = dict(var_list)
        else:
            self._vars = {}
            for v in var_list:
                name_ = v.op.name
                if name_ in self._vars:
                    raise ValueError(f"At least two variables have the same name: {name_}")
                self._vars[name_] = v
        if not self._vars and not allow_empty:
            raise ValueError("No variables to save")
        self._graph = graph
        self._max_to_keep = max_to_keep
        self._keep_every_s = keep_checkpoint_every_n_hours * 3600
        self._next_keep_time = time.time() + self._keep_every_s
        self._save_relative_paths = save_relative_paths
        self._pad_step_number = pad_step_number
        self._sharded = sharded
        self._kept: list[tuple[str, float]] = []
        # The name scope TF's Saver gives its save/restore ops; the MetaGraphDef's SaverDef names them.
        self._scope = saver_def.restore_op_name.rpartition("/")[0] if saver_def is not None \
            else graph.unique_name(name or "save")
        if saver_def is not None:
            self._max_to_keep = saver_def.max_to_keep
            self._keep_every_s = saver_def.keep_checkpoint_every_n_hours * 3600

    @property
    def var_list(self) -> dict:
        return dict(self._vars)

    def saver_def_fields(self) -> dict:
        """The fields of TF's SaverDef for this Saver (the MetaGraphDef's `saver_def`)."""
        return {"filename_tensor_name": f"{self._scope}/Const:0",
                "save_tensor_name": f"{self._scope}/control_dependency:0",
                "restore_op_name": f"{self._scope}/restore_all", "max_to_keep": self._max_to_keep,
                "sharded": self._sharded, "keep_checkpoint_every_n_hours": self._keep_every_s / 3600,
                "version": V2}

    def as_saver_def(self):
        from xlite.io import protos
        return protos.pb().saver_pb2.SaverDef(**self.saver_def_fields())

    to_proto = as_saver_def

    def save(self, sess, save_path: str, global_step=None, latest_filename=None, meta_graph_suffix="meta",
             write_meta_graph=True, write_state=True, strip_default_attrs=False) -> str:
        save_path = os.fspath(save_path)
        if global_step is not None:
            step = global_step if isinstance(global_step, (int, np.integer)) else int(sess.run(global_step))
            save_path = f"{save_path}-{int(step):08d}" if self._pad_step_number else f"{save_path}-{int(step)}"
        directory = os.path.dirname(os.path.abspath(save_path))
        if not os.path.isdir(directory):
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        if not is_chief():          # data-parallel replicas hold the same Variables: rank 0 writes them
            return save_path
        remove_stale_temp_files(directory)
        values = sess.run({name: v for name, v in self._vars.items()})
        bundle.write_bundle(save_path, {name: np.asarray(values[name]) for name in self._vars})
        if write_state:
            self._update_state(save_path, latest_filename, meta_graph_suffix)
        if write_meta_graph:
            try:
                self.export_meta_graph(f"{save_path}.{meta_graph_suffix}", strip_default_attrs=strip_default_attrs)
            except ImportError as e:    # the MetaGraphDef needs protobuf (tensorboard); the checkpoint does not
                tf_logging.warning("checkpoint %s saved without its .meta file: %s", save_path, e)
        return save_path

    def export_meta_graph(self, filename=None, collection_list=None, as_text=False, export_scope=None,
                          clear_devices=False, clear_extraneous_savers=False, strip_default_attrs=False,
                          save_debug_info=False):
        from xlite.io import meta_graph
        return meta_graph.export_meta_graph(filename=filename, graph=self._graph, saver=self,
                                            collection_list=collection_list, as_text=as_text,
                                            clear_devices=clear_devices)

    def _update_state(self, save_path: str, latest_filename, meta_graph_suffix: str) -> None:
        now = time.time()
        self._kept = [(p, t) for p, t in self._kept if p != save_path] + [(save_path, now)]
        if self._max_to_keep:
            while len(self._kept) > self._max_to_keep:
                old, stamp = self._kept.pop(0)
                if stamp > self._next_keep_time:    # keep_checkpoint_every_n_hours: this one stays on disk
                    self._next_keep_time += self._keep_every_s
                    continue
                for f in _checkpoint_files(old, meta_graph_suffix):
                    with errors.os_errors_as_tf(f):
                        os.unlink(f)
        directory = os.path.dirname(os.path.abspath(save_path))
        paths = [p for p, _ in self._kept]
        save_dir = os.path.dirname(save_path)
        if self._save_relative_paths:
            paths = [os.path.relpath(p, directory) if os.path.isabs(p) else os.path.basename(p) for p in paths]
        elif not os.path.isabs(save_dir):     # TF: paths under a relative directory are written relative to it
            paths = [p if os.path.isabs(p) else os.path.relpath(p, save_dir or ".") for p in paths]
        state = CheckpointState(model_checkpoint_path=paths[-1], all_model_checkpoint_paths=paths)
        write_atomic(os.path.join(directory, latest_filename or "checkpoint"), format_state(state).encode())

    def restore(self, sess, save_path: str) -> None:
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        save_path = os.fspath(save_path)
        if not checkpoint_exists(save_path):
            raise ValueError(f"The passed save_path is not a valid checkpoint: {save_path}")
        reader = CheckpointReader(save_path)
        for name, var in self._vars.items():
            if not reader.has_tensor(name):
                raise errors.NotFoundError(None, var.op, f"Key {name} not found in checkpoint {save_path}")
        for name, var in self._vars.items():
            value = reader.get_tensor(name)
            if value.dtype != var.dtype.np or not var.shape.is_compatible_with(list(value.shape)):
                raise errors.InvalidArgumentError(
                    None, var.op, f"Checkpoint value for {name} has dtype {value.dtype} and shape "
                    f"{list(value.shape)}, but the variable is {var.dtype.name} {var.shape.as_list()}: "
                    f"Assign requires shapes of both tensors to match.")
            sess._load_variable(var.op, value)

    @property
    def last_checkpoints(self) -> list[str]:
        return [p for p, _ in self._kept]

    def set_last_checkpoints(self, last_checkpoints: list[str]) -> None:
        self._kept = [(p, time.time()) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time) -> None:
        self._kept = [(p, t) for p, t in last_checkpoints_with_time]

    def recover_last_checkpoints(self, checkpoint_paths: list[str]) -> None:
        self.set_last_checkpoints([p for p in checkpoint_paths if checkpoint_exists(p)])


def export_meta_graph(filename=None, meta_info_def=None, graph_def=None, saver_def=None, collection_list=None,
                      as_text=False, graph=None, export_scope=None, clear_devices=False,
                      clear_extraneous_savers=False, strip_default_attrs=False, save_debug_info=False, **kwargs):
    """tf.train.export_meta_graph: the default graph (or `graph`) with its collections, to `filename`."""
    from xlite.io import meta_graph
    graph = graph or get_default_graph()
    savers = [s for s in graph.get_collection(GraphKeys.SAVERS) if isinstance(s, Saver)]
    return meta_graph.export_meta_graph(filename=filename, graph=graph, saver=savers[0] if savers else None,
                                        collection_list=collection_list, as_text=as_text)


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None, **kwargs):
    """tf.train.import_meta_graph: builds the MetaGraphDef's graph into the default graph, refills its
    collections and returns a Saver built from its SaverDef (None when it has none), so that
    `saver.restore(sess, prefix)` loads the checkpoint the .meta file sits beside."""
    from xlite.io import meta_graph
    meta = meta_graph_or_file
    if isinstance(meta_graph_or_file, (str, os.PathLike)):
        meta = meta_graph.read_meta_graph_file(meta_graph_or_file)
    meta_graph.import_meta_graph_def(meta, import_scope)
    if not meta.HasField("saver_def"):
        if get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES):
            return Saver()
        tf_logging.info("Saver not created because there are no variables in the graph to restore")
        return None
    var_list = None
    if import_scope:     # the checkpoint's keys are the names the variables had before the scope
        prefix = import_scope.rstrip("/") + "/"
        var_list = {v.op.name[len(prefix):]: v for v in get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES)
                    if v.op.name.startswith(prefix)}
    return Saver(var_list=var_list, saver_def=meta.saver_def, allow_empty=True)
