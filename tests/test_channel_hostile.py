"""The kernel-worker channel against hostile or broken peers (real sockets on 127.0.0.1, real torchrun).

Before authentication a peer gets a few seconds and a few KiB to say hello; whatever it sends, the
listener drops it and keeps accepting, so the real worker still gets in. After authentication every
frame is still checked (header shape, JSON nesting, each buffer's key, dtype, shape and size) and a
bad one ends the channel with :class:`channel.FrameError`, never another exception type.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import genwidgets as gw
from genwidgets.launcher import launched
from genwidgets.runtime import channel

_MiB = 1024 * 1024


def _frame(header: Any, body: bytes = b"") -> bytes:
    """One frame as the wire has it: 4-byte length, the header (JSON unless already bytes), the body."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack(">I", len(raw)) + raw + body


def _connect(address: str) -> socket.socket:
    host, _, port = address.rpartition(":")
    return socket.create_connection((host, int(port)), timeout=30)


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def _closed_by_peer(sock: socket.socket, timeout: float = 10.0) -> bool:
    """True once the other end has closed ``sock`` (EOF or reset) within ``timeout``; False if still open."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return True


class _Accept(threading.Thread):
    """``listener.accept()`` in a thread; ``outcome()`` is the (conn, hello) it returned or what it raised."""

    def __init__(self, listener: channel.Listener, timeout: float = 30.0) -> None:
        super().__init__(daemon=True)
        self.listener, self.timeout = listener, timeout
        self.result: Any = None

    def run(self) -> None:
        try:
            self.result = self.listener.accept(timeout=self.timeout)
        except BaseException as exc:  # noqa: BLE001 - the test reports what the accepting thread died of
            self.result = exc

    def outcome(self, timeout: float = 15.0) -> Any:
        self.join(timeout)
        assert not self.is_alive(), f"accept() did not return within {timeout} s"
        return self.result


def _real_worker(listener: channel.Listener, monkeypatch: pytest.MonkeyPatch) -> channel.Connection:
    """Connect and say hello exactly as a worker's rank 0 does (connect_from_env, the listener's env)."""
    for name, value in listener.env().items():
        monkeypatch.setenv(name, value)
    conn = channel.connect_from_env({"rank": 0, "world_size": 2, "pids": [1, 2]})
    assert conn is not None
    return conn


def _assert_real_worker_got_in(accepting: _Accept) -> channel.Connection:
    outcome = accepting.outcome()
    assert isinstance(outcome, tuple), f"accept() died instead of letting the worker in: {outcome!r}"
    conn, hello = outcome
    assert hello.type == "hello" and hello.header["rank"] == 0 and hello.header["pids"] == [1, 2]
    return conn


@pytest.fixture
def listener() -> Iterator[channel.Listener]:
    listening = channel.Listener()
    yield listening
    listening.close()


def _hello(token: str = "wrong", **fields: Any) -> dict[str, Any]:
    return {"type": "hello", "token": token, **fields}


_DEEP_HELLO = b"[" * 20_000 + b"]" * 20_000  # 40 KB: inside the hello's size bound, far past any sane nesting
_HOSTILE_HELLOS = {
    "header is a list": _frame([1, 2, 3]),
    "header nested 20k deep": _frame(_DEEP_HELLO),
    "negative nbytes": _frame(_hello(buffers=[{"key": "x", "dtype": "raw", "shape": [-5], "nbytes": -5}])),
    "unknown dtype": _frame(_hello(buffers=[{"key": "x", "dtype": "<x9", "shape": [1], "nbytes": 4}]), b"abcd"),
    "shape does not match nbytes": _frame(
        _hello(buffers=[{"key": "x", "dtype": "<f4", "shape": [3], "nbytes": 4}]), b"abcd"),
    "buffer spec missing fields": _frame(_hello(buffers=[{"key": "x"}]), b"abcd"),
    "non-ASCII token": _frame(_hello(token="jeton-é")),
}


@pytest.mark.parametrize("hostile", list(_HOSTILE_HELLOS), ids=list(_HOSTILE_HELLOS))
def test_a_malformed_hello_is_dropped_and_the_real_worker_still_gets_in(
        listener: channel.Listener, monkeypatch: pytest.MonkeyPatch, hostile: str) -> None:
    """Protects: one bad frame before the token check used to kill the accepting thread (and the launch)."""
    accepting = _Accept(listener)
    accepting.start()
    with _connect(listener.address) as peer:
        peer.sendall(_HOSTILE_HELLOS[hostile])
        assert _closed_by_peer(peer), "the listener kept a peer that sent a malformed hello"
    conn = _real_worker(listener, monkeypatch)
    try:
        _assert_real_worker_got_in(accepting).close()
    finally:
        conn.close()


def test_an_idle_peer_does_not_keep_the_real_worker_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Protects: a peer that connects and says nothing used to stall accept() until the workers were killed."""
    listening = channel.Listener(hello_timeout=60.0)  # the idle peers stay connected for 60 s at least
    accepting = _Accept(listening)
    accepting.start()
    idle = _connect(listening.address)
    half = _connect(listening.address)
    half.sendall(b"\x00\x00")  # half a length prefix, then nothing
    try:
        conn = _real_worker(listening, monkeypatch)
        _assert_real_worker_got_in(accepting).close()  # within 15 s: while both idle peers were still connected
        conn.close()
    finally:
        idle.close()  # also unblocks an accept() stuck reading the idle peer
        half.close()
        listening.close()


