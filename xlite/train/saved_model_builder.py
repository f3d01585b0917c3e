"""tf.saved_model.builder.SavedModelBuilder, simple_save and main_op: writing TF's SavedModel directory.

A SavedModel is `saved_model.pb` (a SavedModel proto: MetaGraphDefs, each tagged and carrying
SignatureDefs), `variables/variables.{index,data-00000-of-00001}` (the Saver's V2 bundle, written once
and shared by every MetaGraphDef) and `assets/` (files the graph names by Const string tensors).
It lives beside the Saver because it is a Saver user: the variables are the Saver's checkpoint and
each MetaGraphDef is the Saver's export_meta_graph plus tags and signatures (xlite/io/saved_model
holds the protos and signature helpers, which need no Saver).
"""
from __future__ import annotations

import os
import shutil

from xlite import tf_logging
from xlite.frontend.graph import GraphKeys, Operation, Tensor, get_default_graph
from xlite.frontend.variables import global_variables_initializer, group, local_variables_initializer
from xlite.io.saved_model import constants, proto, signature_constants, signature_def_utils, tag_constants
from xlite.train.saver import Saver

ASSET_FILEPATHS = "asset_filepaths"    # tf.GraphKeys.ASSET_FILEPATHS


def _validate_tensor_info(info) -> None:
    if info is None:
        raise AssertionError("All TensorInfo protos used in the SignatureDefs must have the name and dtype "
                             "fields set.")
    if info.WhichOneof("encoding") is None:
        raise AssertionError(f"Invalid `tensor_info`: {info}. All TensorInfo protos used in the SignatureDefs "
                             "must have one of the 'encoding' fields (e.g., name or coo_sparse) set.")
    if info.dtype == 0:
        raise AssertionError(f"Invalid `tensor_info`: {info}. All TensorInfo protos used in the SignatureDefs "
                             "must have the dtype field set.")


def _validate_signature_def_map(signature_def_map: dict) -> None:
    for sig in signature_def_map.values():
        for info in list(sig.inputs.values()) + list(sig.outputs.values()):
            _validate_tensor_info(info)
    for key, what in ((constants.INIT_OP_SIGNATURE_KEY, "initialization"), (constants.TRAIN_OP_SIGNATURE_KEY,
                                                                           "the train op")):
        if key in signature_def_map:
            raise KeyError(f'SignatureDef map key "{key}" is reserved for {what}. Please use a different key.')


