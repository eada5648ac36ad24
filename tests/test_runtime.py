import random

import numpy as np
import pytest
import torch

from genwidgets import DeviceError, Runtime, available_devices, select_device


def test_cpu_is_always_available():
    assert available_devices()[-1] == "cpu"
    assert select_device("cpu") == torch.device("cpu")


def test_auto_picks_best_available():
    assert str(select_device(None)) == available_devices()[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_device_lists_available():
    with pytest.raises(DeviceError) as err:
        select_device("cuda")
    msg = str(err.value)
    assert "'cuda' is not available" in msg and "available: " in msg and "cpu" in msg


def test_env_overrides_and_bad_name(monkeypatch):
    monkeypatch.setenv("GENWIDGETS_DEVICE", "cpu")
    assert select_device(None) == torch.device("cpu")
    monkeypatch.setenv("GENWIDGETS_DEVICE", "tpu-please")
    with pytest.raises(DeviceError, match="not a device name; available here: .*cpu"):
        select_device(None)


def test_precision_rules_on_cpu():
    rt = Runtime.create(device="cpu")
    assert rt.precision == "fp32" and rt.autocast_dtype is None
    with pytest.raises(DeviceError, match="autocast is for accelerators"):
        Runtime.create(device="cpu", precision="bf16")
    with pytest.raises(DeviceError, match="unknown"):
        Runtime.create(device="cpu", precision="fp8")


def test_seed_everything_seeds_all_three():
    Runtime.create(device="cpu", seed=123)
    a = (torch.rand(3), np.random.rand(3), random.random())
    Runtime.create(device="cpu", seed=123)
    b = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]


def test_threads_set_and_env(monkeypatch):
    rt = Runtime.create(device="cpu", num_threads=1)
    assert torch.get_num_threads() == 1 and rt.describe()["num_threads"] == 1
    monkeypatch.setenv("GENWIDGETS_NUM_THREADS", "2")
    assert Runtime.create(device="cpu").num_threads == 2
