"""The GPU path of the runtime: channels-last, torch.compile, pinned non-blocking copies.

Everything here runs real torch on the CPU (channels-last and inductor both work there); the
pinned-memory copy needs a CUDA device and is skipped without one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import genwidgets as gw
from genwidgets import ConfigError, DeviceError, Runtime
from genwidgets.cli import build_parser
from genwidgets.data.base import Batch
from genwidgets.runtime.checkpoint import read_checkpoint, resolve_checkpoint
from genwidgets.runtime.run import Run
from genwidgets.runtime.runtime import compile_network, has_conv2d

# Importing torch._dynamo (torch.compile) warns about torch.jit internals; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")

CHANNELS_LAST = torch.channels_last
# Inductor compiles CPU kernels with a C++ compiler ($CXX, else g++ / clang++).
HAS_CXX = any(shutil.which(c) for c in (os.environ.get("CXX") or "g++", "clang++"))
needs_cxx = pytest.mark.skipif(not HAS_CXX, reason="torch.compile (inductor) needs a C++ compiler on PATH; none here")


@pytest.fixture
def rgb() -> np.ndarray:
    """64 random RGB images of 16x16: three channels, so channels-last strides differ from contiguous ones."""
    return np.random.default_rng(0).random((64, 3, 16, 16), dtype=np.float32)


def _run(model: str, data: np.ndarray, *, steps: int = 50, **options) -> Run:
    return gw.train(model, data=data, preset="tiny", steps=steps, device="cpu", start=False, log_every=1,
                    sample_every=1000, checkpoint_every=None, plugin_events=False, **options)


def _assert_metrics_close(a: list[dict[str, float]], b: list[dict[str, float]]) -> None:
    assert len(a) == len(b) and a
    for step, (x, y) in enumerate(zip(a, b, strict=True), 1):
        assert x.keys() == y.keys()
        for key in x:
            assert x[key] == pytest.approx(y[key], rel=1e-4, abs=1e-5), f"{key} at step {step}: {x[key]} vs {y[key]}"


def _model_keys(tensors: dict[str, torch.Tensor]) -> set[str]:
    return {k[len("model."):] for k in tensors if k.startswith("model.")}


# ---- options ------------------------------------------------------------------------------------

def test_speed_options_default_off_on_cpu_and_are_described():
    rt = Runtime.create(device="cpu")
    assert rt.channels_last is False and rt.compile is False  # "auto": channels-last only on CUDA
    rt = Runtime.create(device="cpu", channels_last=True, compile=True)  # explicit True is allowed on CPU
    assert rt.describe()["channels_last"] is True and rt.describe()["compile"] is True
    json.dumps(rt.describe())


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"channels_last": "yes"}, "channels_last must be 'auto', True or False, got 'yes'"),
    ({"channels_last": 1}, "channels_last must be 'auto', True or False, got 1"),
    ({"compile": "max-autotune"}, "compile must be True or False, got 'max-autotune'"),
    ({"compile": None}, "compile must be True or False, got None"),
])
def test_bad_speed_options_name_the_option(kwargs, message, rgb):
    with pytest.raises(DeviceError, match=message):
        Runtime.create(device="cpu", **kwargs)
    with pytest.raises(DeviceError, match=message):
        gw.train("dcgan", data=rgb, preset="tiny", steps=1, device="cpu", start=False, **kwargs)
    option = next(iter(kwargs))
    with pytest.raises(DeviceError, match=f"{option} must be True or False"):
        Runtime(device=torch.device("cpu"), **kwargs)


def test_options_that_a_given_runtime_would_ignore_are_refused(rgb):
    data = gw.load_data(rgb)
    rt = Runtime.create(device="cpu")
    with pytest.raises(ConfigError, match=r"compile=True does not apply .*Runtime.create\(compile=True\)"):
        gw.build_model("dcgan", data.spec, preset="tiny", runtime=rt, compile=True)
    with pytest.raises(ConfigError, match=r"channels_last=True disagrees .*channels_last=False"):
        gw.build_model("dcgan", data.spec, preset="tiny", runtime=rt, channels_last=True)
    model = gw.build_model("dcgan", data.spec, preset="tiny", runtime=rt, channels_last="auto")
    with pytest.raises(ConfigError, match="compile=True does not apply to the built model"):
        gw.train(model, data=data, steps=1, start=False, compile=True)
    built = gw.build_model("dcgan", data.spec, preset="tiny", channels_last=True)
    assert built.runtime.channels_last is True and built.runtime.compile is False


def test_cli_flags_parse():
    parser = build_parser()
    args = parser.parse_args(["train", "dcgan"])
    assert args.compile is False and args.channels_last == "auto"
    args = parser.parse_args(["train", "dcgan", "--compile", "--no-channels-last"])
    assert args.compile is True and args.channels_last is False
    assert parser.parse_args(["train", "dcgan", "--channels-last"]).channels_last is True


# ---- move_batch ---------------------------------------------------------------------------------

def test_move_batch_on_cpu_returns_the_batch_itself():
    rt = Runtime.create(device="cpu")
    batch = Batch(torch.rand(4, 3, 8, 8), torch.arange(4))
    assert rt.move_batch(batch) is batch
    x = torch.rand(4, 3, 8, 8)
    assert rt.move_batch(x) is x


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the pinned-memory copy needs a CUDA device; none here")
def test_move_batch_pins_and_copies_without_blocking_on_cuda(monkeypatch):
    rt = Runtime.create(device="cuda", precision="fp32")
    assert rt.channels_last is True  # "auto" on CUDA
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()).to(rt.device)
    rt.prepare_model(model)
    pinned = []
    real_pin = torch.Tensor.pin_memory

    def spy(self, *args, **kwargs):
        out = real_pin(self, *args, **kwargs)
        pinned.append(out.is_pinned())
        return out

    monkeypatch.setattr(torch.Tensor, "pin_memory", spy)
    batch = Batch(torch.rand(8, 3, 16, 16), torch.arange(8))
    moved = rt.move_batch(batch)
    torch.cuda.synchronize()
    assert pinned == [True, True]  # images and labels went through page-locked memory
    assert moved.x.device.type == "cuda" and moved.labels.device.type == "cuda"
    assert moved.x.is_contiguous(memory_format=CHANNELS_LAST) and not moved.x.is_contiguous()
    assert torch.equal(moved.x.cpu(), batch.x) and torch.equal(moved.labels.cpu(), batch.labels)
    again = rt.move_batch(moved)  # already on the GPU, already channels-last: no copy
    assert again.x.data_ptr() == moved.x.data_ptr() and len(pinned) == 2


# ---- channels-last ------------------------------------------------------------------------------

def test_channels_last_dcgan_trains_like_the_contiguous_one(rgb):
    plain = _run("dcgan", rgb, channels_last=False)  # each run reseeds the global RNG its noise comes from
    assert all(p.is_contiguous() for p in plain.model.parameters())
    a = [plain.step(1) for _ in range(5)]
    fast = _run("dcgan", rgb, channels_last=True)
    weights = [p for p in fast.model.parameters() if p.dim() == 4]
    assert weights and all(p.is_contiguous(memory_format=CHANNELS_LAST) and not p.is_contiguous() for p in weights)
    batch = fast.runtime.move_batch(fast.data.get_batch(torch.arange(8)))
    assert batch.x.is_contiguous(memory_format=CHANNELS_LAST) and not batch.x.is_contiguous()
    b = [fast.step(1) for _ in range(5)]
    _assert_metrics_close(a, b)
    for p, q in zip(plain.model.parameters(), fast.model.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)


def test_channels_last_leaves_a_model_without_convolutions_alone(rgb):
    run = _run("gan", rgb, channels_last=True)  # an MLP GAN on images
    assert not has_conv2d(run.model) and run.runtime.channels_last
    assert all(p.is_contiguous() for p in run.model.parameters())
    batch = run.data.get_batch(torch.arange(8))
    assert run.runtime.move_batch(batch) is batch  # an MLP may .view() its input: no channels-last there
    assert np.isfinite(run.step(2)["loss_d"])


def test_channels_last_checkpoint_loads_into_a_plain_model_and_resumes(rgb, tmp_path):
    run = _run("dcgan", rgb, channels_last=True, out=tmp_path)
    run.step(3)
    path = run.save()
    saved = {k: v.clone() for k, v in run.model.state_dict().items()}
    expected = run.step(1)  # before anything reseeds the global RNG (load_model does)
    tensors, state = read_checkpoint(path)
    assert state["runtime"]["channels_last"] is True and state["runtime"]["compile"] is False
    plain = gw.load_model(path)  # CPU default: contiguous
    assert _model_keys(tensors) == set(plain.state_dict()) == set(saved)
    for key, value in saved.items():
        assert torch.equal(plain.state_dict()[key], value), key
    resumed = gw.resume(path, data=rgb, channels_last=True, start=False)  # restores the saved RNG state too
    assert resumed.step_count == 3 and resumed.runtime.channels_last
    assert all(p.is_contiguous(memory_format=CHANNELS_LAST) for p in resumed.model.parameters() if p.dim() == 4)
    _assert_metrics_close([resumed.step(1)], [expected])  # resume continues where the run was


def test_prepare_model_twice_changes_nothing(rgb):
    data = gw.load_data(rgb)
    model = gw.build_model("dcgan", data.spec, preset="tiny", runtime=Runtime.create(
        device="cpu", channels_last=True, compile=True))
    keys = list(model.state_dict())
    Run(model, data, checkpoint_every=None, plugin_events=False)
    compiled = {name: child._compiled_call_impl for name, child in model.named_children()}
    assert set(compiled) == {"generator", "discriminator"} and all(f is not None for f in compiled.values())
    Run(model, data, checkpoint_every=None, plugin_events=False)  # a second run on the same model
    assert {name: child._compiled_call_impl for name, child in model.named_children()} == compiled
    assert list(model.state_dict()) == keys  # compiled in place: no _orig_mod. level
    assert all(p.is_contiguous(memory_format=CHANNELS_LAST) for p in model.parameters() if p.dim() == 4)


# ---- torch.compile ------------------------------------------------------------------------------

@needs_cxx
def test_compile_network_compiles_a_torch_nn_container_in_place():
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    net = nn.Sequential(nn.Linear(4, 3), nn.Tanh())
    keys = list(net.state_dict())
    assert compile_network(net) is True
    x = torch.randn(5, 4)
    with torch.no_grad():
        eager = net[1](net[0](x))
        before = counters["stats"]["unique_graphs"]
        out = net(x)
    # nn.Module.compile() alone traces nothing for a bare nn.Sequential; the bound forward is compiled instead
    assert counters["stats"]["unique_graphs"] == before + 1
    torch.testing.assert_close(out, eager)
    assert compile_network(net) is False and list(net.state_dict()) == keys


@pytest.mark.slow
@needs_cxx
def test_compiled_dcgan_trains_like_eager_in_the_background_and_saves_plain_checkpoints(rgb, tmp_path):
    from torch._dynamo.utils import counters

    eager = _run("dcgan", rgb, steps=3)
    eager.start().wait(timeout=120)
    graphs = counters["stats"]["unique_graphs"]
    compiled = _run("dcgan", rgb, steps=3, compile=True, out=tmp_path / "compiled")  # reseeds like eager's
    compiled.start().wait(timeout=600)  # in the Run's own thread, as a notebook trains; inductor on CPU
    assert compiled.state == "finished"
    assert counters["stats"]["unique_graphs"] >= graphs + 2  # G and D really went through dynamo
    assert compiled.model.generator._compiled_call_impl is not None
    a, b = eager.history.snapshot()["values"], compiled.history.snapshot()["values"]
    _assert_metrics_close([{k: v[i] for k, v in a.items()} for i in range(3)],
                          [{k: v[i] for k, v in b.items()} for i in range(3)])
    tensors, state = read_checkpoint(compiled.last_checkpoint)
    assert state["runtime"]["compile"] is True
    plain = gw.load_model(compiled.last_checkpoint)
    assert _model_keys(tensors) == set(plain.state_dict()) == set(eager.model.state_dict())
    assert not any("_orig_mod" in k for k in tensors)
    for key, value in compiled.model.state_dict().items():
        assert torch.equal(plain.state_dict()[key], value), key


@pytest.mark.slow
@needs_cxx
def test_cli_compile_and_no_channels_last(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("genwidgets")), "train", "dcgan", "--data", "digits", "--preset", "tiny",
         "--steps", "2", "--device", "cpu", "--compile", "--no-channels-last", "--sample-every", "1000",
         "--out", str(out), "--quiet"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "torch.compile" in proc.stderr and "channels_last" not in proc.stderr
    _, state = read_checkpoint(resolve_checkpoint(out))
    assert state["runtime"]["compile"] is True and state["runtime"]["channels_last"] is False and state["step"] == 2
