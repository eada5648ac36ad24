"""Bounds on untrusted input shared by every reader: JSON nesting depth, and limits taken from the environment.

Parsing deeply nested JSON recurses (Python's ``json`` raises RecursionError, or worse), so
readers of untrusted JSON (a checkpoint's ``state.json``, a frame on the launch channel) measure
its depth first with :func:`json_depth`, one linear pass without recursion. Limits a user may
raise (bytes, pixels) come from :func:`env_limit`.
"""

from __future__ import annotations

import os

import numpy as np

_CHUNK = 1 << 20


def env_limit(env: str, default: int, error: type[Exception] = ValueError) -> int:
    """The limit in environment variable ``env`` (a positive integer, ``_`` allowed), else ``default``.

    Raises:
        error: the variable is set but is not a positive integer; the message names it and the fix.
    """
    text = os.environ.get(env, "").strip()
    if not text:
        return default
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise error(f"environment variable {env}={text!r} is not a positive integer; fix it, or unset it for the "
                    f"default ({default})")
    return value


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in the JSON text ``raw`` (brackets inside strings do not count).

    One linear pass in chunks, without recursion or backtracking, so it is safe on any input. A
    quote counts unless an odd run of backslashes precedes it; for text that is not valid JSON
    the result is only an estimate (the parser then reports the error).
    """
    depth = peak = 0
    in_string = False
    carried = 0  # backslashes that end the previous chunk
    for start in range(0, len(raw), _CHUNK):
        a = np.frombuffer(raw, dtype=np.uint8, count=min(_CHUNK, len(raw) - start), offset=start)
        quotes = np.flatnonzero(a == ord('"'))
        backslash = a == ord("\\")
        if carried or backslash.any():
            idx = np.arange(a.size, dtype=np.int64)
            last_other = np.maximum.accumulate(np.where(backslash, -1, idx))  # last non-backslash at or before i
            prev = np.where(quotes > 0, last_other[np.maximum(quotes - 1, 0)], -1)
            run = quotes - 1 - prev + np.where(prev < 0, carried, 0)  # backslashes right before each quote
            quotes = quotes[run % 2 == 0]  # an odd run escapes the quote
            carried = int(a.size - 1 - last_other[-1]) + (carried if last_other[-1] < 0 else 0)
        opens = (a == ord("[")) | (a == ord("{"))
        brackets = np.flatnonzero(opens | (a == ord("]")) | (a == ord("}")))
        outside = (np.searchsorted(quotes, brackets) + in_string) % 2 == 0
        running = np.cumsum(np.where(opens[brackets[outside]], 1, -1)) + depth
        if running.size:
            peak = max(peak, int(running.max()))
            depth = int(running[-1])
        in_string = (in_string + quotes.size) % 2 == 1
    return peak
