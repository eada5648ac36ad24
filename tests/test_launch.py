"""genwidgets.launch: torchrun workers outside the kernel, driven and watched from the kernel (real processes)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

import genwidgets as gw
from genwidgets.runtime import channel
from genwidgets.runtime.checkpoint import list_checkpoints, read_checkpoint


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def _wait_for(condition, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _mirror_matches(run: gw.LaunchedRun, checkpoint: Path) -> None:
    tensors, _ = read_checkpoint(checkpoint)
    state = run.model.state_dict()
    saved = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    assert set(saved) == set(state)
    for key, value in saved.items():
        assert torch.equal(value, state[key]), f"mirror differs from rank 0's checkpoint at {key}"


@pytest.mark.slow
def test_launched_run_is_driven_from_the_kernel_and_stop_ends_every_worker(tmp_path: Path) -> None:
    """Protects: 2 torchrun workers train while the kernel sees rank 0's events; pause, step(n), live edits and
    save act on every worker at one step boundary; the kernel's mirror holds rank 0's weights; stop ends them all."""
    out = tmp_path / "run"
    run = gw.launch("dcgan", data="mnist", processes=2, preset="tiny", steps=None, out=out,
                    log_every=1, sample_every=5, checkpoint_every=None, schedule={2: {"lr_d": 5e-5}})
    try:
        assert len(run.pids) == 2 and all(_alive(p) for p in run.pids)
        assert run.runtime.describe()["processes"] == 2
        _wait_for(lambda: run.latest_samples is not None and len(run.history) >= 5, what="metrics and samples")
        assert run.state == "running"
        assert run.latest_samples.data["images"].dtype == np.uint8
        assert run.latest_samples.data["images"].shape[1:] == (28, 28, 1)
        assert set(run.latest_metrics) >= {"loss_d", "loss_g"}

        run.pause()
        assert run.state == "paused"
        paused_at = run.step_count
        time.sleep(0.8)
        assert run.step_count == paused_at, "the workers kept training while paused"

        metrics = run.step(3)
        assert run.step_count == paused_at + 3 and run.state == "paused"
        assert set(metrics) >= {"loss_d", "loss_g"}

        assert run.hparams["lr_d"] == pytest.approx(5e-5)  # the planned edit at step 2, announced by rank 0
        run.set_hparams(lr_g=1e-4)
        _wait_for(lambda: run.hparams["lr_g"] == pytest.approx(1e-4), 30, "the hparams event from rank 0")
        assert run.hparams["lr_g"] == pytest.approx(1e-4)
        with pytest.raises(gw.ConfigError, match="cannot change during training"):
            run.set_hparams(latent_dim=3)

        saved = run.save()
        assert saved.parent == out / "checkpoints"
        mine = tmp_path / "mine"
        mine.mkdir()
        (mine / "notes.txt").write_text("keep me")
        with pytest.raises(gw.CheckpointError, match=r"holds files genwidgets did not write \(notes.txt\)"):
            run.save(mine)  # refused in the kernel, before any worker is asked
        assert [p.name for p in mine.iterdir()] == ["notes.txt"]
        run.refresh_weights()
        _mirror_matches(run, saved)

        run.resume()
        _wait_for(lambda: run.step_count > paused_at + 6, what="training to go on after resume")
        pids = list(run.pids)
        run.stop()
        assert run.state == "stopped" and run.returncode == 0
        assert not any(_alive(p) for p in pids), "a worker outlived stop()"
        final = list_checkpoints(out)[-1]
        _mirror_matches(run, final)  # the mirror got rank 0's weights as the run stopped
        _, state = read_checkpoint(final)
        assert state["config"]["lr_g"] == pytest.approx(1e-4)
        assert state["config"]["lr_d"] == pytest.approx(5e-5)  # the planned edit, made by every worker at step 2
        assert state["run"]["schedule"] == [[2, {"lr_d": 5e-5}]]
        assert gw.load_model(out).sample(4).shape == (4, 1, 28, 28)
    finally:
        run.stop(timeout=20)


@pytest.fixture
def training_gan(tmp_path: Path) -> Iterator[gw.LaunchedRun]:
    """Two workers training a tiny GAN on ``ring`` until stopped (out: tmp_path/run), past their first steps."""
    run = gw.launch("gan", data="ring", processes=2, preset="tiny", steps=None, out=tmp_path / "run", log_every=5)
    try:
        _wait_for(lambda: run.step_count > 0, what="first steps")
        yield run
    finally:
        run.stop(timeout=20)


@pytest.mark.slow
def test_a_worker_that_dies_fails_the_run_with_a_readable_error_and_no_worker_is_left(training_gan) -> None:
    """Protects: when one rank dies (SIGKILL), torchrun ends the others and the kernel reports the failure."""
    run = training_gan
    pids = list(run.pids)
    os.kill(pids[1], signal.SIGKILL)
    _wait_for(lambda: run.returncode is not None, 120, "torchrun to end")
    assert run.state == "failed"
    assert "exited with status" in run.error_message and "workers.log" in run.error_message
    with pytest.raises(gw.RunError):
        run.wait()
    _wait_for(lambda: not any(_alive(p) for p in pids), 30, "every worker to end")


@pytest.mark.slow
def test_workers_stop_by_themselves_when_the_kernel_goes_away(training_gan, tmp_path: Path) -> None:
    """Protects: a kernel that dies (its channel closes) leaves no orphan training processes behind."""
    run = training_gan
    run._conn.close()  # what the kernel's death looks like from rank 0
    _wait_for(lambda: run.returncode is not None, 60, "the workers to stop")
    assert run.returncode == 0
    assert not any(_alive(p) for p in run.pids)
    assert list_checkpoints(tmp_path / "run"), "no final checkpoint after the kernel went away"


@pytest.mark.slow
def test_a_launched_run_continues_from_its_checkpoint_in_new_workers(tmp_path: Path) -> None:
    """Protects: launch(resume=...) gives every worker the checkpoint's weights, optimizers and data order,
    and the kernel's mirror and history start from it."""
    first = gw.launch("gan", data="ring", processes=2, preset="tiny", steps=8, out=tmp_path / "a", log_every=2)
    first.wait()
    assert first.state == "finished" and first.step_count == 8
    with pytest.raises(gw.RunError, match="resume="):
        first.start()
    second = gw.launch(resume=tmp_path / "a", steps=14, out=tmp_path / "b", processes=2, log_every=2)
    try:
        assert second.model.name == "gan" and second.data_source["name"] == "ring"
        assert second.history.snapshot()["steps"][-1] == 8  # the first run's curve, continued
        _mirror_matches(second, list_checkpoints(tmp_path / "a")[-1])
        second.wait()
        assert second.state == "finished" and second.step_count == 14
        final = list_checkpoints(tmp_path / "b")[-1]
        assert final.name == "step-00000014"
        _mirror_matches(second, final)
    finally:
        second.stop(timeout=20)
    with pytest.raises(gw.ConfigError, match="holds a 'gan' model"):
        gw.launch("vae", resume=tmp_path / "a", start=False)


