"""tf.image.encode_png / decode_png / decode_jpeg: PNG bytes fetched from a run, and PNGs made by TensorFlow
(libpng's adaptive filters) decoded to TF's pixels and channel conversions."""
import base64
import importlib.util
import io

import numpy as np
import pytest

import xlite as tf
from xlite.image_codec import png_pixels

HAVE_PIL = importlib.util.find_spec("PIL") is not None

# Made with TensorFlow 2.21: tf.io.encode_png(image(c)) for c = 1..4 channels (see image() below; pixel
# (2, 3) was then set to PIXEL_2_3[c]), base64; and tf.io.decode_png(PNGS[3], channels=1)[..., 0].
PNGS = {
    1: 'iVBORw0KGgoAAAANSUhEUgAAAAcAAAAGCAAAAAAqZduqAAAAJUlEQVQImWNk4Obm5ubmZlSF0Cyq3NyReyH0dVUIDRPn5ubmBgBj7QQ+SELzpgAAAABJRU5ErkJggg==',
    2: 'iVBORw0KGgoAAAANSUhEUgAAAAcAAAAGCAQAAAClB0z9AAAAJUlEQVQImWNkMOJGAiyqqli4E/1bj3Nzc3Mz5i/Eo5hx52tkLgB2CAjsUpDBQwAAAABJRU5ErkJggg==',
    3: 'iVBORw0KGgoAAAANSUhEUgAAAAcAAAAGCAIAAACAbBMhAAAAL0lEQVQImWNkMErhxgAsqqqq+ESV4ky/7HiIofbSb0kYG9MEVW5ubsadr2UxzQUAcBYN3X/I3Q4AAAAASUVORK5CYII=',
    4: 'iVBORw0KGgoAAAANSUhEUgAAAAcAAAAGCAYAAAAPDoR2AAAAMklEQVQImWNkMEqZxo0DsKiqqqoSJTmjacPSuilphTA+Y/7Cy6wkGgsRYtz5WtYfl04A/P8ROlbIMQcAAAAASUVORK5CYII=',
}
GRAY_OF_RGB = [[40, 51, 62, 73, 84, 95, 106], [77, 88, 99, 110, 121, 132, 143], [114, 125, 136, 208, 158, 169, 180], [151, 162, 173, 184, 195, 177, 188], [188, 170, 181, 192, 203, 214, 75], [196, 207, 68, 79, 90, 101, 112]]
PIXEL_2_3 = {1: [185], 2: [241, 225], 3: [130, 240, 249], 4: [248, 20, 116, 155]}


def image(channels):
    y, x = np.mgrid[0:6, 0:7]
    img = ((y[..., None] * 37 + x[..., None] * 11 + np.arange(channels) * 50) % 256).astype(np.uint8)
    img[2, 3] = PIXEL_2_3[channels]
    return img


@pytest.fixture(autouse=True)
def graph(request):
    if "eager" in request.node.name:
        yield None
        return
    with tf.Graph().as_default() as g:
        yield g


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_decodes_tensorflows_pngs(channels):
    d = tf.image.decode_png(base64.b64decode(PNGS[channels]))
    assert d.dtype == tf.uint8 and d.shape.as_list() == [6, 7, channels] and d.op.type == "DecodePng"
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(d), image(channels))


