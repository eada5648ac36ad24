"""A local, authenticated message channel between a notebook kernel and its training workers.

The kernel listens on ``127.0.0.1`` (a random port) and hands the address and a one-time token
to the worker processes through their environment. Rank 0 connects, proves it knows the token,
then streams its run's events and weight snapshots; the kernel sends control commands back.

Wire format (no pickle, so a message can never run code): each frame is a 4-byte big-endian
header length, a UTF-8 JSON header, then the raw bytes of the buffers the header lists
(``{"buffers": [{"key": ..., "dtype": ..., "shape": [...], "nbytes": n}, ...]}``). NumPy arrays
inside a message's ``data`` travel as such buffers and come back as arrays.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import math
import os
import re
import secrets
import selectors
import socket
import struct
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..bounds import env_limit, json_depth
from ..errors import ConfigError

ADDRESS_ENV = "GENWIDGETS_CHANNEL"
TOKEN_ENV = "GENWIDGETS_CHANNEL_TOKEN"
#: Environment variable (bytes) that raises the size bound of one frame after authentication.
MAX_FRAME_ENV = "GENWIDGETS_CHANNEL_MAX_FRAME"
#: Most bytes of one frame (header and buffers) from an authenticated peer; see :data:`MAX_FRAME_ENV`.
MAX_FRAME = 4 * 1024**3
#: Most bytes (length prefix and header) a peer may send before it has proved the token; a hello has no buffers.
HELLO_LIMIT = 64 * 1024
#: Seconds a new connection gets to send its whole hello.
HELLO_TIMEOUT = 5.0
#: Connections that may wait to say hello at once; beyond that the oldest is dropped.
MAX_PENDING = 64
#: Deepest nesting of JSON arrays and objects a header may have.
MAX_DEPTH = 64
#: Most buffers one frame may carry.
MAX_BUFFERS = 1024
_HEADER = struct.Struct(">I")
_MAX_HEADER = 16 * 1024 * 1024
_MAX_DIMS = 32
_DTYPE = re.compile(r"[<>|=]?(?:[biufc]\d{1,2}|[US]\d{1,9})")
# A JSON string, or an unterminated one up to the end: always matches at a quote, so stripping strings is linear.


class ChannelClosed(ConnectionError):
    """The other end closed the channel (or sent something that is not a frame)."""


class FrameError(ChannelClosed):
    """The peer sent bytes that are not a valid frame; the channel is out of step with it and closes."""


@dataclass
class Message:
    """One frame: a JSON-ready ``header`` (with ``type``) and the arrays that travelled as buffers."""

    header: dict[str, Any]
    arrays: dict[str, np.ndarray]

    @property
    def type(self) -> str:
        """The message type (``hello``, ``event``, ``weights``, ``command``, ...)."""
        return str(self.header.get("type", ""))


@dataclass(frozen=True)
class _Buffer:
    """One checked buffer spec: ``dtype`` None for raw bytes."""

    key: str
    dtype: np.dtype | None
    shape: tuple[int, ...]
    nbytes: int

    def array(self, blob: bytes) -> np.ndarray:
        """The array these bytes hold (read-only, no copy)."""
        if self.dtype is None:
            return np.frombuffer(blob, dtype=np.uint8)
        return np.frombuffer(blob, dtype=self.dtype).reshape(self.shape)


def _split_arrays(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """JSON-ready copy of ``data`` with its top-level arrays moved out (exceptions become text)."""
    plain: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for key, value in data.items():
        if isinstance(value, np.ndarray):
            arrays[key] = np.ascontiguousarray(value)
        elif isinstance(value, BaseException):
            plain[key] = f"{type(value).__name__}: {value}"
        else:
            plain[key] = value
    return plain, arrays


def _max_frame_from_env() -> int:
    """The frame bound after authentication: :data:`MAX_FRAME_ENV` when set, else :data:`MAX_FRAME`."""
    return env_limit(MAX_FRAME_ENV, MAX_FRAME, ConfigError)


def _parse_header(raw: bytes) -> dict[str, Any]:
    """The JSON object in ``raw``, its nesting bounded by :data:`MAX_DEPTH`; FrameError otherwise."""
    if json_depth(raw) > MAX_DEPTH:
        raise FrameError(f"a frame header that nests JSON arrays/objects deeper than {MAX_DEPTH} levels")
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise FrameError(f"a frame header that is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise FrameError(f"a frame header must be a JSON object, got a JSON {type(header).__name__}")
    if not isinstance(header.get("type"), str) or not header["type"]:
        raise FrameError("a frame header without a \"type\" string")
    if "data" in header and not isinstance(header["data"], dict):
        raise FrameError(f"a frame header whose \"data\" is a {type(header['data']).__name__}, not an object")
    return header


def _count(value: Any, what: str) -> int:
    """``value`` as a count (an int >= 0, not a bool); FrameError naming ``what`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FrameError(f"{what} must be an integer >= 0, got {value!r:.40}")
    return value


def _check_buffer(spec: Any, index: int) -> _Buffer:
    """One buffer spec of a header, every field checked (type, range, agreement); FrameError otherwise."""
    if not isinstance(spec, dict):
        raise FrameError(f"buffer {index} of a frame is a {type(spec).__name__}, not a JSON object")
    missing = [name for name in ("key", "dtype", "shape", "nbytes") if name not in spec]
    if missing:
        raise FrameError(f"buffer {index} of a frame lacks {', '.join(missing)}")
    key, dtype_text, shape = spec["key"], spec["dtype"], spec["shape"]
    if not isinstance(key, str):
        raise FrameError(f"buffer {index} of a frame has a {type(key).__name__} key, not a string")
    nbytes = _count(spec["nbytes"], f"buffer {key!r:.40}'s nbytes")
    if not isinstance(shape, list) or len(shape) > _MAX_DIMS:
        raise FrameError(f"buffer {key!r:.40}'s shape must be a list of at most {_MAX_DIMS} sizes, got {shape!r:.40}")
    dims = tuple(_count(size, f"buffer {key!r:.40}'s shape entries") for size in shape)
    if dtype_text == "raw":
        if dims != (nbytes,):
            raise FrameError(f"raw buffer {key!r:.40} has shape {list(dims)} for {nbytes} bytes")
        return _Buffer(key, None, dims, nbytes)
    dtype = None
    if isinstance(dtype_text, str) and _DTYPE.fullmatch(dtype_text):
        with contextlib.suppress(TypeError, ValueError):
            dtype = np.dtype(dtype_text)
    if dtype is None or dtype.itemsize == 0:
        raise FrameError(f"buffer {key!r:.40} has dtype {dtype_text!r:.40}; a frame carries numbers, booleans, "
                         "fixed-width text or raw bytes (e.g. '<f4', '|u1', '|b1', '<U8', 'raw')")
    if math.prod(dims) * dtype.itemsize != nbytes:
        raise FrameError(f"buffer {key!r:.40}: shape {list(dims)} of {dtype.str} needs "
                         f"{math.prod(dims) * dtype.itemsize} bytes, the header says {nbytes}")
    return _Buffer(key, dtype, dims, nbytes)


def _check_buffers(header: dict[str, Any], header_bytes: int, limit: int) -> list[_Buffer]:
    """Take the header's buffer specs out and check them, the whole frame within ``limit`` bytes."""
    specs = header.pop("buffers", [])
    if not isinstance(specs, list) or len(specs) > MAX_BUFFERS:
        raise FrameError(f"a frame's \"buffers\" must be a list of at most {MAX_BUFFERS}, got {specs!r:.40}")
    buffers = [_check_buffer(spec, i) for i, spec in enumerate(specs)]
    if len({b.key for b in buffers}) != len(buffers):
        raise FrameError("a frame names the same buffer key twice")
    total = header_bytes + sum(b.nbytes for b in buffers)
    if total > limit:
        raise FrameError(f"a frame of {total} bytes is over the channel's limit of {limit} bytes; "
                         f"set {MAX_FRAME_ENV}=<bytes> in the kernel's environment to raise it")
    return buffers


class Connection:
    """One end of the channel: thread-safe ``send``; ``receive`` from one reader thread.

    Every frame received is checked (header shape and nesting, each buffer's spec, the frame's
    size, at most ``max_frame`` bytes, default :data:`MAX_FRAME` or :data:`MAX_FRAME_ENV`); a bad
    one closes the connection and raises :class:`FrameError`.
    """

    def __init__(self, sock: socket.socket, *, max_frame: int | None = None) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._send_lock = threading.Lock()
        self.max_frame = _max_frame_from_env() if max_frame is None else max_frame
        self.closed = False

    def send(self, header: Mapping[str, Any], data: Mapping[str, Any] | None = None,
             raw: Mapping[str, bytes] | None = None) -> None:
        """Send one message: ``header`` as JSON, arrays found in ``data`` and ``raw`` bytes as buffers."""
        head = dict(header)
        plain, arrays = _split_arrays(data or {})
        if data is not None:
            head["data"] = plain
        specs, payload = [], []
        for key, array in arrays.items():
            specs.append({"key": key, "dtype": array.dtype.str, "shape": list(array.shape), "nbytes": array.nbytes})
            payload.append(memoryview(array.reshape(-1).view(np.uint8)))
        for key, blob in (raw or {}).items():
            specs.append({"key": key, "dtype": "raw", "shape": [len(blob)], "nbytes": len(blob)})
            payload.append(memoryview(blob))
        head["buffers"] = specs
        encoded = json.dumps(head, separators=(",", ":"), allow_nan=True).encode()
        with self._send_lock:
            if self.closed:
                raise ChannelClosed("the channel is closed")
            try:
                self._sock.sendall(_HEADER.pack(len(encoded)) + encoded)
                for part in payload:
                    self._sock.sendall(part)
            except OSError as exc:
                self.closed = True
                raise ChannelClosed(f"sending failed: {exc}") from exc

    def receive(self) -> Message:
        """Block until the next message arrives; raise :class:`ChannelClosed` at the end.

        A frame that is not valid raises :class:`FrameError` (a ChannelClosed) and closes the
        connection: what follows it could not be read in step.
        """
        try:
            return self._receive()
        except FrameError:
            self.close()
            raise

    def _receive(self) -> Message:
        (length,) = _HEADER.unpack(self._read(_HEADER.size))
        if length > _MAX_HEADER:
            raise FrameError(f"a frame header of {length} bytes, over the {_MAX_HEADER} bytes a header may have")
        if _HEADER.size + length > self.max_frame:
            raise FrameError(f"a frame of more than {length} bytes is over the channel's limit of {self.max_frame} "
                             f"bytes; set {MAX_FRAME_ENV}=<bytes> in the kernel's environment to raise it")
        header = _parse_header(self._read(length))
        buffers = _check_buffers(header, _HEADER.size + length, self.max_frame)
        return Message(header, {b.key: b.array(self._read(b.nbytes)) for b in buffers})

    def _read(self, n: int) -> bytes:
        chunks, left = [], n
        while left > 0:
            try:
                chunk = self._sock.recv(min(left, 1 << 20))
            except OSError as exc:
                raise ChannelClosed(str(exc)) from exc
            if not chunk:
                self.closed = True
                raise ChannelClosed("the other end closed the channel")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        """Close the socket (a blocked ``receive`` then raises ChannelClosed)."""
        self.closed = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


class _Caller:
    """A connection that has not proved the token yet: its deadline and the bytes of its hello so far.

    It reads (non-blocking) only what its hello still lacks, so nothing past the hello is taken
    from the socket, and never more than ``limit`` bytes in all.
    """

    def __init__(self, sock: socket.socket, deadline: float, limit: int) -> None:
        self.sock, self.deadline, self.limit = sock, deadline, limit
        self.data = bytearray()

    def _wanted(self) -> int:
        if len(self.data) < _HEADER.size:
            return _HEADER.size - len(self.data)
        (length,) = _HEADER.unpack_from(self.data)
        if _HEADER.size + length > self.limit:
            raise FrameError(f"a hello of {_HEADER.size + length} bytes, over the {self.limit} bytes a hello may have")
        return _HEADER.size + length - len(self.data)

    def read(self) -> Message | None:
        """Take what has arrived; the hello once whole, else None. Raises ChannelClosed/FrameError."""
        try:
            chunk = self.sock.recv(self._wanted())
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as exc:
            raise ChannelClosed(f"the caller's connection failed: {exc}") from exc
        if not chunk:
            raise ChannelClosed("the caller closed the connection before its hello")
        self.data += chunk
        if len(self.data) < _HEADER.size or self._wanted():
            return None
        header = _parse_header(bytes(self.data[_HEADER.size:]))
        if header.pop("buffers", []) != []:
            raise FrameError("a hello carries no buffers")
        return Message(header, {})

    def drop(self) -> None:
        """Close the caller's connection."""
        with contextlib.suppress(OSError):
            self.sock.close()


class Listener:
    """The kernel's end: listens on 127.0.0.1 and accepts one worker that knows the token.

    Until a caller has proved the token it gets ``hello_timeout`` seconds and ``hello_limit``
    bytes for its hello; callers are heard side by side (one that is slow or silent does not
    hold up another), and a bad one is dropped while the listener goes on accepting.
    """

    def __init__(self, *, hello_timeout: float = HELLO_TIMEOUT, hello_limit: int = HELLO_LIMIT,
                 max_pending: int = MAX_PENDING) -> None:
        self.token = secrets.token_hex(16)
        self.hello_timeout, self.hello_limit, self.max_pending = hello_timeout, hello_limit, max_pending
        self.max_frame = _max_frame_from_env()  # checked here, in the kernel, before any worker starts
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.setblocking(False)
        self.address = f"127.0.0.1:{self._server.getsockname()[1]}"
        self._wake, self._waker = socket.socketpair()  # closing _waker wakes an accept() in progress
        self._lock = threading.Lock()
        self._closed = self._accepting = False

    def env(self) -> dict[str, str]:
        """Environment variables that tell a worker where to connect and how to prove itself."""
        return {ADDRESS_ENV: self.address, TOKEN_ENV: self.token}

    def accept(self, timeout: float | None = None) -> tuple[Connection, Message]:
        """Wait for a worker; return its connection and its ``hello`` message.

        Callers whose first message is not a hello with the right token, is malformed, is too
        big or comes too late are dropped. Raises TimeoutError after ``timeout`` seconds and
        ChannelClosed once :meth:`close` is called (both are OSErrors).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        callers: dict[socket.socket, _Caller] = {}
        selector = selectors.DefaultSelector()
        try:
            with self._lock:  # close() cannot close the sockets half way through registering them
                if self._closed:
                    raise ChannelClosed("the listener is closed")
                self._accepting = True
                selector.register(self._server, selectors.EVENT_READ)
                selector.register(self._wake, selectors.EVENT_READ)
            return self._serve(selector, callers, deadline)
        finally:
            selector.close()
            for caller in callers.values():
                caller.drop()
            with self._lock:
                self._accepting = False
                if self._closed:
                    self._wake.close()

    def _serve(self, selector: selectors.BaseSelector, callers: dict[socket.socket, _Caller],
               deadline: float | None) -> tuple[Connection, Message]:
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise TimeoutError("no worker said hello with the right token in time")
            for sock in [s for s, c in callers.items() if c.deadline <= now]:
                self._drop(selector, callers, sock)
            ends = [c.deadline for c in callers.values()] + ([] if deadline is None else [deadline])
            for key, _ in selector.select(None if not ends else max(0.0, min(ends) - now)):
                if self._closed or key.fileobj is self._wake:
                    raise ChannelClosed("the listener was closed")
                if key.fileobj is self._server:
                    self._admit(selector, callers)
                    continue
                sock = key.fileobj
                if not isinstance(sock, socket.socket) or sock not in callers:
                    continue  # dropped earlier in this round (the oldest, to make room)
                found = self._hear(selector, callers, sock)
                if found is not None:
                    return found

    def _admit(self, selector: selectors.BaseSelector, callers: dict[socket.socket, _Caller]) -> None:
        """Accept every waiting connection, each with its hello deadline (the oldest dropped beyond max_pending)."""
        while True:
            try:
                sock, _ = self._server.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                if self._closed:
                    raise ChannelClosed("the listener was closed") from exc
                if callers:  # e.g. out of file descriptors: free one, the caller waiting longest
                    self._drop(selector, callers, min(callers, key=lambda s: callers[s].deadline))
                else:
                    time.sleep(0.05)  # nothing of ours to free: do not spin on a listener that stays readable
                return
            sock.setblocking(False)
            if len(callers) >= self.max_pending:
                self._drop(selector, callers, min(callers, key=lambda s: callers[s].deadline))
            callers[sock] = _Caller(sock, time.monotonic() + self.hello_timeout, self.hello_limit)
            selector.register(sock, selectors.EVENT_READ)

    def _hear(self, selector: selectors.BaseSelector, callers: dict[socket.socket, _Caller],
              sock: socket.socket) -> tuple[Connection, Message] | None:
        """Read from one caller: its authenticated connection and hello once it has proved the token."""
        try:
            hello = callers[sock].read()
        except ChannelClosed:  # FrameError included: a bad caller is dropped, never fatal
            self._drop(selector, callers, sock)
            return None
        if hello is None:
            return None
        selector.unregister(sock)
        del callers[sock]
        given = hello.header.get("token")
        if hello.type == "hello" and isinstance(given, str) and hmac.compare_digest(given.encode(),
                                                                                   self.token.encode()):
            try:
                sock.setblocking(True)
                return Connection(sock, max_frame=self.max_frame), hello
            except OSError:
                pass
        with contextlib.suppress(OSError):
            sock.close()
        return None

    @staticmethod
    def _drop(selector: selectors.BaseSelector, callers: dict[socket.socket, _Caller], sock: socket.socket) -> None:
        selector.unregister(sock)
        callers.pop(sock).drop()

    def close(self) -> None:
        """Stop listening (an ``accept`` in progress raises ChannelClosed)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            busy = self._accepting
        self._waker.close()
        self._server.close()
        if not busy:
            self._wake.close()


def connect_from_env(hello: Mapping[str, Any]) -> Connection | None:
    """In a worker: connect to the kernel named by the environment and say ``hello`` (None without one)."""
    address = os.environ.get(ADDRESS_ENV)
    if not address:
        return None
    host, _, port = address.rpartition(":")
    conn = Connection(socket.create_connection((host, int(port)), timeout=30))
    conn._sock.settimeout(None)
    conn.send({"type": "hello", "token": os.environ.get(TOKEN_ENV, ""), **hello})
    return conn