@pytest.mark.slow
def test_processes_that_linger_after_the_run_ended_are_ended_by_the_kernel(tmp_path: Path) -> None:
    """Protects: when the run has ended but its processes do not exit (here torchrun is stopped, so it cannot),
    the kernel ends them after the grace period, warns, and the run keeps its reported state: wait() returns."""
    run = gw.launch("gan", data="ring", processes=2, preset="tiny", steps=300, out=tmp_path, log_every=50,
                    exit_grace=2.0)
    warnings: list[str] = []
    run.subscribe(lambda ev: warnings.append(ev.data["message"]), kinds=["warning"])
    torchrun = run._process.pid
    os.kill(torchrun, signal.SIGSTOP)  # the workers train on and exit; torchrun cannot exit
    try:
        _wait_for(lambda: run.returncode is not None, 90, "the kernel to end the lingering processes")
        assert run.state == "finished" and run.error is None
        assert run.returncode != 0
        run.wait()  # no error: the run itself finished
        _wait_for(lambda: bool(warnings), 10, "the warning event")
        assert "had not exited 2 s later" in warnings[0] and "workers.log" in warnings[0]
        assert list_checkpoints(tmp_path)[-1].name == "step-00000300"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(torchrun, signal.SIGCONT)
        run.stop(timeout=20)


