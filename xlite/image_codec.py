"""tf.image.encode_png, decode_png and decode_jpeg: host ops, as TF's string tensors are for xlite.

xlite has no string tensors an executable could hold (design: strings stay on the host), so:
- EncodePng compiles like any op (its lowering checks the image and passes its numbers through) and a fetch
  of it turns the computed image into PNG bytes after the run (`host_rule`), as the summary ops do.
- DecodePng / DecodeJpeg decode bytes known when the graph is built (Python bytes, or an EncodePng
  of a constant image is not among them) into a constant of TF's shape and dtype; contents computed by a
  run (a fed or read string) raise UnimplementedError naming the API.
PNG is written and read here with zlib (8 and 16 bits, every colour type, no interlacing on write); JPEG
needs Pillow.
"""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np

from xlite import errors
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import no_gradient
from xlite.frontend.graph import Tensor, executing_eagerly
from xlite.frontend.image_ops import convert_image_dtype
from xlite.frontend.op_registry import lowering, make_op
from xlite.ir import dtypes
from xlite.runtime.fetches import host_rule
from xlite.summary.summary_ops import string

__all__ = ["decode_image", "decode_jpeg", "decode_png", "encode_png", "png_bytes", "png_pixels"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}          # channels -> PNG colour type
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}       # PNG colour type -> channels (3: palette indices)


# PNG bytes ----------------------------------------------------------------------------------------
def png_bytes(image: np.ndarray, compression: int = -1) -> bytes:
    """PNG of one [height, width, channels] uint8 or uint16 NumPy image (filter 0 on every row)."""
    height, width, channels = image.shape
    depth = 16 if image.dtype == np.uint16 else 8
    rows = image.astype(">u2" if depth == 16 else np.uint8).reshape(height, -1).view(np.uint8)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, depth, _COLOR_TYPES[channels], 0, 0, 0)
    return (_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, compression))
            + chunk(b"IEND", b""))


