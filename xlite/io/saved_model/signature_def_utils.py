"""tf.saved_model.signature_def_utils: SignatureDefs, the named inputs and outputs a SavedModel serves.

The prediction, classification and regression signatures carry TF Serving's method names and check
TF Serving's dtype rules (string examples in, float scores out), with TF's error messages.
"""
from __future__ import annotations

from xlite import errors
from xlite.io import protos
from xlite.io.saved_model import signature_constants as sc
from xlite.io.saved_model import utils

_DT_STRING, _DT_FLOAT = 7, 1


def build_signature_def(inputs=None, outputs=None, method_name=None, defaults=None):
    """A SignatureDef of {key: TensorInfo} inputs and outputs, the method name and (Const) defaults."""
    sig = protos.pb().meta_graph_pb2.SignatureDef()
    for key, info in (inputs or {}).items():
        sig.inputs[key].CopyFrom(info)
    for key, info in (outputs or {}).items():
        sig.outputs[key].CopyFrom(info)
    if method_name is not None:
        sig.method_name = method_name
    for key, default in (defaults or {}).items():
        if getattr(getattr(default, "op", None), "type", None) != "Const":
            raise ValueError(f"Unable to convert object {default} of type {type(default)} to TensorProto.")
        sig.defaults[key].CopyFrom(protos.tensor_proto(default.op.get_attr("value")))
    return sig


def predict_signature_def(inputs: dict, outputs: dict):
    """TF Serving's Predict signature: any tensors, by the keys given."""
    if not inputs:
        raise ValueError("Prediction `inputs` cannot be None or empty.")
    if not outputs:
        raise ValueError("Prediction `outputs` cannot be None or empty.")
    return build_signature_def({k: utils.build_tensor_info(t) for k, t in inputs.items()},
                               {k: utils.build_tensor_info(t) for k, t in outputs.items()}, sc.PREDICT_METHOD_NAME)


def regression_signature_def(examples, predictions):
    """TF Serving's Regress signature: serialized tf.Examples (a string tensor) in, float predictions out."""
    if examples is None:
        raise ValueError("Regression `examples` cannot be None.")
    if predictions is None:
        raise ValueError("Regression `predictions` cannot be None.")
    inp, out = utils.build_tensor_info(examples), utils.build_tensor_info(predictions)
    if inp.dtype != _DT_STRING:
        raise ValueError(f"Regression input tensors must be of type string. Found tensors with type {inp.dtype}.")
    if out.dtype != _DT_FLOAT:
        raise ValueError(f"Regression output tensors must be of type float. Found tensors with type {out.dtype}.")
    return build_signature_def({sc.REGRESS_INPUTS: inp}, {sc.REGRESS_OUTPUTS: out}, sc.REGRESS_METHOD_NAME)


def classification_signature_def(examples, classes, scores):
    """TF Serving's Classify signature: string examples in; string classes and/or float scores out."""
    if examples is None:
        raise ValueError("Classification `examples` cannot be None.")
    if classes is None and scores is None:
        raise ValueError("Classification `classes` and `scores` cannot both be None.")
    inp = utils.build_tensor_info(examples)
    if inp.dtype != _DT_STRING:
        raise ValueError(f"Classification input tensors must be of type string. Found tensors of type {inp.dtype}")
    outputs = {}
    if classes is not None:
        outputs[sc.CLASSIFY_OUTPUT_CLASSES] = info = utils.build_tensor_info(classes)
        if info.dtype != _DT_STRING:
            raise ValueError(f"Classification classes must be of type string Tensor. Found tensors of type "
                             f"{info.dtype}.`")
    if scores is not None:
        outputs[sc.CLASSIFY_OUTPUT_SCORES] = info = utils.build_tensor_info(scores)
        if info.dtype != _DT_FLOAT:
            raise ValueError("Classification scores must be a float Tensor.")
    return build_signature_def({sc.CLASSIFY_INPUTS: inp}, outputs, sc.CLASSIFY_METHOD_NAME)


def _supervised(method_name: str, inputs, loss=None, predictions=None, metrics=None):
    if not inputs:
        raise ValueError(f"{method_name} `inputs` cannot be None or empty.")
    outputs = {}
    for group in (loss, predictions, metrics):
        outputs.update({k: utils.build_tensor_info(t) for k, t in (group or {}).items()})
    return build_signature_def({k: utils.build_tensor_info(t) for k, t in inputs.items()}, outputs, method_name)


def supervised_train_signature_def(inputs, loss, predictions=None, metrics=None):
    return _supervised(sc.SUPERVISED_TRAIN_METHOD_NAME, inputs, loss, predictions, metrics)


def supervised_eval_signature_def(inputs, loss, predictions=None, metrics=None):
    return _supervised(sc.SUPERVISED_EVAL_METHOD_NAME, inputs, loss, predictions, metrics)


def is_valid_signature(signature_def) -> bool:
    """Whether TF Serving can serve `signature_def` (predict, classify or regress, with its dtype rules)."""
    if signature_def is None:
        return False
    ins, outs, method = signature_def.inputs, signature_def.outputs, signature_def.method_name
    if method == sc.PREDICT_METHOD_NAME:
        return bool(ins) and bool(outs)
    if method == sc.REGRESS_METHOD_NAME:
        return (set(ins) == {sc.REGRESS_INPUTS} and ins[sc.REGRESS_INPUTS].dtype == _DT_STRING
                and set(outs) == {sc.REGRESS_OUTPUTS} and outs[sc.REGRESS_OUTPUTS].dtype == _DT_FLOAT)
    if method == sc.CLASSIFY_METHOD_NAME:
        allowed = {sc.CLASSIFY_OUTPUT_CLASSES: _DT_STRING, sc.CLASSIFY_OUTPUT_SCORES: _DT_FLOAT}
        return (set(ins) == {sc.CLASSIFY_INPUTS} and ins[sc.CLASSIFY_INPUTS].dtype == _DT_STRING and bool(outs)
                and set(outs) <= set(allowed) and all(outs[k].dtype == allowed[k] for k in outs))
    return False


def op_signature_def(op, key: str):
    """A SignatureDef whose one output names `op` (how the builder records init and train ops)."""
    return build_signature_def(outputs={key: utils.build_tensor_info_from_op(op)})


def load_op_from_signature_def(signature_def, key: str, import_scope: str | None = None):
    """The op (or tensor) an op_signature_def names; NotFoundError as TF's when the graph lacks it."""
    try:
        return utils.get_element_from_tensor_info(signature_def.outputs[key], import_scope=import_scope)
    except KeyError:
        raise errors.NotFoundError(None, None, f'The key "{key}" could not be found in the graph. Please make sure '
                                   "the SavedModel was created by the internal _SavedModelBuilder. If you are using "
                                   "the public API, please make sure the SignatureDef in the SavedModel does not "
                                   f'contain the key "{key}".') from None