def test_launch_refuses_what_the_workers_could_not_run_before_starting_them(tmp_path: Path) -> None:
    """Protects: families DDP cannot wrap, batches that do not split, and model objects fail in the kernel, at once."""
    with pytest.raises(gw.ConfigError, match="d_steps"):
        gw.launch("wgan_gp", data="ring", processes=2, preset="tiny", start=False)
    with pytest.raises(gw.ConfigError, match="divide evenly"):
        gw.launch("gan", data="ring", processes=3, preset="tiny", config={"batch_size": 64}, start=False)
    with pytest.raises(gw.ConfigError, match="registered model name"):
        gw.launch(gw.build_model("gan", preset="tiny", data_spec=gw.load_data("ring").spec), data="ring")
    with pytest.raises(gw.ConfigError, match="processes"):
        gw.launch("gan", data="ring", processes=0)
    with pytest.raises(gw.ConfigError, match="the schedule at step 5 edits latent_dim"):
        gw.launch("gan", data="ring", processes=2, preset="tiny", schedule={5: {"latent_dim": 3}}, start=False)


def test_launch_writes_array_data_for_the_workers(tmp_path: Path) -> None:
    """Protects: user arrays reach the workers as a file in the run directory (no pickle), labels included."""
    x = np.random.default_rng(0).normal(size=(256, 2)).astype(np.float32)
    labels = np.arange(256) % 4
    run = gw.launch("cgan", data=x, labels=labels, processes=2, preset="tiny", out=tmp_path, start=False)
    with np.load(run.spec["data"]["npz"], allow_pickle=False) as saved:
        np.testing.assert_array_equal(saved["x"], x)
        np.testing.assert_array_equal(saved["labels"], labels)
    assert run.state == "created" and not run.is_alive


def test_channel_round_trips_arrays_and_bytes_and_refuses_a_wrong_token() -> None:
    """Protects: the kernel-worker wire format (JSON header + raw buffers, never pickle) and its token check."""
    listener = channel.Listener()
    host, port = listener.address.rsplit(":", 1)
    received: dict[str, object] = {}

    def serve() -> None:
        conn, hello = listener.accept(timeout=20)
        received["hello"] = hello.header
        received["message"] = conn.receive()
        conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    intruder = socket.create_connection((host, int(port)))
    channel.Connection(intruder).send({"type": "hello", "token": "wrong"})
    os.environ[channel.ADDRESS_ENV], os.environ[channel.TOKEN_ENV] = listener.address, listener.token
    try:
        conn = channel.connect_from_env({"rank": 0})
    finally:
        del os.environ[channel.ADDRESS_ENV], os.environ[channel.TOKEN_ENV]
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    conn.send({"type": "event", "kind": "samples"}, data={"images": images, "labels": None, "err": ValueError("x")},
              raw={"blob": b"\x00\x01\x02"})
    thread.join(20)
    listener.close()
    intruder.close()
    assert received["hello"]["rank"] == 0
    message = received["message"]
    assert message.type == "event"
    np.testing.assert_array_equal(message.arrays["images"], images)
    assert bytes(message.arrays["blob"]) == b"\x00\x01\x02"
    assert message.header["data"] == {"labels": None, "err": "ValueError: x"}


@pytest.mark.slow
def test_launched_workers_train_on_the_train_part_they_were_given(tmp_path: Path) -> None:
    """Protects: a train/test part reaches the workers as a recipe (name + split), and checkpoints record it."""
    from genwidgets.data.splits import train_test_split

    train, _ = train_test_split(gw.load_data("ring"))
    run = gw.launch("gan", data=train, processes=2, preset="tiny", steps=4, out=tmp_path, log_every=2)
    run.wait()
    _, state = read_checkpoint(list_checkpoints(tmp_path)[-1])
    assert state["data"]["split"] == {"part": "train", "test_fraction": 0.2, "seed": 0}
    resumed = gw.resume(tmp_path, steps=4, start=False)
    assert len(resumed.data) == len(train)
    assert torch.equal(resumed.data.indices, train.indices)
