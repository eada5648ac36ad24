"""MetricSums: interval means of per-step metrics, stacked when it can, per key when it must."""

from __future__ import annotations

import math

import pytest
import torch

from genwidgets.runtime.metric_sums import MetricSums


def test_stacked_path_gives_the_interval_means_and_resets() -> None:
    sums = MetricSums()
    for step in range(4):
        row = sums.add({"loss_d": torch.tensor(float(step)), "loss_g": torch.tensor([2.0 * step])})
        assert row is not None and row.shape == (2,)
    assert sums.means() == pytest.approx({"loss_d": 1.5, "loss_g": 3.0})
    assert sums.means() == {} and sums.count == 0


def test_floats_and_changing_keys_fall_back_to_per_key_sums_without_losing_what_was_stacked() -> None:
    sums = MetricSums()
    sums.add({"a": torch.tensor(1.0), "b": torch.tensor(3.0)})
    assert sums.add({"a": 3.0, "b": torch.tensor(5.0)}) is None  # a plain float: per-key path
    assert sums.add({"a": torch.tensor(5.0), "b": torch.tensor(7.0)}) is None  # stays per key this interval
    assert sums.means() == pytest.approx({"a": 3.0, "b": 5.0})
    sums.add({"a": torch.tensor(1.0)})
    sums.add({"a": torch.tensor(2.0), "c": torch.tensor(4.0)})  # keys changed
    assert sums.means() == pytest.approx({"a": 1.5, "c": 2.0})


def test_the_fused_check_sees_nan_and_inf() -> None:
    sums = MetricSums()
    assert MetricSums.row_is_finite(sums.add({"a": torch.tensor(1.0), "b": torch.tensor(2.0)}))
    assert not MetricSums.row_is_finite(sums.add({"a": torch.tensor(math.nan), "b": torch.tensor(2.0)}))
    assert not MetricSums.row_is_finite(sums.add({"a": torch.tensor(1.0), "b": torch.tensor(math.inf)}))


def test_on_host_values_are_read_as_floats_with_the_same_means_and_checks() -> None:
    """On the CPU the row is a list of floats; means, resets and the NaN/inf check behave as on a device."""
    sums = MetricSums(on_host=True)
    for step in range(4):
        row = sums.add({"loss_d": torch.tensor(float(step)), "loss_g": torch.tensor([2.0 * step]), "lr": 0.5})
        assert row == [float(step), 2.0 * step, 0.5]
    assert sums.means() == pytest.approx({"loss_d": 1.5, "loss_g": 3.0, "lr": 0.5})
    assert sums.means() == {} and sums.count == 0
    assert not MetricSums.row_is_finite(sums.add({"a": torch.tensor(math.nan)}))
    assert not MetricSums.row_is_finite(sums.add({"a": torch.tensor(1.0), "b": torch.tensor(-math.inf)}))
    sums.reset()
    sums.add({"a": torch.tensor(1.0)})
    sums.add({"a": torch.tensor(2.0), "c": torch.tensor(4.0)})  # keys changed: per-key sums, as on a device
    assert sums.means() == pytest.approx({"a": 1.5, "c": 2.0})