@pytest.mark.parametrize("sends", [b"", b"\x00\x00\x03\xe8" + b'{"type": "hel'], ids=["nothing", "part of a hello"])
def test_a_peer_that_does_not_finish_its_hello_in_time_is_dropped(
        monkeypatch: pytest.MonkeyPatch, sends: bytes) -> None:
    """Protects: each pre-authentication connection has a deadline; after it the peer is closed, accept goes on."""
    listening = channel.Listener(hello_timeout=0.5)
    accepting = _Accept(listening)
    accepting.start()
    slow = _connect(listening.address)
    try:
        slow.sendall(sends)
        assert _closed_by_peer(slow, timeout=10.0), "a silent peer was still connected 10 s after its hello deadline"
        conn = _real_worker(listening, monkeypatch)
        _assert_real_worker_got_in(accepting).close()
        conn.close()
    finally:
        slow.close()
        listening.close()


def test_a_flood_of_silent_callers_does_not_keep_the_real_worker_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Protects: past max_pending waiting callers the oldest is dropped, so a flood cannot fill the listener."""
    listening = channel.Listener(hello_timeout=60.0, max_pending=4)
    accepting = _Accept(listening)
    accepting.start()
    flood = [_connect(listening.address) for _ in range(12)]
    try:
        _wait_for(lambda: sum(_closed_by_peer(s, timeout=0.01) for s in flood[:8]) == 8, 10,
                  "the oldest callers to be dropped")
        conn = _real_worker(listening, monkeypatch)
        _assert_real_worker_got_in(accepting).close()
        conn.close()
    finally:
        for sock in flood:
            sock.close()
        listening.close()


def test_closing_the_listener_ends_an_accept_in_progress(listener: channel.Listener) -> None:
    """Protects: when the workers die before connecting, the kernel closes the listener and its accepting
    thread ends at once (ChannelClosed, an OSError) instead of blocking in accept() until the timeout."""
    accepting = _Accept(listener, timeout=120.0)
    accepting.start()
    with _connect(listener.address) as caller:  # its wrong hello being dropped shows accept() is under way
        caller.sendall(_frame(_hello()))
        assert _closed_by_peer(caller)
    listener.close()
    outcome = accepting.outcome(timeout=10.0)
    assert isinstance(outcome, channel.ChannelClosed) and isinstance(outcome, OSError), outcome


def test_a_huge_hello_is_cut_off_at_its_header_without_reading_or_buffering_the_body(
        listener: channel.Listener, monkeypatch: pytest.MonkeyPatch) -> None:
    """Protects: a 200 MB body after a hello used to be read (and held) whole before the token was checked."""
    size = 200 * _MiB
    header = _frame(_hello(buffers=[{"key": "x", "dtype": "raw", "shape": [size],
                                                           "nbytes": size}]))
    sent = {"bytes": 0, "error": None}

    def flood() -> None:
        chunk = bytes(_MiB)
        with _connect(listener.address) as peer:
            try:
                peer.sendall(header)
                for _ in range(size // _MiB):
                    peer.sendall(chunk)
                    sent["bytes"] += len(chunk)
            except OSError as exc:
                sent["error"] = exc

    tracemalloc.start()
    try:
        accepting = _Accept(listener)
        accepting.start()
        flooding = threading.Thread(target=flood, daemon=True)
        flooding.start()
        flooding.join(60)
        assert not flooding.is_alive(), "the flooding peer was neither read nor cut off within 60 s"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    conn = _real_worker(listener, monkeypatch)
    try:
        _assert_real_worker_got_in(accepting).close()
    finally:
        conn.close()
    assert isinstance(sent["error"], OSError), f"the listener read all {sent['bytes']} bytes of the body"
    assert sent["bytes"] < 32 * _MiB, f"{sent['bytes']} bytes went in before the peer was cut off"
    assert peak < 16 * _MiB, f"the listener held {peak / _MiB:.0f} MiB for a peer it never authenticated"


# ---- after authentication: every frame still checked ---------------------------------------------------------
@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, channel.Connection]]:
    """A raw socket (the peer) and the Connection it talks to, over 127.0.0.1."""
    server = socket.create_server(("127.0.0.1", 0))
    raw = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    server.close()
    conn = channel.Connection(accepted)
    yield raw, conn
    raw.close()
    conn.close()


def _spec(**fields: Any) -> dict[str, Any]:
    return {"type": "event", "kind": "samples", "step": 1, "buffers": [fields]}


_MALFORMED = {
    "header is a list": (_frame([1, 2, 3]), "JSON object"),
    "header nested 100k deep": (_frame(b"[" * 100_000 + b"]" * 100_000), "nest"),
    "object nested 100k deep": (_frame(b'{"a":' * 100_000 + b"1" + b"}" * 100_000), "nest"),
    "buffers is not a list": (_frame({"type": "event", "buffers": 5}), "buffers"),
    "buffer spec is not an object": (_frame({"type": "event", "buffers": [1]}), "buffer"),
    "negative nbytes": (_frame(_spec(key="x", dtype="raw", shape=[-5], nbytes=-5)), "nbytes"),
    "nbytes is text": (_frame(_spec(key="x", dtype="raw", shape=[3], nbytes="abc")), "nbytes"),
    "unknown dtype": (_frame(_spec(key="x", dtype="<x9", shape=[1], nbytes=4), b"abcd"), "dtype"),
    "object dtype": (_frame(_spec(key="x", dtype="|O", shape=[1], nbytes=8), bytes(8)), "dtype"),
    "shape does not match nbytes": (_frame(_spec(key="x", dtype="<f4", shape=[3], nbytes=4), b"abcd"), "shape"),
    "shape is text": (_frame(_spec(key="x", dtype="<f4", shape="abc", nbytes=4), b"abcd"), "shape"),
    "buffer spec missing fields": (_frame(_spec(key="x"), b"abcd"), "dtype"),
}


@pytest.mark.parametrize("case", list(_MALFORMED), ids=list(_MALFORMED))
def test_a_malformed_frame_from_an_authenticated_peer_ends_the_channel_with_a_clear_reason(
        pair: tuple[socket.socket, channel.Connection], case: str) -> None:
    """Protects: receive() raised RecursionError/ValueError/TypeError/KeyError/AttributeError on a bad frame,
    killing the reader thread; now it is always ChannelClosed (FrameError) naming what was wrong."""
    raw, conn = pair
    data, reason = _MALFORMED[case]
    raw.sendall(data)
    with pytest.raises(channel.ChannelClosed) as caught:
        conn.receive()
    assert isinstance(caught.value, channel.FrameError)
    assert reason in str(caught.value) and "\n" not in str(caught.value)
    assert conn.closed and _closed_by_peer(raw), "a channel out of step with its peer stayed open"


def test_a_frame_over_the_size_limit_is_refused_before_its_body_is_read() -> None:
    """Protects: an authenticated peer's frame is bounded too; the refusal says which limit and how to raise it."""
    server = socket.create_server(("127.0.0.1", 0))
    raw = socket.create_connection(server.getsockname())
    conn = channel.Connection(server.accept()[0], max_frame=_MiB)
    server.close()
    try:
        raw.sendall(_frame(_spec(key="x", dtype="raw", shape=[2 * _MiB], nbytes=2 * _MiB)))  # no body follows
        with pytest.raises(channel.FrameError, match=rf"over the channel's limit of {_MiB} bytes.*"
                                                     rf"{channel.MAX_FRAME_ENV}"):
            conn.receive()
    finally:
        raw.close()
        conn.close()


