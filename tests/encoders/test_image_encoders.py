"""Image reading (modes, corrupt files) and the EfficientNet-Lite0 and pixel encoders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmgraph.encoders import EfficientNetLite0Encoder, Encoder, EncodingError, PixelEncoder
from mmgraph.encoders.image import load_image, to_rgb


def _gradient(size: tuple[int, int] = (40, 32)) -> np.ndarray:
    width, height = size
    x = np.linspace(0, 255, width)[None, :, None]
    y = np.linspace(0, 255, height)[:, None, None]
    return np.concatenate([x + 0 * y, y + 0 * x, 255 - x + 0 * y], axis=2).astype(np.uint8)


def _write_modes(directory: Path) -> dict[str, Path]:
    """One file per awkward mode or format; returns {description: path}."""
    rgb = Image.fromarray(_gradient())
    files: dict[str, Image.Image | None] = {}
    files["palette.png"] = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    transparent = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    transparent.info["transparency"] = 0
    files["palette_transparent.png"] = transparent
    rgba = rgb.convert("RGBA")
    rgba.putalpha(Image.fromarray(np.tile(np.linspace(0, 255, 40, dtype=np.uint8), (32, 1))))
    files["rgba.png"] = rgba
    files["la.png"] = rgba.convert("LA")
    files["gray.png"] = rgb.convert("L")
    files["bilevel.png"] = rgb.convert("1")
    files["gray16.png"] = Image.fromarray(np.asarray(rgb.convert("L"), np.uint16) * 257)
    files["int32.tif"] = Image.fromarray(np.asarray(rgb.convert("L"), np.int32) * 257)
    files["float.tif"] = Image.fromarray(np.asarray(rgb.convert("L"), np.float32) / 255)
    files["cmyk.jpg"] = rgb.convert("CMYK")
    files["cmyk.tiff"] = rgb.convert("CMYK")
    files["photo.jpeg"] = rgb
    files["bitmap.bmp"] = rgb
    files["lossless.webp"] = rgba
    paths = {}
    for name, image in files.items():
        path = directory / name
        image.save(path, **({"lossless": True} if name.endswith("webp") else {}))
        paths[name] = path
    frames = [rgb, Image.fromarray(255 - _gradient())]
    frames[0].save(directory / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    paths["anim.gif"] = directory / "anim.gif"
    return paths


@pytest.fixture()
def mode_files(tmp_path: Path) -> dict[str, Path]:
    return _write_modes(tmp_path)


def test_every_mode_reads_as_rgb(mode_files):
    for name, path in mode_files.items():
        image = load_image(path, size=24)
        assert image.mode == "RGB" and image.size == (24, 24), name
        pixels = np.asarray(image)
        assert pixels.std() > 5, f"{name} lost its content"


def test_transparency_is_composited_on_white():
    clear = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    assert (np.asarray(to_rgb(clear)) == 255).all()
    half = Image.new("RGBA", (8, 8), (0, 0, 0, 128))
    assert np.abs(np.asarray(to_rgb(half)).astype(int) - 127).max() <= 1
    palette = Image.new("P", (8, 8), 3)
    palette.info["transparency"] = 3
    assert (np.asarray(to_rgb(palette)) == 255).all()


def test_sixteen_bit_and_cmyk_scale_correctly():
    gray16 = Image.fromarray(np.array([[0, 32896, 65535]], dtype=np.uint16))
    assert gray16.mode == "I;16"
    assert np.asarray(to_rgb(gray16))[0, :, 0].tolist() == [0, 128, 255]
    as_int = Image.fromarray(np.array([[0, 65535]], dtype=np.int32))
    assert np.asarray(to_rgb(as_int))[0, :, 1].tolist() == [0, 255]
    white = Image.new("CMYK", (2, 2), (0, 0, 0, 0))
    assert (np.asarray(to_rgb(white)) == 255).all()


def test_resize_keeps_the_centre_square(tmp_path):
    wide = Image.new("RGB", (300, 100), (255, 0, 0))
    wide.paste((0, 0, 255), (100, 0, 200, 100))  # a blue middle third
    wide.save(tmp_path / "wide.png")
    pixels = np.asarray(load_image(tmp_path / "wide.png", size=10))
    assert (pixels[..., 2] > 200).all() and (pixels[..., 0] < 60).all()


@pytest.mark.parametrize(
    ("content", "suffix", "reason"),
    [
        (b"", ".png", "the file is empty"),
        (np.random.default_rng(0).bytes(2000), ".png", "not an image file that Pillow can read"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", ".svg", "not an image file"),
        ("truncated", ".png", "corrupt or truncated"),
    ],
)
def test_unreadable_images_name_the_sample(tmp_path, pictures, content, suffix, reason):
    bad = tmp_path / f"bad{suffix}"
    if content == "truncated":
        good = Path(pictures[0]).read_bytes()
        content = good[: len(good) // 2]
    bad.write_bytes(content)
    encoder = PixelEncoder(dim=2).fit(pictures)
    with pytest.raises(EncodingError) as err:
        encoder.encode([pictures[0], str(bad)])
    message = str(err.value)
    assert "sample 1" in message and "bad" + suffix in message and reason in message
    assert err.value.index == 1


def test_missing_image_names_the_sample(pictures):
    with pytest.raises(EncodingError, match=r"sample 4 .*no such file"):
        PixelEncoder(dim=2).fit([*pictures, "missing.png"])


def test_pixels_fit_encode_save_load(pictures, tmp_path):
    encoder = PixelEncoder(size=8, dim=3).fit(pictures)
    out = encoder.encode(pictures)
    assert out.shape == (4, 3) and out.dtype == np.float32 and np.isfinite(out).all()
    assert np.array_equal(out, encoder.encode(pictures))
    assert PixelEncoder(size=8, dim=100).fit(pictures).dim == 4  # clamped to the corpus
    encoder.save(tmp_path / "pixels")
    loaded = Encoder.load(tmp_path / "pixels")
    assert loaded.fingerprint() == encoder.fingerprint()
    assert np.array_equal(loaded.encode(pictures), out)


def test_pixels_encode_every_mode(mode_files):
    paths = [str(p) for p in mode_files.values()]
    out = PixelEncoder(size=16, dim=8).fit(paths).encode(paths)
    assert out.shape == (len(paths), 8) and np.isfinite(out).all()


def test_efficientnet_shape_dtype_determinism(efficientnet, pictures):
    out = efficientnet.encode(pictures)
    assert out.shape == (4, 1280) and out.dtype == np.float32 and np.isfinite(out).all()
    assert np.array_equal(out, efficientnet.encode(pictures))
    assert np.abs(out[0] - out[1]).max() > 0  # different pictures, different features


def test_efficientnet_batches_agree(efficientnet, pictures):
    whole = efficientnet.encode(pictures)
    one_by_one = EfficientNetLite0Encoder(batch_size=1).encode(pictures)
    np.testing.assert_allclose(whole, one_by_one, rtol=1e-4, atol=1e-4)


def test_efficientnet_encodes_palette_alpha_and_16_bit(efficientnet, mode_files):
    names = ["palette_transparent.png", "rgba.png", "gray16.png", "cmyk.jpg", "anim.gif"]
    out = efficientnet.encode([str(mode_files[n]) for n in names])
    assert out.shape == (5, 1280) and np.isfinite(out).all()


def test_efficientnet_transparent_image_equals_white(efficientnet, tmp_path):
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    Image.new("RGB", (50, 50), (255, 255, 255)).save(tmp_path / "white.png")
    out = efficientnet.encode([str(tmp_path / "clear.png"), str(tmp_path / "white.png")])
    assert np.array_equal(out[0], out[1])


def test_efficientnet_save_load(efficientnet, pictures, tmp_path):
    efficientnet.save(tmp_path / "effnet")
    loaded = Encoder.load(tmp_path / "effnet")
    assert loaded.fingerprint() == efficientnet.fingerprint()
    assert np.array_equal(loaded.encode(pictures[:1]), efficientnet.encode(pictures[:1]))
    other = EfficientNetLite0Encoder(normalization="imagenet")
    assert other.fingerprint() != efficientnet.fingerprint()