def _chunks(data: bytes):
    pos = len(_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        yield kind, data[pos + 8:pos + 8 + length]
        pos += 12 + length


def _unfilter(raw: np.ndarray, height: int, stride: int, bpp: int) -> np.ndarray:
    """Undoes PNG's per-row filters (None, Sub, Up, Average, Paeth)."""
    rows = raw.reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        cur = line.copy()
        if kind == 2:
            cur = (line + prev) & 0xFF
        elif kind in (1, 3, 4):
            for x in range(0, stride, bpp):
                a = cur[x - bpp:x] if x else np.zeros(bpp, np.int32)
                b = prev[x:x + bpp]
                if kind == 1:
                    pred = a
                elif kind == 3:
                    pred = (a + b) >> 1
                else:
                    c = prev[x - bpp:x] if x else np.zeros(bpp, np.int32)
                    p = a + b - c
                    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
                    pred = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
                cur[x:x + bpp] = (line[x:x + bpp] + pred) & 0xFF
        elif kind != 0:
            raise errors.InvalidArgumentError(None, None, f"Invalid PNG data: unknown row filter {kind}")
        out[y] = cur
        prev = cur
    return out


def png_pixels(data: bytes) -> np.ndarray:
    """[height, width, channels] uint8 or uint16 pixels of a PNG (palette images expand to RGB or RGBA)."""
    if not data.startswith(_SIGNATURE):
        raise errors.InvalidArgumentError(None, None, "Invalid PNG data, size " + str(len(data)))
    chunks = list(_chunks(data))
    header = dict(chunks).get(b"IHDR")
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if interlace or depth not in (1, 2, 4, 8, 16):
        return _pillow_pixels(data, "decode_png of an interlaced PNG")
    raw = np.frombuffer(zlib.decompress(b"".join(d for k, d in chunks if k == b"IDAT")), np.uint8)
    channels = _CHANNELS[color]
    bits = channels * depth
    stride = (width * bits + 7) // 8
    rows = _unfilter(raw, height, stride, max(1, bits // 8))
    if depth == 16:
        pixels = rows.view(">u2").astype(np.uint16).reshape(height, width, channels)
    elif depth == 8:
        pixels = rows.reshape(height, width, channels)
    else:   # packed 1, 2 or 4-bit samples, scaled to 8 bits unless they index a palette
        samples = np.unpackbits(rows, axis=1).reshape(height, -1, depth)[:, :width]
        values = (samples * (1 << np.arange(depth - 1, -1, -1))).sum(-1).astype(np.uint8)
        pixels = (values if color == 3 else values * (255 // ((1 << depth) - 1))).astype(np.uint8)[..., None]
    if color == 3:
        palette = np.frombuffer(dict(chunks)[b"PLTE"], np.uint8).reshape(-1, 3)
        alpha = dict(chunks).get(b"tRNS")
        if alpha is not None:
            full = np.full(len(palette), 255, np.uint8)
            full[:len(alpha)] = np.frombuffer(alpha, np.uint8)
            palette = np.concatenate([palette, full[:, None]], axis=1)
        pixels = palette[pixels[..., 0]]
    return pixels


def _pillow_pixels(data: bytes, what: str) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        raise errors.unimplemented(f"tf.image.{what} needs Pillow (pip install pillow)") from None
    return np.asarray(Image.open(io.BytesIO(data)))


def _to_channels(pixels: np.ndarray, channels: int) -> np.ndarray:
    """TF's `channels`: 0 keeps the file's; 1 is luma of RGB, 3 drops or makes colour, 4 adds opaque alpha
    (8-bit pixels; libpng's 16-bit grey conversion is not reproduced)."""
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    have = pixels.shape[-1]
    if channels in (0, have):
        return pixels
    top = np.iinfo(pixels.dtype).max
    color = pixels[..., :3] if have >= 3 else np.repeat(pixels[..., :1], 3, axis=-1)
    if channels == 1:
        if have < 3:
            return pixels[..., :1]
        # libpng's png_set_rgb_to_gray(0.299, 0.587) as TF calls it: 15-bit fixed point, truncated.
        luma = (color.astype(np.int64) @ np.array([9797, 19234, 3737])) >> 15
        return luma.astype(pixels.dtype)[..., None]
    if channels == 3:
        return color
    alpha = pixels[..., -1:] if have in (2, 4) else np.full(pixels.shape[:-1] + (1,), top, pixels.dtype)
    return np.concatenate([color, alpha], axis=-1)


# graph ops -----------------------------------------------------------------------------------------
@lowering("EncodePng")
def _lower_encode_png(ctx, op, image):
    """The image's numbers; the fetch makes the PNG of them."""
    dims = image.shape.dims
    if len(dims) != 3:
        raise ValueError(f"image must be 3-dimensional, got shape {list(dims)}")
    if dims[2] is not None and dims[2] not in (1, 2, 3, 4):
        raise ValueError(f"image must have 1, 2, 3, or 4 channels, got {dims[2]}")
    return image


@host_rule("EncodePng")
def _png_of(op, image) -> bytes:
    return png_bytes(np.asarray(image), int(op.attrs["compression"]))


@lowering("DecodePng", "DecodeJpeg")
def _lower_decoded(ctx, op):
    """The pixels decoded when the op was made."""
    return ctx.b.constant(op.attrs["_pixels"])


no_gradient("EncodePng", "DecodePng", "DecodeJpeg")


def encode_png(image, compression=-1, name=None) -> Tensor:
    """A scalar string tensor: fetching it gives the PNG bytes of a [height, width, channels] uint8 image
    (channels 1 to 4). xlite's strings live on the host: it can be fetched, not computed on further."""
    if executing_eagerly():
        raise errors.unimplemented("tf.image.encode_png while executing eagerly: xlite's eager tensors hold "
                                   "numbers, not strings; build it in a graph and fetch it with Session.run")
    image = convert_to_tensor(image, name="image")
    if image.dtype != dtypes.uint8:
        raise TypeError(f"Value passed to parameter 'image' has DataType {image.dtype.name} not in list of "
                        f"allowed values: uint8, uint16 (xlite has no uint16)")
    if not -1 <= int(compression) <= 9:
        raise ValueError(f"compression should be in [-1,9], got {compression}")
    op = make_op("EncodePng", [image], {"T": image.dtype, "compression": int(compression)},
                 name=name or "EncodePng", output_shapes=[[]])
    t = op.outputs[0]
    t.dtype, t._static_value = string, None
    return t


def _contents(contents, api: str) -> bytes:
    if isinstance(contents, (bytes, np.bytes_)):
        return bytes(contents)
    if isinstance(contents, np.ndarray) and contents.dtype.kind in "SO" and contents.ndim == 0:
        return bytes(contents[()])
    raise errors.unimplemented(
        f"tf.image.{api} of a tensor: xlite has no string tensors to decode at run time; pass the encoded "
        f"bytes (a Python bytes object, e.g. read with tf.gfile.GFile(path, 'rb').read())")


def _decoded(op_type: str, pixels: np.ndarray, channels: int, dtype, name) -> Tensor:
    pixels = _to_channels(pixels, int(channels))
    if dtypes.as_dtype(dtype) != dtypes.uint8:
        raise errors.unimplemented(f"tf.image decode with dtype {dtype}: xlite decodes to uint8 only (it has no "
                                   f"uint16)")
    dtype = dtypes.uint8
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    return make_op(op_type, [], {"dtype": dtype, "channels": int(channels), "_pixels": pixels},
                   name=name or op_type).outputs[0]


def decode_png(contents, channels=0, dtype=dtypes.uint8, name=None) -> Tensor:
    """[height, width, channels] uint8 pixels of PNG bytes known at graph construction."""
    if int(channels) not in (0, 1, 2, 3, 4):
        raise ValueError(f"channels must be 0, 1, 2, 3 or 4, got {channels}")
    return _decoded("DecodePng", png_pixels(_contents(contents, "decode_png")), channels, dtype, name)


def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True, try_recover_truncated=False,
                acceptable_fraction=1, dct_method="", name=None) -> Tensor:
    """[height, width, channels] uint8 pixels of JPEG bytes known at graph construction, decoded by Pillow's
    libjpeg with the accurate integer DCT: TF's dct_method='INTEGER_ACCURATE' exactly; TF's default (the
    fast DCT) differs from it by a few units in some pixels."""
    if int(channels) not in (0, 1, 3):
        raise ValueError(f"channels must be 0, 1 or 3, got {channels}")
    if ratio != 1:
        raise errors.unimplemented("tf.image.decode_jpeg with ratio != 1 is not supported by xlite")
    pixels = _pillow_pixels(_contents(contents, "decode_jpeg"), "decode_jpeg")
    return _decoded("DecodeJpeg", pixels, channels, dtypes.uint8, name)


def decode_image(contents, channels=None, dtype=dtypes.uint8, name=None, expand_animations=True) -> Tensor:
    """decode_png or decode_jpeg by the file's signature, then convert_image_dtype to `dtype` (TF's rule);
    GIF and BMP, which TF also reads, raise UnimplementedError."""
    data = _contents(contents, "decode_image")
    channels = 0 if channels is None else int(channels)
    if data.startswith(_SIGNATURE):
        image = decode_png(data, channels=channels, name=name)
    elif data.startswith(b"\xff\xd8\xff"):
        image = decode_jpeg(data, channels=channels, name=name)
    else:
        raise errors.unimplemented("tf.image.decode_image of a GIF or BMP (or unknown format): xlite decodes "
                                   "PNG and JPEG")
    return convert_image_dtype(image, dtype)
