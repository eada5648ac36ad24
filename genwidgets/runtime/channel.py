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
import os
import secrets
import socket
import struct
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

ADDRESS_ENV = "GENWIDGETS_CHANNEL"
TOKEN_ENV = "GENWIDGETS_CHANNEL_TOKEN"
_HEADER = struct.Struct(">I")
_MAX_HEADER = 16 * 1024 * 1024


class ChannelClosed(ConnectionError):
    """The other end closed the channel (or sent something that is not a frame)."""


@dataclass
class Message:
    """One frame: a JSON-ready ``header`` (with ``type``) and the arrays that travelled as buffers."""

    header: dict[str, Any]
    arrays: dict[str, np.ndarray]

    @property
    def type(self) -> str:
        """The message type (``hello``, ``event``, ``weights``, ``command``, ...)."""
        return str(self.header.get("type", ""))


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


class Connection:
    """One end of the channel: thread-safe ``send``; ``receive`` from one reader thread."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._send_lock = threading.Lock()
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
            payload.append(memoryview(array).cast("B"))
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
        """Block until the next message arrives; raise :class:`ChannelClosed` at the end."""
        (length,) = _HEADER.unpack(self._read(_HEADER.size))
        if length > _MAX_HEADER:
            raise ChannelClosed(f"a header of {length} bytes is not a genwidgets frame")
        try:
            header = json.loads(self._read(length))
        except ValueError as exc:
            raise ChannelClosed(f"a header that is not JSON: {exc}") from exc
        arrays: dict[str, np.ndarray] = {}
        for spec in header.pop("buffers", []):
            blob = self._read(int(spec["nbytes"]))
            if spec["dtype"] == "raw":
                arrays[spec["key"]] = np.frombuffer(blob, dtype=np.uint8)
            else:
                arrays[spec["key"]] = np.frombuffer(blob, dtype=np.dtype(spec["dtype"])).reshape(spec["shape"])
        return Message(header, arrays)

    def _read(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
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


class Listener:
    """The kernel's end: listens on 127.0.0.1 and accepts one worker that knows the token."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(16)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._server.getsockname()[1]}"

    def env(self) -> dict[str, str]:
        """Environment variables that tell a worker where to connect and how to prove itself."""
        return {ADDRESS_ENV: self.address, TOKEN_ENV: self.token}

    def accept(self, timeout: float | None = None) -> tuple[Connection, Message]:
        """Wait for a worker; return its connection and its ``hello`` message.

        Connections whose first message is not a hello with the right token are dropped.
        """
        self._server.settimeout(timeout)
        while True:
            sock, _ = self._server.accept()
            sock.settimeout(None)
            conn = Connection(sock)
            try:
                hello = conn.receive()
            except ChannelClosed:
                continue
            given = str(hello.header.get("token", ""))
            if hello.type == "hello" and hmac.compare_digest(given, self.token):
                return conn, hello
            conn.close()

    def close(self) -> None:
        """Stop listening."""
        self._server.close()


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
