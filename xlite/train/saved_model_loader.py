"""tf.saved_model.loader.load: a SavedModel's MetaGraphDef into a Session's graph, Variables restored.

As TF's SavedModelLoader: pick the MetaGraphDef whose tag set equals the tags asked for, import it
(tf.train.import_meta_graph: the graph, its collections and a Saver from its SaverDef), restore
`variables/variables` through that Saver, then run the init op (the `__saved_model_init_op`
signature, else the main-op or legacy-init-op collection) with each asset tensor fed the path of its
file under `assets/`. TF-written SavedModels load as long as their op types are ones xlite imports.
"""
from __future__ import annotations

import os
from operator import attrgetter

from xlite import tf_logging
from xlite.frontend.graph import GraphKeys
from xlite.io.saved_model import constants, proto, signature_def_utils
from xlite.train.saver import Saver, import_meta_graph


def _scoped(name: str, import_scope: str | None) -> str:
    return f"{import_scope.rstrip('/')}/{name}" if import_scope else name


def get_asset_tensors(export_dir, meta_graph_def, import_scope: str | None = None) -> dict:
    """{asset tensor name: the asset file's path under export_dir/assets}, from the MetaGraphDef's
    asset_file_def or TF 1's `saved_model_assets` collection of packed AssetFileDefs."""
    assets = list(meta_graph_def.asset_file_def)
    if not assets and constants.ASSETS_KEY in meta_graph_def.collection_def:
        from xlite.io import protos
        for packed in meta_graph_def.collection_def[constants.ASSETS_KEY].any_list.value:
            asset = protos.pb().meta_graph_pb2.AssetFileDef()
            packed.Unpack(asset)
            assets.append(asset)
    directory = os.path.join(os.fspath(export_dir), constants.ASSETS_DIRECTORY)
    return {_scoped(a.tensor_info.name, import_scope): os.path.join(directory, a.filename) for a in assets}


def _op_from_collection(graph, meta_graph_def, key: str, import_scope: str | None):
    if key not in meta_graph_def.collection_def:
        return None
    names = meta_graph_def.collection_def[key].node_list.value
    if len(names) != 1:
        raise RuntimeError(f"Expected exactly one SavedModel init op. Found {len(names)}: {list(names)}.")
    return graph.as_graph_element(_scoped(names[0], import_scope))


def get_init_op(graph, meta_graph_def, import_scope: str | None = None):
    """The op to run after restoring: the init-op signature, else the main op, else the legacy init op."""
    if constants.INIT_OP_SIGNATURE_KEY in meta_graph_def.signature_def:
        with graph.as_default():
            return signature_def_utils.load_op_from_signature_def(
                meta_graph_def.signature_def[constants.INIT_OP_SIGNATURE_KEY], constants.INIT_OP_SIGNATURE_KEY,
                import_scope)
    return (_op_from_collection(graph, meta_graph_def, constants.MAIN_OP_KEY, import_scope)
            or _op_from_collection(graph, meta_graph_def, constants.LEGACY_INIT_OP_KEY, import_scope))


class SavedModelLoader:
    """Reads `export_dir`'s SavedModel once; loads any of its MetaGraphDefs into a Session."""

    def __init__(self, export_dir):
        self._export_dir = os.fspath(export_dir)
        self._variables_path = os.path.join(self._export_dir, constants.VARIABLES_DIRECTORY,
                                            constants.VARIABLES_FILENAME)
        self._saved_model = proto.parse_saved_model(self._export_dir)

    export_dir = property(attrgetter("_export_dir"))
    variables_path = property(attrgetter("_variables_path"))
    saved_model = property(attrgetter("_saved_model"))

    def get_meta_graph_def_from_tags(self, tags):
        return proto.meta_graph_with_tags(self._saved_model, tags)

    def load_graph(self, graph, tags, import_scope: str | None = None, **saver_kwargs):
        """Imports the tagged MetaGraphDef into `graph`; (its Saver or None, None) as TF's."""
        meta = self.get_meta_graph_def_from_tags(tags)
        with graph.as_default():
            return import_meta_graph(meta, import_scope=import_scope, **saver_kwargs), None

    def restore_variables(self, sess, saver, import_scope: str | None = None) -> None:
        with sess.graph.as_default():
            if saver is None and not sess.graph.get_collection(GraphKeys.GLOBAL_VARIABLES, import_scope):
                tf_logging.info("The specified SavedModel has no variables; no checkpoints were restored.")
            elif isinstance(saver, Saver):
                saver.restore(sess, self._variables_path)
            else:
                raise ValueError("No tf.train.Saver object was passed to the function "
                                 "`SavedModelLoader.restore_variables`. Since there are variables in the graph, a "
                                 "saver is required.")

    def run_init_ops(self, sess, tags, import_scope: str | None = None) -> None:
        meta = self.get_meta_graph_def_from_tags(tags)
        init_op = get_init_op(sess.graph, meta, import_scope)
        if init_op is not None:
            assets = get_asset_tensors(self._export_dir, meta, import_scope)
            sess.run([init_op], feed_dict={sess.graph.as_graph_element(k): v.encode() for k, v in assets.items()})

    def load(self, sess, tags, import_scope: str | None = None, **saver_kwargs):
        """Loads the MetaGraphDef tagged `tags` into `sess` and returns it."""
        with sess.graph.as_default():
            saver, _ = self.load_graph(sess.graph, tags, import_scope, **saver_kwargs)
            self.restore_variables(sess, saver, import_scope)
            self.run_init_ops(sess, tags, import_scope)
        return self.get_meta_graph_def_from_tags(tags)


def load(sess, tags, export_dir, import_scope: str | None = None, **saver_kwargs):
    """tf.saved_model.loader.load: the MetaGraphDef tagged `tags` (a list of tags, matched as a set)
    from `export_dir`, built into `sess.graph`, its Variables restored; returns that MetaGraphDef."""
    return SavedModelLoader(export_dir).load(sess, tags, import_scope, **saver_kwargs)


def maybe_saved_model_directory(export_dir) -> bool:
    return proto.maybe_saved_model_directory(export_dir)


def contains_saved_model(export_dir) -> bool:
    return proto.maybe_saved_model_directory(export_dir)
