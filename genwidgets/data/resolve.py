"""What a ``data=`` string means: a registered data set's name, or a path to a folder of images.

The rule, one and the same everywhere a name is accepted (``train``, ``load_data``, the CLI):

1. A string that is a registered data set's name (``"mnist"``, ``"ring"``) always means that
   data set, even if a file or folder of that name exists in the working directory; then a
   warning says so and how to pick the folder instead.
2. A path object (``pathlib.Path``, any ``os.PathLike``) is always a path.
3. Any other string is a path when it looks like one (it contains a path separator or starts
   with ``.``, as in ``"./ring"``, ``"data/faces"``) or something exists there; otherwise it is
   taken as a data set name, so a misspelt name gets the list of registered ones.

So a folder named like a data set is read with ``data="./ring"`` or ``data=Path("ring")``.
"""

from __future__ import annotations

import os
import warnings
from typing import Any


class DataNameShadowWarning(UserWarning):
    """A ``data=`` name means a registered data set, though a file or folder of that name exists too."""


def looks_like_path(text: str) -> bool:
    """True if ``text`` is written as a path: it contains a separator or starts with ``.``."""
    seps = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return text.startswith(".") or any(sep in text for sep in seps)


def _registered(name: str) -> bool:
    from ..registry import get_registry

    return any(entry.name == name for entry in get_registry().list_datasets())


def data_set_name(data: Any) -> str | None:
    """The registered data set name ``data`` stands for, or None when it is a path or an object.

    See the module docstring for the rule. A name that is neither registered nor a path is
    returned as is, so looking it up in the registry raises the error listing the known names.

    Warns:
        DataNameShadowWarning: ``data`` is a registered name and a file or folder of that name
            exists too; the message says how to use the folder (``"./name"``).
    """
    if not isinstance(data, str):
        return None
    if _registered(data):
        if os.path.exists(data):
            warnings.warn(
                f"data={data!r} means the registered data set {data!r}, not the {data!r} in the working "
                f"directory; to use that folder pass data={'./' + data!r} (or a pathlib.Path)",
                DataNameShadowWarning, stacklevel=3)
        return data
    if looks_like_path(data) or os.path.exists(data):
        return None
    return data
