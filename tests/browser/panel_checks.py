"""The checks both front ends run: the panel renders, grows, and pause/resume reach the Python Run."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from .helpers import CANVAS_STATS, TolerantPNG, relevant_errors, settle_pointer, wait_kernel_value

expect.set_options(timeout=60_000)

LIVE = ".gw-training-panel >> nth=1"
FIXED = ".gw-training-panel >> nth=0"


def points(page: Page, selector: str) -> int:
    return int(page.locator(selector).get_attribute("data-points") or 0)


def check_live_panel(page: Page, connection_file: Path) -> None:
    """Curves and samples render with real pixels, grow while training, and pause/resume act on the Run."""
    live = page.locator(LIVE)
    expect(live).to_have_attribute("data-rendered", "true")
    expect(live).to_have_attribute("data-state", "running")
    # Sample canvas: real pixels from the uint8 buffer (generated digits, not a blank canvas).
    expect(live).to_have_attribute("data-sample-step", __import__("re").compile(r"^[1-9]\d*$"))
    stats = live.locator("canvas.gw-sample-canvas").evaluate(CANVAS_STATS)
    assert stats["width"] > 100 and stats["height"] > 100, stats
    assert stats["std"] > 5, f"the sample canvas looks blank: {stats}"
    # Curves: a raw and a smoothed trace per metric, with points, growing while the run trains.
    expect(live.locator(".gw-curves .scatterlayer .trace")).to_have_count(8)
    page.wait_for_function("() => +document.querySelectorAll('.gw-training-panel')[1].dataset.points >= 3")
    before = points(page, LIVE)
    page.wait_for_function(
        f"() => +document.querySelectorAll('.gw-training-panel')[1].dataset.points > {before + 2}")
    path = live.locator(".gw-curves .scatterlayer .trace path.js-line").first.get_attribute("d") or ""
    assert path.count("L") >= 3, f"the curve has too few points: {path[:80]}"
    # The run's planned lr drop at step 50 (long past by now) is a dotted line with its new value on the curves.
    expect(live).to_have_attribute("data-edits", "1")
    expect(live.locator(".gw-curves .shapelayer path")).to_have_count(1)
    expect(live.locator(".gw-curves .annotation-text", has_text="lr_g=")).to_have_text("lr_g=0.0001")
    expect(live.locator(".gw-plan")).to_be_hidden()

    # Pause in the browser -> the Python Run pauses; the panel shows it because the run said so.
    live.locator(".gw-btn-pause").click()
    wait_kernel_value(connection_file, "run.state", "'paused'")
    expect(live).to_have_attribute("data-state", "paused")
    expect(live.locator(".gw-state")).to_have_text("paused")
    expect(live.locator(".gw-btn-resume")).to_be_enabled()
    step = wait_kernel_value(connection_file, "run.step_count", _kernel(connection_file, "run.step_count"))
    page.wait_for_timeout(700)  # a check that nothing happens can only watch for a while (~70 steps at full speed)
    assert _kernel(connection_file, "run.step_count") == step, "the run kept training while paused"

    # Resume -> the Run trains again and the curves grow again.
    paused_points = points(page, LIVE)
    live.locator(".gw-btn-resume").click()
    wait_kernel_value(connection_file, "run.state", "'running'")
    expect(live).to_have_attribute("data-state", "running")
    page.wait_for_function(
        f"() => +document.querySelectorAll('.gw-training-panel')[1].dataset.points > {paused_points}")
    assert int(_kernel(connection_file, "run.step_count")) > int(step)


def check_fixed_panel(page: Page, snapshot: object) -> None:
    """The finished seeded run's panel: state, full history, and image snapshots with a tolerance."""
    fixed = page.locator(FIXED)
    expect(fixed).to_have_attribute("data-rendered", "true")
    expect(fixed).to_have_attribute("data-state", "finished")
    expect(fixed).to_have_attribute("data-points", "15")  # 30 steps logged every 2
    expect(fixed).to_have_attribute("data-sample-step", "30")
    expect(fixed.locator(".gw-progress-text")).to_contain_text("step 30 / 30")
    expect(fixed.locator(".gw-curves .scatterlayer .trace")).to_have_count(8)
    settle_pointer(page, fixed)
    png = snapshot.use_extension(TolerantPNG)
    assert fixed.locator("canvas.gw-sample-canvas").screenshot(animations="disabled") == png(name="samples")
    assert fixed.locator(".gw-curves").screenshot(animations="disabled") == png(name="curves")


def assert_no_console_errors(page: Page) -> None:
    errors = relevant_errors(page.console_errors)
    assert not errors, "browser console errors:\n" + "\n".join(errors)


def _kernel(connection_file: Path, expression: str) -> str:
    from .helpers import kernel_eval

    return kernel_eval(connection_file, expression)
