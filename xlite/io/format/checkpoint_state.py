"""The `checkpoint` state file beside a model's checkpoints: TF's CheckpointState proto as text.

TF writes it with protobuf's text format (`model_checkpoint_path: "..."` then one
`all_model_checkpoint_paths: "..."` per kept checkpoint, C-escaped strings; newer TFs add
timestamps). This module writes and reads that form without needing protobuf.
"""
from __future__ import annotations

import dataclasses
import re

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "'": "\\'", "\\": "\\\\"}
_LINE = re.compile(r'^\s*([a-z_]+)\s*:\s*(.*?)\s*$')


@dataclasses.dataclass
class CheckpointState:
    """tf.train.CheckpointState's fields."""
    model_checkpoint_path: str = ""
    all_model_checkpoint_paths: list[str] = dataclasses.field(default_factory=list)
    all_model_checkpoint_timestamps: list[float] = dataclasses.field(default_factory=list)
    last_preserved_timestamp: float = 0.0


def _quote(text: str) -> str:
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def _unquote(token: str) -> str:
    if len(token) < 2 or token[0] not in "\"'" or token[-1] != token[0]:
        raise ValueError(f"expected a quoted string, got {token!r}")
    body, out, i = token[1:-1], bytearray(), 0
    simple = {"n": b"\n", "r": b"\r", "t": b"\t", '"': b'"', "'": b"'", "\\": b"\\", "a": b"\a", "b": b"\b",
              "f": b"\f", "v": b"\v", "?": b"?"}
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8")
            i += 1
            continue
        nxt = body[i + 1:i + 2]
        if nxt in simple:
            out += simple[nxt]
            i += 2
        elif nxt.isdigit():
            digits = re.match(r"[0-7]{1,3}", body[i + 1:])[0]
            out.append(int(digits, 8))
            i += 1 + len(digits)
        elif nxt == "x":
            digits = re.match(r"[0-9a-fA-F]{1,2}", body[i + 2:])[0]
            out.append(int(digits, 16))
            i += 2 + len(digits)
        else:
            raise ValueError(f"bad escape in {token!r}")
    return out.decode("utf-8")


def format_state(state: CheckpointState) -> str:
    lines = [f"model_checkpoint_path: {_quote(state.model_checkpoint_path)}"]
    lines += [f"all_model_checkpoint_paths: {_quote(p)}" for p in state.all_model_checkpoint_paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in state.all_model_checkpoint_timestamps]
    if state.last_preserved_timestamp:
        lines.append(f"last_preserved_timestamp: {state.last_preserved_timestamp!r}")
    return "\n".join(lines) + "\n"


def parse_state(text: str) -> CheckpointState:
    """The state a `checkpoint` file holds; ValueError on anything that is not its text form."""
    state = CheckpointState()
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"cannot parse checkpoint state line {line!r}")
        key, value = match.groups()
        if key == "model_checkpoint_path":
            state.model_checkpoint_path = _unquote(value)
        elif key == "all_model_checkpoint_paths":
            state.all_model_checkpoint_paths.append(_unquote(value))
        elif key == "all_model_checkpoint_timestamps":
            state.all_model_checkpoint_timestamps.append(float(value))
        elif key == "last_preserved_timestamp":
            state.last_preserved_timestamp = float(value)
        else:
            raise ValueError(f"unknown checkpoint state field {key!r}")
    return state
