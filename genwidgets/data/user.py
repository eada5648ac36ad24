"""Turn whatever the user has (arrays, tensors, a torch Dataset, a folder of images) into GenData."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import DataError
from .base import Batch, DataKind, DataSpec, GenData, TensorData, check_num_classes, infer_num_classes
from .folder import GREY_MODES, ImageSize, load_image_folder, size_hw
from .validate import check_tensor_data

_MIXED_LABELS = "some dataset items have labels and some do not; return (x, label) for every item"
_ACCEPTED = (
    "a numpy array or torch tensor ((N, D) points or (N, H, W) / (N, C, H, W) / (N, H, W, C) images), "
    "a torch.utils.data.Dataset, a folder of images, or a GenData"
)


def from_user(
    obj: Any,
    *,
    labels: Any = None,
    kind: DataKind | None = None,
    name: str = "data",
    image_size: ImageSize | None = None,
    num_classes: int | None = None,
    max_image_pixels: int | None = None,
    max_data_bytes: int | None = None,
) -> GenData:
    """Wrap user data as a :class:`GenData`, validating it and saying how to fix what is wrong.

    Args:
        obj: A numpy array or torch tensor; a ``torch.utils.data.Dataset`` whose items are
            ``x`` or ``(x, label)``; a folder (``str`` / ``Path``) of images, flat (unlabelled)
            or with one subfolder per class; or a :class:`GenData` (returned unchanged).
        labels: Integer class indices, one per example (overrides a Dataset's own labels).
        kind: ``"points"`` or ``"images"``; inferred from the rank when omitted
            (2-D arrays are points, 3-D and 4-D are images).
        name: Name shown in widgets and summaries.
        image_size: Resize images to ``(height, width)`` (or a square ``int``). Folders default
            to the first image's size; arrays and Datasets keep their size when omitted.
        num_classes: Number of classes, when the labels do not show it (e.g. a class never occurs).
            Without it, labels may imply at most ``MAX_INFERRED_CLASSES`` (10,000) classes.
        max_image_pixels: For a folder: most pixels one image file may have (default 4096 x 4096,
            or the environment variable ``GENWIDGETS_MAX_IMAGE_PIXELS``), checked before decoding.
        max_data_bytes: For a folder: most bytes its decoded float32 images may take (default
            4 GiB, or ``GENWIDGETS_MAX_DATA_BYTES``).

    Raises:
        DataError: The data cannot be used; the message says what was expected and how to fix it.
    """
    if isinstance(obj, GenData):
        if labels is not None:
            raise DataError("labels were given with a GenData, which carries its own; drop labels=")
        return obj
    if isinstance(obj, str | os.PathLike):
        if labels is not None:
            raise DataError(
                "labels= cannot be used with a folder; put each image in a subfolder named after its "
                "class instead"
            )
        if kind == "points":
            raise DataError("a folder holds images, but kind='points' was given; drop kind= or pass an array")
        return load_image_folder(Path(obj), name=name, image_size=image_size, num_classes=num_classes,
                                 max_image_pixels=max_image_pixels, max_data_bytes=max_data_bytes)
    if isinstance(obj, np.ndarray | torch.Tensor):
        return _from_array(obj, labels, kind, name, image_size, num_classes)
    if isinstance(obj, Dataset):
        return DatasetData(
            obj, labels=labels, kind=kind, name=name, image_size=image_size, num_classes=num_classes
        )
    hint = ""
    if isinstance(obj, tuple | list) and len(obj) == 2:
        hint = "; to pass data with labels, call from_user(x, labels=y)"
    elif isinstance(obj, list | tuple):
        hint = "; stack a list of examples first, e.g. np.stack(items)"
    raise DataError(f"cannot use {type(obj).__name__} as data; expected {_ACCEPTED}{hint}")


def resize_images(x: torch.Tensor, image_size: ImageSize) -> torch.Tensor:
    """Resize float images ``(N, C, H, W)`` in [0, 1] to ``image_size`` (antialiased bilinear)."""
    size = size_hw(image_size)
    if tuple(x.shape[-2:]) == size:
        return x
    out = torch.nn.functional.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    return out.clamp_(0.0, 1.0)


def _infer_kind(ndim: int, shape: tuple[int, ...], what: str) -> DataKind:
    if ndim == 2:
        return "points"
    if ndim in (3, 4):
        return "images"
    hint = "; for 1-D values use x[:, None] (one column per feature)" if ndim == 1 else ""
    raise DataError(
        f"{what} has shape {shape} (rank {ndim}); expected (N, D) points, or (N, H, W), (N, C, H, W) or "
        "(N, H, W, C) images; reshape it, or pass kind= explicitly" + hint
    )


def _as_labels(labels: Any) -> Any:
    if labels is None or isinstance(labels, np.ndarray | torch.Tensor):
        return labels
    if isinstance(labels, Sequence) and not isinstance(labels, str | bytes):
        arr = np.asarray(labels)
        if arr.dtype == object:
            raise DataError("labels must be integer class indices 0..K-1, one per example")
        return arr
    raise DataError(f"labels must be an integer array, tensor or list, got {type(labels).__name__}")


def _from_array(
    x: np.ndarray | torch.Tensor,
    labels: Any,
    kind: DataKind | None,
    name: str,
    image_size: ImageSize | None,
    num_classes: int | None,
) -> TensorData:
    if isinstance(x, torch.Tensor):
        x = x.detach()
    if isinstance(x, np.ndarray) and x.dtype == object:
        raise DataError(
            "data is a numpy array of Python objects (dtype=object), e.g. rows of different lengths; "
            "expected a numeric array: make every example the same shape and use "
            "np.stack(...).astype(np.float32)"
        )
    if num_classes is not None and labels is None:
        raise DataError(f"num_classes={num_classes} was given without labels; pass labels= as well")
    kind = kind or _infer_kind(x.ndim, tuple(x.shape), "data")
    if kind == "images" and image_size is not None:
        xt, lt = check_tensor_data(x, _as_labels(labels), kind=kind)
        x, labels = resize_images(xt, image_size), lt
    data = TensorData(x, _as_labels(labels), kind=kind, name=name, num_classes=num_classes)
    if data.labels is not None and int(data.labels.max()) >= (data.spec.num_classes or 0):
        raise DataError(
            f"label {int(data.labels.max())} is out of range for num_classes={data.spec.num_classes}; "
            "labels must be 0..num_classes-1 (raise num_classes= or remap the labels)"
        )
    return data


def _item_to_tensor(x: Any, index: int) -> torch.Tensor:
    """One Dataset item's ``x`` as a tensor (accepts tensors, numpy arrays, PIL images and numbers)."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            raise DataError(f"dataset item {index} is an object array; return numeric arrays or tensors")
        return torch.from_numpy(np.ascontiguousarray(x))
    from PIL import Image

    if isinstance(x, Image.Image):
        img = x if x.mode in ("L", "RGB") else x.convert("L" if x.mode in GREY_MODES else "RGB")
        return torch.from_numpy(np.asarray(img).copy())
    if isinstance(x, Sequence | int | float) and not isinstance(x, str | bytes):
        return torch.as_tensor(x)
    raise DataError(
        f"dataset item {index} has type {type(x).__name__}; items must be x or (x, label) with x a tensor, "
        "numpy array or PIL image"
    )


class DatasetData(GenData):
    """A ``torch.utils.data.Dataset`` wrapped lazily: ``get_batch`` fetches, stacks and validates items.

    Items are ``x`` or ``(x, label)``. The spec is inferred from the first item; every other item
    must have the same shape, or :meth:`get_batch` raises :class:`DataError` naming it.
    """

    def __init__(
        self,
        dataset: Dataset,
        *,
        labels: Any = None,
        kind: DataKind | None = None,
        name: str = "data",
        image_size: ImageSize | None = None,
        num_classes: int | None = None,
    ) -> None:
        try:
            n = len(dataset)  # type: ignore[arg-type]
        except TypeError:
            raise DataError(
                f"{type(dataset).__name__} has no length (an IterableDataset?); genwidgets needs "
                "indexable data: collect it into a tensor first, e.g. from_user(torch.stack(list(dataset)))"
            ) from None
        if n == 0:
            raise DataError(f"{type(dataset).__name__} is empty; expected at least one example")
        self.dataset = dataset
        self.name = name
        self.image_size = None if image_size is None else size_hw(image_size)
        first, first_label = self._fetch(0)
        self.item_shape = tuple(first.shape)
        self.kind: DataKind = kind or _infer_kind(first.ndim + 1, (n, *self.item_shape), "each dataset item")
        self.labels: torch.Tensor | None = None
        if labels is not None:
            _, self.labels = check_tensor_data(torch.zeros(n, 1), _as_labels(labels), kind="points")
        has_labels = self.labels is not None or first_label is not None
        if num_classes is not None and not has_labels:
            raise DataError(
                "num_classes was given but the dataset has no labels; return (x, label) items or pass labels="
            )
        self.class_names = self._class_names() if has_labels else None
        if has_labels and num_classes is None:
            num_classes = self._count_classes(n)
        elif num_classes is not None:
            num_classes = check_num_classes(num_classes)
        if self.labels is not None and num_classes is not None and int(self.labels.max()) >= num_classes:
            raise DataError(
                f"label {int(self.labels.max())} is out of range for num_classes={num_classes}; labels must be "
                "0..num_classes-1 (raise num_classes= or remap the labels)")
        x0 = self._normalise(first[None])
        self.spec = DataSpec(kind=self.kind, shape=tuple(x0.shape[1:]), num_classes=num_classes)
        self._n = n

    def __len__(self) -> int:
        return self._n

    def _fetch(self, index: int) -> tuple[torch.Tensor, int | None]:
        item = self.dataset[index]
        label = None
        if isinstance(item, tuple | list) and len(item) and not isinstance(item[0], int | float | np.number):
            if len(item) != 2:
                raise DataError(
                    f"dataset item {index} is a sequence of {len(item)} values; expected x or (x, label)"
                )
            item, label = item
            label = _label_to_int(label, index)
        return _item_to_tensor(item, index), label

    def _class_names(self) -> list[str] | None:
        classes = getattr(self.dataset, "classes", None)
        if isinstance(classes, Sequence) and not isinstance(classes, str) and len(classes) > 0:
            return [str(c) for c in classes]
        return None

    def _count_classes(self, n: int) -> int:
        """Number of classes: from ``labels=``, ``dataset.classes``, ``dataset.targets``, or one scan."""
        if self.labels is not None:
            return infer_num_classes(int(self.labels.max()), n)
        if self.class_names is not None:
            return check_num_classes(len(self.class_names), what="the dataset's number of classes")
        targets = getattr(self.dataset, "targets", None)
        if targets is not None:
            t = np.asarray(targets)
            if np.issubdtype(t.dtype, np.integer) and len(t) == n:
                return infer_num_classes(int(t.max()), n)
        found = [self._fetch(i)[1] for i in range(n)]  # the only way to know; happens once
        if any(lab is None for lab in found):
            raise DataError(_MIXED_LABELS)
        return infer_num_classes(max(found), n)  # type: ignore[type-var]

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Validate a stacked batch and bring it to genwidgets' conventions (and ``image_size``)."""
        xs, _ = check_tensor_data(x, None, kind=self.kind)
        if self.kind == "images" and self.image_size is not None:
            xs = resize_images(xs, self.image_size)
        return xs

    def get_batch(self, indices: torch.Tensor) -> Batch:
        """Fetch the items at ``indices``, stack them and normalise them like in-memory data."""
        xs: list[torch.Tensor] = []
        labs: list[int | None] = []
        for i in indices.tolist():
            x, lab = self._fetch(int(i))
            if tuple(x.shape) != self.item_shape:
                raise DataError(
                    f"dataset item {i} has shape {tuple(x.shape)} but item 0 has {self.item_shape}; "
                    "every item must have the same shape (resize or pad them in the Dataset, e.g. with a "
                    "transform)"
                )
            xs.append(x)
            labs.append(lab)
        return Batch(self._normalise(torch.stack(xs)), self._batch_labels(indices, labs))

    def _batch_labels(self, indices: torch.Tensor, labs: list[int | None]) -> torch.Tensor | None:
        if self.spec.num_classes is None:
            return None
        if self.labels is not None:
            return self.labels[indices]
        if any(lab is None for lab in labs):
            raise DataError(_MIXED_LABELS)
        out = torch.tensor(labs, dtype=torch.int64)
        if len(out) and int(out.max()) >= self.spec.num_classes:
            raise DataError(
                f"dataset label {int(out.max())} is >= num_classes={self.spec.num_classes}; "
                "pass num_classes= to from_user"
            )
        return out


def _label_to_int(label: Any, index: int) -> int:
    """A Dataset item's label as a Python int, or a DataError if it is not a class index."""
    if isinstance(label, torch.Tensor):
        label = label.item() if label.numel() == 1 else label
    elif isinstance(label, np.ndarray | np.generic):
        label = label.item() if label.size == 1 else label
    if isinstance(label, bool) or not isinstance(label, int) or label < 0:
        raise DataError(
            f"dataset item {index} has label {label!r}; labels must be integer class indices >= 0"
        )
    return label
