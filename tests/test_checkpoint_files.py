import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from genwidgets import CheckpointError
from genwidgets.runtime.checkpoint import (
    list_checkpoints,
    optimizer_from_flat,
    optimizer_to_flat,
    read_checkpoint,
    resolve_checkpoint,
    write_checkpoint,
)


def test_roundtrip_and_no_pickle(tmp_path):
    tensors = {"model.w": torch.randn(3, 4), "rng.torch": torch.get_rng_state()}
    path = write_checkpoint(tmp_path / "checkpoints" / "step-00000010", tensors, {"step": 10})
    back, state = read_checkpoint(path)
    assert torch.equal(back["model.w"], tensors["model.w"]) and state["step"] == 10
    assert sorted(p.name for p in path.iterdir()) == ["state.json", "weights.safetensors"]
    assert resolve_checkpoint(tmp_path) == path and list_checkpoints(tmp_path) == [path]


def test_optimizer_state_roundtrip():
    p = torch.nn.Parameter(torch.randn(5))
    opt = torch.optim.Adam([p], lr=0.01, betas=(0.5, 0.9))
    p.sum().backward()
    opt.step()
    tensors, meta = optimizer_to_flat("g", opt)
    meta = json.loads(json.dumps(meta))  # it must survive JSON
    opt2 = torch.optim.Adam([torch.nn.Parameter(p.detach().clone())], lr=0.5)
    optimizer_from_flat("g", opt2, tensors, meta)
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["betas"] == (0.5, 0.9)
    assert torch.equal(opt2.state[opt2.param_groups[0]["params"][0]]["exp_avg"], opt.state[p]["exp_avg"])


def test_corrupt_truncated_and_missing_files_are_named(tmp_path):
    path = write_checkpoint(tmp_path / "c", {"w": torch.zeros(1000)}, {})
    weights = path / "weights.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"weights.safetensors is corrupt or truncated"):
        read_checkpoint(path)
    (path / "state.json").write_text("{not json")
    with pytest.raises(CheckpointError, match=r"state.json is corrupt"):
        read_checkpoint(path)
    (path / "state.json").unlink()
    with pytest.raises(CheckpointError, match=r"incomplete: state.json is missing"):
        read_checkpoint(path)
    with pytest.raises(CheckpointError, match=r"no checkpoint at"):
        read_checkpoint(tmp_path / "nowhere")


def test_failed_write_leaves_previous_checkpoint_and_no_debris(tmp_path):
    good = write_checkpoint(tmp_path / "step-00000001", {"w": torch.ones(3)}, {"step": 1})
    with pytest.raises(CheckpointError, match="could not write checkpoint"):
        write_checkpoint(tmp_path / "step-00000002", {"w": torch.ones(3)}, {"step": object()})
    with pytest.raises(CheckpointError, match="could not write checkpoint"):  # overwrite attempt fails too
        write_checkpoint(good, {"w": torch.zeros(3)}, {"bad": float("nan")})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step-00000001"]
    tensors, state = read_checkpoint(good)
    assert torch.equal(tensors["w"], torch.ones(3)) and state["step"] == 1


WRITER = textwrap.dedent("""
    import sys, torch
    from genwidgets.runtime.checkpoint import write_checkpoint, checkpoint_name
    root = sys.argv[1]
    big = {f"w{i}": torch.full((256, 1024), float(i)) for i in range(16)}   # 16 MB per checkpoint
    step = 0
    print("ready", flush=True)
    while True:
        step += 1
        write_checkpoint(f"{root}/{checkpoint_name(step)}", big, {"step": step})
""")


@pytest.mark.parametrize("delay", [0.0, 0.15, 0.4])
def test_sigkill_mid_write_never_exposes_a_partial_checkpoint(tmp_path, delay):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 120
    while not list_checkpoints(tmp_path):  # wait on state: one checkpoint written, whatever the machine's load
        assert time.monotonic() < deadline and proc.poll() is None, "the writer finished no checkpoint"
        time.sleep(0.005)
    time.sleep(delay)  # then kill at different points of the following writes
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    complete = list_checkpoints(tmp_path)
    for path in complete:  # every visible checkpoint is whole
        tensors, state = read_checkpoint(path)
        assert len(tensors) == 16 and state["step"] == int(path.name.split("-")[1])
    assert resolve_checkpoint(tmp_path) == complete[-1]


def test_a_safetensors_file_whose_header_length_starts_like_a_pickle_is_not_refused(tmp_path):
    """A safetensors header length of 0x80 + 256k bytes starts with the byte a pickle starts with (1 file in 256)."""
    from safetensors.torch import save_file

    from genwidgets.runtime.checkpoint import is_pickle_file, load_tensor_file

    for n in range(1, 200):
        tensors = {f"w{i}": torch.zeros(1) for i in range(n)}
        save_file(tensors, str(tmp_path / "w.safetensors"))
        if (tmp_path / "w.safetensors").read_bytes()[:1] == b"\x80":
            break
    else:
        pytest.fail("no header length starting with 0x80 found")
    assert not is_pickle_file(tmp_path / "w.safetensors")
    assert set(load_tensor_file(tmp_path / "w.safetensors")) == set(tensors)
    pickled = tmp_path / "p.weights"
    torch.save({"w": torch.zeros(1)}, pickled, _use_new_zipfile_serialization=False)
    assert is_pickle_file(pickled)