def _asset_path(tensor) -> str:
    """The file a Const string scalar names (TF's rules and messages for an asset path tensor)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Asset path tensor {tensor} must be a Tensor.")
    if tensor.op.type != "Const":
        raise TypeError(f"Asset path tensor {tensor} must be of type constant.Has type {tensor.op.type} instead.")
    if tensor.dtype.name != "string":
        raise TypeError(f"Asset path tensor {tensor}` must be of dtype string.Has type {tensor.dtype} instead.")
    value = tensor.op.get_attr("value")
    if getattr(value, "shape", None) not in ((), None):
        raise TypeError(f"Asset path tensor {tensor} must be a scalar.")
    value = value.item() if hasattr(value, "item") else value
    return value.decode() if isinstance(value, bytes) else str(value)


class SavedModelBuilder:
    """Builds a SavedModel: the first MetaGraphDef with the Variables' values
    (add_meta_graph_and_variables), more MetaGraphDefs of the same Variables (add_meta_graph), then save()."""

    def __init__(self, export_dir):
        self._export_dir = os.fspath(export_dir)
        if os.path.exists(self._export_dir):
            if os.listdir(self._export_dir):
                raise AssertionError(f"Export directory {self._export_dir} already exists, and isn't empty. Please "
                                     "choose a different export directory, or delete all the contents of the "
                                     "specified directory.")
        else:
            os.makedirs(self._export_dir)
        self._saved_model = proto.new_saved_model()
        self._has_saved_variables = False
        self._saved_asset_files: set[str] = set()

    def _add_main_op(self, graph, main_op) -> None:
        if main_op is None:
            return
        if not isinstance(main_op, Operation):
            raise TypeError(f"Expected {main_op} to be an Operation but got type {type(main_op)} instead.")
        for key in (constants.MAIN_OP_KEY, constants.LEGACY_INIT_OP_KEY):
            if graph.get_collection(key):
                raise ValueError(f"Graph already contains one or more main ops under the collection {key}.")
        graph.add_to_collection(constants.MAIN_OP_KEY, main_op)

    def _write_assets(self, meta, assets_collection) -> None:
        """Copies each asset file into assets/ under its base name and records it as an AssetFileDef."""
        filenames: dict[str, str] = {}
        for tensor in assets_collection or ():
            source = _asset_path(tensor)
            if not source:
                raise ValueError(f"Asset filepath tensor {tensor} in is invalid.")
            name = base = os.path.basename(source)
            i = 1
            while name in filenames and filenames[name] != source:
                name, i = f"{base}_{i}", i + 1
            filenames[name] = source
            asset = meta.asset_file_def.add()
            asset.filename = name
            asset.tensor_info.name = tensor.name
        if not filenames:
            tf_logging.info("No assets to write.")
            return
        directory = os.path.join(self._export_dir, constants.ASSETS_DIRECTORY)
        os.makedirs(directory, exist_ok=True)
        for name, source in filenames.items():
            dest = os.path.join(directory, name)
            if os.path.exists(source) and os.path.abspath(source) != os.path.abspath(dest) \
                    and dest not in self._saved_asset_files:
                shutil.copyfile(source, dest)
                self._saved_asset_files.add(dest)

    def _saver(self, graph, saver) -> Saver | None:
        if saver is not None:
            return saver
        if not graph.get_collection(GraphKeys.GLOBAL_VARIABLES) + graph.get_collection("saveable_objects"):
            return None       # TF's allow_empty Saver: nothing saved, no SaverDef
        with graph.as_default():
            return Saver(sharded=True, allow_empty=True)

    def _add(self, graph, tags, signature_def_map, assets_collection, main_op, saver, sess, clear_devices) -> None:
        signature_def_map = dict(signature_def_map or {})
        _validate_signature_def_map(signature_def_map)
        self._add_main_op(graph, main_op)
        saver = self._saver(graph, saver)
        variables_dir = os.path.join(self._export_dir, constants.VARIABLES_DIRECTORY)
        if sess is not None:
            os.makedirs(variables_dir, exist_ok=True)     # as TF's, even when there is nothing to save
        if sess is not None and saver is not None:
            saver.save(sess, os.path.join(variables_dir, constants.VARIABLES_FILENAME), write_meta_graph=False,
                       write_state=False)
        from xlite.io import meta_graph
        meta = meta_graph.export_meta_graph(graph=graph, saver=saver, clear_devices=clear_devices)
        self._write_assets(meta, assets_collection)
        meta.meta_info_def.tags.extend(tags)
        for key, sig in signature_def_map.items():
            meta.signature_def[key].CopyFrom(sig)
        self._saved_model.meta_graphs.add().CopyFrom(meta)

    def add_meta_graph_and_variables(self, sess, tags, signature_def_map=None, assets_collection=None,
                                     legacy_init_op=None, clear_devices=False, main_op=None,
                                     strip_default_attrs=False, saver=None) -> None:
        """The first MetaGraphDef: `sess.graph` tagged `tags`, and its Variables' values in `sess`."""
        if self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has already been saved. Please "
                                 "invoke `add_meta_graph()` instead.")
        self._add(sess.graph, tags, signature_def_map, assets_collection, main_op or legacy_init_op, saver, sess,
                  clear_devices)
        self._has_saved_variables = True

    def add_meta_graph(self, tags, signature_def_map=None, assets_collection=None, legacy_init_op=None,
                       clear_devices=False, main_op=None, strip_default_attrs=False, saver=None) -> None:
        """Another MetaGraphDef (of the default graph) over the Variables already saved."""
        if not self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has not been saved yet. Please "
                                 "invoke `add_meta_graph_and_variables()` first.")
        main_op = main_op if main_op is not None else legacy_init_op
        self._add(get_default_graph(), tags, signature_def_map, assets_collection, main_op, saver, None,
                  clear_devices)

    def save(self, as_text: bool = False) -> bytes:
        """Writes saved_model.pb (or .pbtxt); returns its path as bytes, as TF does."""
        os.makedirs(self._export_dir, exist_ok=True)
        path = proto.write_saved_model(self._saved_model, self._export_dir, as_text)
        tf_logging.info("SavedModel written to: %s", path)
        return path.encode()


Builder = SavedModelBuilder


def simple_save(session, export_dir, inputs: dict, outputs: dict, legacy_init_op=None) -> None:
    """A serving SavedModel in one call: tag "serve", signature "serving_default" predicting `outputs`
    from `inputs`, the Variables' values in `session`, the graph's asset files."""
    signature_def_map = {signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY:
                         signature_def_utils.predict_signature_def(inputs, outputs)}
    builder = SavedModelBuilder(export_dir)
    builder.add_meta_graph_and_variables(session, tags=[tag_constants.SERVING], signature_def_map=signature_def_map,
                                         assets_collection=session.graph.get_collection(ASSET_FILEPATHS),
                                         main_op=legacy_init_op, clear_devices=True)
    builder.save()


def main_op() -> Operation:
    """tf.saved_model.main_op.main_op: initializes the global and local Variables (xlite has no tables)."""
    return group(global_variables_initializer(), local_variables_initializer())