def test_channel_conversions_are_tfs():
    rgb, ga, rgba = (base64.b64decode(PNGS[c]) for c in (3, 2, 4))
    with tf.Session() as s:
        gray, with_alpha, from_ga, gray_of_rgba = s.run([
            tf.image.decode_png(rgb, channels=1), tf.image.decode_png(rgb, channels=4),
            tf.image.decode_png(ga, channels=3), tf.image.decode_png(rgba, channels=1)])
    np.testing.assert_array_equal(gray[..., 0], GRAY_OF_RGB)       # libpng's fixed-point luma, truncated
    np.testing.assert_array_equal(with_alpha, np.concatenate([image(3), np.full((6, 7, 1), 255, np.uint8)], -1))
    np.testing.assert_array_equal(from_ga, np.repeat(image(2)[..., :1], 3, axis=-1))
    np.testing.assert_array_equal(gray_of_rgba[..., 0], GRAY_OF_RGB[:1] + [
        (np.asarray(image(4)[y, :, :3], np.int64) @ [9797, 19234, 3737] >> 15).tolist() for y in range(1, 6)])


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_encode_png_of_a_computed_image_fetches_bytes(target, channels):
    x = tf.placeholder(tf.float32, [6, 7, channels])
    flipped = tf.image.convert_image_dtype(tf.image.flip_left_right(x), tf.uint8)
    png = tf.image.encode_png(flipped, compression=9)
    assert png.dtype.name == "string" and png.shape.as_list() == [] and png.op.type == "EncodePng"
    value = image(channels).astype(np.float32) / 255
    with tf.Session(target) as s:
        data, pixels = s.run([png, flipped], {x: value})
    assert isinstance(data, bytes) and data.startswith(b"\x89PNG\r\n\x1a\n")
    np.testing.assert_array_equal(png_pixels(data), pixels)
    np.testing.assert_array_equal(pixels, image(channels)[:, ::-1])
    if HAVE_PIL:
        from PIL import Image
        decoded = np.asarray(Image.open(io.BytesIO(data)))
        np.testing.assert_array_equal(decoded.reshape(pixels.shape), pixels)


def test_errors_name_the_api():
    png = tf.image.encode_png(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(tf.errors.UnimplementedError, match="tf.image.decode_png of a tensor"):
        tf.image.decode_png(png)
    with pytest.raises(TypeError, match="uint8"):
        tf.image.encode_png(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(ValueError, match="1, 2, 3, or 4 channels"):
        tf.image.encode_png(np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid PNG data"):
        tf.image.decode_png(b"not a png")


@pytest.mark.skipif(not HAVE_PIL, reason="Pillow makes the palette, interlaced and JPEG files")
def test_palette_interlaced_and_jpeg_through_pillow():
    from PIL import Image
    y, x = np.mgrid[0:16, 0:20]
    img = np.stack([(y * 13 + x * 7) % 256, (x * 19) % 256, (y * x) % 256], -1).astype(np.uint8)
    files = {}
    for kind, save in (("palette", lambda f: Image.fromarray(img[..., 0]).convert("P", palette=Image.ADAPTIVE,
                                                                                   colors=16).save(f, "PNG")),
                       ("interlaced", lambda f: Image.fromarray(img).save(f, "PNG", interlace=1)),
                       ("jpeg", lambda f: Image.fromarray(img).save(f, "JPEG", quality=90))):
        buffer = io.BytesIO()
        save(buffer)
        files[kind] = buffer.getvalue()
    with tf.Session() as s:
        palette, interlaced, jpeg = s.run([tf.image.decode_png(files["palette"]),
                                           tf.image.decode_png(files["interlaced"]),
                                           tf.image.decode_jpeg(files["jpeg"])])
    np.testing.assert_array_equal(palette, np.asarray(Image.open(io.BytesIO(files["palette"])).convert("RGB")))
    np.testing.assert_array_equal(interlaced, img)
    np.testing.assert_array_equal(jpeg, np.asarray(Image.open(io.BytesIO(files["jpeg"]))))
    assert jpeg.shape == (16, 20, 3) and np.abs(jpeg.astype(int) - img).mean() < 16


def test_eager_decode_and_encode():
    from xlite.eager.context import eager_mode
    with eager_mode():
        decoded = tf.image.decode_png(base64.b64decode(PNGS[3]))
        np.testing.assert_array_equal(decoded.numpy(), image(3))
        with pytest.raises(tf.errors.UnimplementedError, match="encode_png while executing eagerly"):
            tf.image.encode_png(image(3))


def test_decode_image_sniffs_the_format_and_converts():
    data = base64.b64decode(PNGS[3])
    with tf.Session() as s:
        as_uint8, as_float = s.run([tf.image.decode_image(data), tf.image.decode_image(data, dtype=tf.float32)])
    np.testing.assert_array_equal(as_uint8, image(3))
    np.testing.assert_allclose(as_float, image(3) * np.float32(1 / 255), rtol=1e-7)
    with pytest.raises(tf.errors.UnimplementedError, match="GIF or BMP"):
        tf.image.decode_image(b"GIF89a....")