def test_good_frames_still_round_trip_after_the_checks(pair: tuple[socket.socket, channel.Connection]) -> None:
    """Protects: the checks accept everything Connection.send writes (arrays of every kind, raw bytes, empties)."""
    import numpy as np

    raw, conn = pair
    sender = channel.Connection(raw)
    arrays = {"f": np.ones((2, 3), np.float32), "b": np.array([True, False]), "c": np.zeros(2, np.complex64),
              "e": np.zeros((0, 4), np.int64), "s": np.full((), 2.5), "u": np.arange(5, dtype=">u2")}
    sender.send({"type": "event", "kind": "k", "step": 3}, data={**arrays, "n": 1}, raw={"blob": b"xyz", "z": b""})
    message = conn.receive()
    for key, array in arrays.items():
        np.testing.assert_array_equal(message.arrays[key], array)
        assert message.arrays[key].dtype == array.dtype
    assert bytes(message.arrays["blob"]) == b"xyz" and bytes(message.arrays["z"]) == b""
    assert message.header["data"] == {"n": 1}


# ---- the torchrun rendezvous: loopback only ------------------------------------------------------------------
_GLOO_WORKER = """
import os, sys, time
from pathlib import Path
import torch.distributed as dist
dist.init_process_group("gloo")
dist.barrier()
here = Path(sys.argv[1])
(here / f"ready-{os.environ['RANK']}").write_text(os.environ["MASTER_ADDR"])
deadline = time.monotonic() + 120
while not (here / "go").exists() and time.monotonic() < deadline:
    time.sleep(0.05)
dist.barrier()
dist.destroy_process_group()
"""


