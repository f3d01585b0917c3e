"""Event files written by xlite itself (summary/event_file.py): TFRecord framing TensorBoard reads."""
import glob
import os

import pytest

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader  # noqa: E402
from tensorboard.compat.proto import event_pb2  # noqa: E402

from xlite.summary.event_file import EventFileWriter, record  # noqa: E402


def test_records_frame_the_bytes_with_masked_crc32c():
    # the CRCs as tensorboard's own masked_crc32c computes them (CRC32C("abc") = 0x364b3fb7, masked)
    assert record(b"abc") == (b"\x03\x00\x00\x00\x00\x00\x00\x00" + bytes.fromhex("b099490e")
                              + b"abc" + bytes.fromhex("6e57f121"))


def test_events_read_back_with_tensorboard_after_flush_and_close(tmp_path):
    writer = EventFileWriter(str(tmp_path), max_queue=100, flush_secs=1000, filename_suffix=".x",
                             event_pb2=event_pb2)
    for step in range(3):
        writer.add_event(event_pb2.Event(step=step, wall_time=1.0 + step))
    writer.flush()
    (path,) = glob.glob(os.path.join(str(tmp_path), "events.out.tfevents.*.x"))
    read = [event_pb2.Event.FromString(r) for r in RawEventFileLoader(path).Load()]
    assert read[0].file_version == "brain.Event:2"
    assert [e.step for e in read[1:]] == [0, 1, 2]
    writer.add_event(event_pb2.Event(step=7))
    writer.close()
    assert [event_pb2.Event.FromString(r).step for r in RawEventFileLoader(path).Load()][-1] == 7
    assert writer.get_logdir() == str(tmp_path)

