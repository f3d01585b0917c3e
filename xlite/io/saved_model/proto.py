"""The SavedModel message (tensorflow/core/protobuf/saved_model.proto) and `saved_model.pb(txt)` files.

The tensorboard package ships MetaGraphDef (with SignatureDef, TensorInfo, AssetFileDef) but not
SavedModel, which is just `int64 saved_model_schema_version = 1; repeated MetaGraphDef meta_graphs = 2;`.
It is declared here as a protobuf descriptor on top of tensorboard's meta_graph.proto, rather than
hand-encoded like the checkpoint index (io/format/protowire.py), so that the text form
(`saved_model.pbtxt`) parses and prints with protobuf's own text_format like TF's.
"""
from __future__ import annotations

import functools
import os

from xlite import errors
from xlite.io import protos
from xlite.io.saved_model import constants

_FILE = "xlite/io/saved_model/saved_model.proto"


@functools.lru_cache(maxsize=None)
def saved_model_class() -> type:
    """The SavedModel message class (wire-compatible with TF's tensorflow.SavedModel)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    meta_graph_pb2 = protos.pb().meta_graph_pb2
    pool = descriptor_pool.Default()
    try:
        file_desc = pool.FindFileByName(_FILE)
    except KeyError:
        fdp = descriptor_pb2.FileDescriptorProto(name=_FILE, package="xlite.tensorflow", syntax="proto3",
                                                 dependency=[meta_graph_pb2.DESCRIPTOR.name])
        msg = fdp.message_type.add(name="SavedModel")
        field = descriptor_pb2.FieldDescriptorProto
        msg.field.add(name="saved_model_schema_version", number=1, type=field.TYPE_INT64, label=field.LABEL_OPTIONAL)
        msg.field.add(name="meta_graphs", number=2, type=field.TYPE_MESSAGE, label=field.LABEL_REPEATED,
                      type_name="." + meta_graph_pb2.MetaGraphDef.DESCRIPTOR.full_name)
        pool.AddSerializedFile(fdp.SerializeToString())
        file_desc = pool.FindFileByName(_FILE)
    descriptor = file_desc.message_types_by_name["SavedModel"]
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def new_saved_model():
    """An empty SavedModel with TF's schema version."""
    sm = saved_model_class()()
    sm.saved_model_schema_version = constants.SAVED_MODEL_SCHEMA_VERSION
    return sm


def saved_model_path(export_dir: str, as_text: bool) -> str:
    name = constants.SAVED_MODEL_FILENAME_PBTXT if as_text else constants.SAVED_MODEL_FILENAME_PB
    return os.path.join(os.fspath(export_dir), name)


def write_saved_model(saved_model, export_dir: str, as_text: bool = False) -> str:
    """Writes saved_model.pb (deterministic bytes, as TF) or saved_model.pbtxt atomically; returns its path."""
    from google.protobuf import text_format

    from xlite.io.format.atomic import write_atomic
    path = saved_model_path(export_dir, as_text)
    data = text_format.MessageToString(saved_model).encode() if as_text \
        else saved_model.SerializeToString(deterministic=True)
    write_atomic(path, data)
    return path


def maybe_saved_model_directory(export_dir) -> bool:
    """Whether `export_dir` holds a saved_model.pb, .pbtxt or .cpb (TF's check; nothing is read)."""
    export_dir = os.fspath(export_dir)
    return any(os.path.exists(os.path.join(export_dir, n)) for n in (
        constants.SAVED_MODEL_FILENAME_PBTXT, constants.SAVED_MODEL_FILENAME_PB, constants.SAVED_MODEL_FILENAME_CPB))


def parse_saved_model(export_dir):
    """The SavedModel in `export_dir` (saved_model.pb, else saved_model.pbtxt). TF's messages, with TF's
    error classes where TF raises a bare IOError: NotFoundError when neither file is there, DataLossError
    when it does not parse."""
    from google.protobuf import message, text_format
    export_dir = os.fspath(export_dir)
    pb_path, txt_path = saved_model_path(export_dir, False), saved_model_path(export_dir, True)
    sm = saved_model_class()()
    if os.path.exists(pb_path):
        with open(pb_path, "rb") as f:
            raw = f.read()
        try:
            sm.ParseFromString(raw)
        except message.DecodeError as e:
            raise errors.DataLossError(None, None, f"Cannot parse file {pb_path}: {e}.") from e
    elif os.path.exists(txt_path):
        with open(txt_path, "rb") as f:
            raw = f.read()
        try:
            text_format.Parse(raw.decode("utf-8"), sm)
        except text_format.ParseError as e:
            raise errors.DataLossError(None, None, f"Cannot parse file {txt_path}: {e}.") from e
    else:
        raise errors.NotFoundError(None, None, f"SavedModel file does not exist at: {export_dir}{os.path.sep}"
                                   f"{{{constants.SAVED_MODEL_FILENAME_PBTXT}|{constants.SAVED_MODEL_FILENAME_PB}}}")
    return sm


def meta_graph_with_tags(saved_model, tags):
    """The MetaGraphDef whose tag set is exactly `tags`; RuntimeError with TF's message otherwise."""
    if isinstance(tags, str):
        tags = [tags]
    available = []
    for meta in saved_model.meta_graphs:
        available.append(set(meta.meta_info_def.tags))
        if set(meta.meta_info_def.tags) == set(tags):
            return meta
    raise RuntimeError(f"MetaGraphDef associated with tags {str(tags).strip('[]')} could not be found in "
                       f"SavedModel, with available tags '{available}'. To inspect available tag-sets in the "
                       "SavedModel, please use the SavedModel CLI: `saved_model_cli`.")
