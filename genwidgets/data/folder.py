"""Load a folder of image files (flat, or one subfolder per class) into memory with Pillow."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..bounds import env_limit
from ..errors import DataError
from .base import TensorData

#: File extensions read as images (case-insensitive).
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"})
#: Pillow modes that hold no colour.
GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_EXT_LIST = ", ".join(sorted(IMAGE_EXTENSIONS))
#: Most pixels one image file may have, read from its header before it is decoded (a JPEG is
#: first reduced towards ``image_size`` by its decoder, so large photos pass when it is given).
#: Raise it with ``max_image_pixels=`` or the environment variable below.
MAX_IMAGE_PIXELS = 4096 * 4096
#: Most bytes a folder may take once decoded to float32 ``(N, C, H, W)`` (what training holds in
#: memory); checked before the images are stacked. Raise it with ``max_data_bytes=`` or the
#: environment variable below, or pass a smaller ``image_size``.
MAX_DATA_BYTES = 4 * 2**30
ENV_MAX_IMAGE_PIXELS = "GENWIDGETS_MAX_IMAGE_PIXELS"
ENV_MAX_DATA_BYTES = "GENWIDGETS_MAX_DATA_BYTES"


ImageSize = int | tuple[int, int]


def size_hw(image_size: ImageSize) -> tuple[int, int]:
    """``image_size`` as ``(height, width)``; a DataError if it is not one or two positive ints."""
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    valid = all(isinstance(s, int | np.integer) and not isinstance(s, bool) and s > 0 for s in size)
    if len(size) != 2 or not valid:
        raise DataError(f"image_size must be a positive int or (height, width), got {image_size!r}")
    return int(size[0]), int(size[1])


def limit_from(given: int | None, env: str, default: int) -> int:
    """The limit to apply: ``given`` if set, else the environment variable ``env``, else ``default``.

    Raises:
        DataError: ``given`` or the environment variable is not a positive integer.
    """
    if given is None:
        return env_limit(env, default, DataError)
    if not isinstance(given, int | np.integer) or isinstance(given, bool) or given <= 0:
        raise DataError(f"the limit for {env} must be a positive integer, got {given!r}")
    return int(given)


def _is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def find_images(root: Path) -> tuple[list[Path], list[int] | None, list[str] | None]:
    """Image files under ``root``, with labels and class names when it has one subfolder per class.

    Images directly in ``root`` make an unlabelled set; otherwise each subfolder that holds
    images (searched recursively) is a class, numbered in sorted-name order. Hidden files and
    folders are skipped. Raises :class:`DataError` for a missing, empty or mixed folder.
    """
    if not root.exists():
        raise DataError(f"folder {str(root)!r} does not exist; pass the path of a folder of images")
    if not root.is_dir():
        raise DataError(
            f"{str(root)!r} is a file, not a folder; pass a folder of images (put single images in a "
            "folder), or load arrays yourself and pass them to from_user"
        )
    entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    top = [p for p in entries if _is_image_file(p)]
    classes: dict[str, list[Path]] = {}
    for sub in (p for p in entries if p.is_dir()):
        files = sorted(f for f in sub.rglob("*") if _is_image_file(f) and _visible(f, root))
        if files:
            classes[sub.name] = files
    if top and classes:
        raise DataError(
            f"folder {str(root)!r} has images both directly in it ({top[0].name}, ...) and in subfolders "
            f"({', '.join(list(classes)[:3])}); put all images directly in the folder (unlabelled) or every "
            "image in a subfolder named after its class (labelled)"
        )
    if top:
        return top, None, None
    if classes:
        names = sorted(classes)
        files = [f for name in names for f in classes[name]]
        labels = [k for k, name in enumerate(names) for _ in classes[name]]
        return files, labels, names
    others = [p.name for p in entries]
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise DataError(
            f"folder {str(root)!r} contains no image files (found {shown}); expected files ending in "
            f"{_EXT_LIST}, directly in the folder or in one subfolder per class"
        )
    raise DataError(
        f"folder {str(root)!r} is empty; put image files ({_EXT_LIST}) in it, directly or in one "
        "subfolder per class"
    )


def _to_8bit(img: Any) -> Any:
    """A 16-bit / 32-bit greyscale Pillow image as mode ``L`` (values above 255 are read as 16-bit)."""
    from PIL import Image

    a = np.asarray(img, dtype=np.float64)
    if a.size and a.max() > 255:
        a = a * (255.0 / 65535.0)
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), mode="L")


def _read(path: Path, target: tuple[int, int] | None, max_pixels: int = MAX_IMAGE_PIXELS) -> tuple[np.ndarray, bool]:
    """One image as uint8 ``(H, W)`` (greyscale) or ``(H, W, 3)``; resized to ``target`` (H, W) if given.

    Its size is checked against ``max_pixels`` from the header, before any pixel is decoded.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():  # genwidgets' own, lower limit applies below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img_file = Image.open(path)
        with img_file as img:
            if target is not None:
                img.draft(None, (target[1], target[0]))  # JPEG decodes at a reduced scale; others ignore it
            _check_pixels(path, img.width, img.height, max_pixels)
            img.load()
            grey = img.mode in GREY_MODES
            img = _to_8bit(img) if img.mode[0] in "IF" else img.convert("L" if grey else "RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"could not read image {str(path)!r} ({exc}); fix or remove that file") from exc
    if target is not None and (img.height, img.width) != target:
        img = img.resize((target[1], target[0]), Image.Resampling.LANCZOS)
    arr = np.asarray(img)
    if not grey and (arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all():
        return arr[..., 0].copy(), True  # colour mode, grey content (e.g. a palette of greys)
    return arr, grey


def _check_pixels(path: Path, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise DataError(
            f"image {str(path)!r} is {width} x {height} = {width * height:,} pixels, above the limit of "
            f"{max_pixels:,} pixels per image; downscale or remove it, or raise the limit with "
            f"max_image_pixels= (from_user) or the environment variable {ENV_MAX_IMAGE_PIXELS}")


def _check_total(root: Path, n: int, channels: int, target: tuple[int, int], max_bytes: int) -> None:
    """Refuse a folder whose decoded float32 ``(n, channels, *target)`` tensor would pass ``max_bytes``."""
    total = n * channels * target[0] * target[1] * 4
    if total > max_bytes:
        raise DataError(
            f"folder {str(root)!r} holds {n:,} images of {target[0]} x {target[1]} x {channels} values: "
            f"{total / 2**30:.1f} GiB once decoded, above the limit of {max_bytes / 2**30:.1f} GiB; pass a smaller "
            f"image_size=, or raise the limit with max_data_bytes= (from_user) or the environment variable "
            f"{ENV_MAX_DATA_BYTES}")


def load_image_folder(
    root: Path,
    *,
    name: str = "data",
    image_size: ImageSize | None = None,
    num_classes: int | None = None,
    max_image_pixels: int | None = None,
    max_data_bytes: int | None = None,
) -> TensorData:
    """Read every image under ``root`` into a :class:`TensorData` of ``(N, C, H, W)`` images in [0, 1].

    Images are resized to ``image_size`` (``(height, width)`` or an ``int`` for squares; default
    the first image's size) and stored as greyscale (C=1) if every image is greyscale, else RGB
    (C=3; alpha is dropped). See :func:`find_images` for how labels are assigned.

    Args:
        root: The folder.
        name: Name shown in widgets and summaries.
        image_size: Size to resize every image to (default: the first image's size).
        num_classes: Number of classes, when there are more than class subfolders.
        max_image_pixels: Most pixels one file may have (default :data:`MAX_IMAGE_PIXELS`, or
            the environment variable ``GENWIDGETS_MAX_IMAGE_PIXELS``); checked before decoding.
        max_data_bytes: Most bytes the decoded float32 images may take (default
            :data:`MAX_DATA_BYTES`, or ``GENWIDGETS_MAX_DATA_BYTES``); checked before stacking.

    Raises:
        DataError: the folder is missing, empty or mixed, a file cannot be read, or a limit is hit;
            the message names the file or folder, the limit and how to raise it.
    """
    max_pixels = limit_from(max_image_pixels, ENV_MAX_IMAGE_PIXELS, MAX_IMAGE_PIXELS)
    max_bytes = limit_from(max_data_bytes, ENV_MAX_DATA_BYTES, MAX_DATA_BYTES)
    files, labels, class_names = find_images(root)
    target = None if image_size is None else size_hw(image_size)
    if target is not None:
        _check_total(root, len(files), 1, target, max_bytes)
    arrays: list[np.ndarray] = []
    all_grey = True
    for f in files:
        arr, grey = _read(f, target, max_pixels)
        if target is None:
            target = (arr.shape[0], arr.shape[1])
            _check_total(root, len(files), 1, target, max_bytes)
        if all_grey and not grey:
            _check_total(root, len(files), 3, target, max_bytes)
        arrays.append(arr)
        all_grey &= grey
    if all_grey:
        x = np.stack(arrays)[:, None]
    else:
        rgb = [a if a.ndim == 3 else np.repeat(a[..., None], 3, axis=2) for a in arrays]
        x = np.stack(rgb).transpose(0, 3, 1, 2)
    if class_names is None and num_classes is not None:
        raise DataError(
            f"num_classes={num_classes} was given but {str(root)!r} has no class subfolders; put each "
            "image in a subfolder named after its class, or drop num_classes="
        )
    if class_names is not None:
        if num_classes is not None and num_classes < len(class_names):
            raise DataError(
                f"num_classes={num_classes} but {str(root)!r} has {len(class_names)} class subfolders"
            )
        num_classes = num_classes or len(class_names)
    return TensorData(
        torch.from_numpy(np.ascontiguousarray(x)),
        None if labels is None else torch.tensor(labels, dtype=torch.int64),
        kind="images",
        name=name,
        class_names=class_names,
        num_classes=num_classes,
        description=f"{len(files)} images from {root}"
        + (f" in {len(class_names)} classes" if class_names else ""),
    )