def _listening(pid: int) -> list[tuple[int, str]]:
    """(pid, address) of every listening TCP socket of ``pid`` and its descendants."""
    psutil = pytest.importorskip("psutil")
    root = psutil.Process(pid)
    found = []
    for proc in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            found += [(proc.pid, c.laddr.ip) for c in proc.net_connections(kind="inet")
                      if c.status == psutil.CONN_LISTEN]
    return found


def test_the_torchrun_command_keeps_every_rendezvous_socket_on_loopback(tmp_path: Path) -> None:
    """Protects: ``torchrun --standalone`` listened on every interface (its TCP stores on ``::``), so anyone on
    the network could reach the unauthenticated rendezvous; the launch command binds them to 127.0.0.1."""
    script = tmp_path / "worker.py"
    script.write_text(_GLOO_WORKER)
    command = launched.torchrun_command(2, [str(script), str(tmp_path)])
    env = {**os.environ, **launched.loopback_env()}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        _wait_for(lambda: len(list(tmp_path.glob("ready-*"))) == 2 or process.poll() is not None, 120,
                  "both ranks to join the process group")
        assert process.poll() is None, process.communicate()[0].decode()[-2000:]
        sockets = _listening(process.pid)
        assert any(pid == process.pid for pid, _ in sockets), f"torchrun hosts no store? {sockets}"
        exposed = [(pid, ip) for pid, ip in sockets if ip not in ("127.0.0.1", "::1")]
        assert not exposed, f"listening beyond loopback: {exposed}"
        assert {p.read_text() for p in tmp_path.glob("ready-*")} == {"127.0.0.1"}
        (tmp_path / "go").touch()
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0, out.decode()[-2000:]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.wait(10)


@pytest.mark.slow
def test_a_real_launch_listens_on_loopback_only(tmp_path: Path) -> None:
    """Protects: a launched run (torchrun, its stores, the workers' gloo sockets) exposes nothing to the network."""
    run = gw.launch("gan", data="ring", processes=2, preset="tiny", steps=None, out=tmp_path, log_every=5)
    try:
        _wait_for(lambda: run.step_count > 0, 120, "first steps")
        sockets = _listening(run._process.pid)
        assert sockets, "no listening socket found at all: the check would prove nothing"
        assert all(ip in ("127.0.0.1", "::1") for _, ip in sockets), f"listening beyond loopback: {sockets}"
    finally:
        run.stop(timeout=20)
    assert run.returncode == 0


def test_a_bad_frame_from_the_workers_closes_their_channel_with_a_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Protects: the kernel's reader of a launched run died on an unreadable frame (the run went deaf); now the
    channel closes (so rank 0 stops the workers, checkpoint first) and the run says why in a warning event."""
    run = gw.launch("gan", data="ring", processes=2, preset="tiny", out=tmp_path, start=False)
    warnings: list[str] = []
    run.subscribe(lambda event: warnings.append(event.data["message"]), kinds=["warning"])
    run._listener = channel.Listener()
    reader = threading.Thread(target=run._accept, daemon=True)
    reader.start()
    worker = _real_worker(run._listener, monkeypatch)
    try:
        _wait_for(lambda: run._conn is not None, 10, "the kernel to accept rank 0")
        worker._sock.sendall(_frame(_spec(key="x", dtype="<x9", shape=[1], nbytes=4), b"abcd"))
        _wait_for(lambda: bool(warnings), 10, "the warning event")
        assert "could not be read" in warnings[0] and "dtype '<x9'" in warnings[0]
        assert _closed_by_peer(worker._sock), "the kernel kept reading a channel out of step with rank 0"
        reader.join(10)
        assert not reader.is_alive()
    finally:
        worker.close()
