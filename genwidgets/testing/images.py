"""Image snapshots with a pixel tolerance, and rendering a widget in headless Chromium (no Jupyter needed).

* :class:`TolerantPNG`: a syrupy PNG extension whose snapshots match when at most
  :attr:`~TolerantPNG.max_fraction` of the pixels differ by more than
  :attr:`~TolerantPNG.threshold` (0-255) in some channel -- fonts, anti-aliasing and the last
  bit of a float differ between machines; a changed picture does not pass.
* :func:`render_widget`: opens a widget's front end (its ``_esm`` and ``_css``) in a Playwright
  page, with a small stand-in for anywidget's model that relays state and custom messages to
  the Python widget, until both sides are quiet. Then screenshot the returned locator.

Playwright is only in genwidgets' ``test`` extra and Chromium is a system package: both are
imported or looked up lazily, and :func:`browser_missing` says, in words, what is missing.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import os
import shutil
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from syrupy.extensions.image import PNGImageSnapshotExtension

#: Chromium flags that work headless in containers (see recipes/browser-widget-tests.md).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]


def images_match(a: bytes, b: bytes, *, threshold: int = 24, max_fraction: float = 0.002) -> bool:
    """Whether two encoded images have the same size and at most ``max_fraction`` of pixels off by > ``threshold``."""
    from PIL import Image, ImageChops

    x, y = (Image.open(io.BytesIO(data)).convert("RGBA") for data in (a, b))
    if x.size != y.size:
        return False
    diff = functools.reduce(ImageChops.lighter, ImageChops.difference(x, y).split())
    return sum(diff.histogram()[threshold + 1:]) <= max_fraction * x.width * x.height


class TolerantPNG(PNGImageSnapshotExtension):
    """PNG snapshots that match when at most 0.2 % of pixels differ by more than 24/255 (the recipe).

    Subclass and change :attr:`threshold` or :attr:`max_fraction` for another tolerance.
    """

    #: A pixel differs when some channel differs by more than this (0-255).
    threshold: int = 24
    #: Fraction of the pixels that may differ.
    max_fraction: float = 0.002

    def matches(self, *, serialized_data: Any, snapshot_data: Any) -> bool:
        """Compare decoded pixels with the tolerance (not the PNG bytes, which differ between encoders)."""
        if snapshot_data is None:
            return False
        return images_match(serialized_data, snapshot_data, threshold=self.threshold, max_fraction=self.max_fraction)


# ---- Chromium ----------------------------------------------------------------------------------------

def chromium_path() -> str | None:
    """Chromium to drive: ``$GENWIDGETS_CHROMIUM``, else ``chromium`` (Debian) or ``chromium-browser`` on PATH."""
    env = os.environ.get("GENWIDGETS_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_missing() -> str | None:
    """Why widgets cannot be rendered here (a sentence saying what to install), or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: pip install 'genwidgets[test]' (or pip install playwright)"
    if chromium_path() is None:
        where = os.environ.get("GENWIDGETS_CHROMIUM")
        if where:
            return f"GENWIDGETS_CHROMIUM={where} is not a file"
        return "Chromium not found on PATH: apt-get install chromium (or set GENWIDGETS_CHROMIUM)"
    return None


def launch_chromium(playwright: Any) -> Any:
    """Launch headless Chromium (:func:`chromium_path`) from a started ``sync_playwright()``."""
    path = chromium_path()
    if path is None:
        raise RuntimeError(browser_missing())
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)


# ---- rendering a widget --------------------------------------------------------------------------------

#: The page: a stand-in for anywidget's model (get, set, save_changes, on, off, send) and a loader.
_HOST = r"""
async ({esm, css, state, library}) => {
  if (library) {  // the front end a kernel would send on the first widget's request (widgets/bundle.py)
    const url = URL.createObjectURL(new Blob([library.source], {type: "text/javascript"}));
    globalThis.__genwidgets_frontend__ = {[library.hash]: import(url).then((m) => m.default)};
  }
  const listeners = {};
  const values = {...state};
  const outbox = [];
  let pending = {};
  const emit = (event, ...args) => (listeners[event] || []).slice().forEach((cb) => cb(...args));
  const model = {
    get: (name) => values[name],
    set: (name, value) => { values[name] = value; pending[name] = value; emit(`change:${name}`, model, value); },
    save_changes: () => { outbox.push({kind: "state", state: pending}); pending = {}; },
    on: (event, cb) => { (listeners[event] ||= []).push(cb); },
    off: (event, cb) => {
      if (!event) { for (const k of Object.keys(listeners)) delete listeners[k]; return; }
      listeners[event] = cb ? (listeners[event] || []).filter((f) => f !== cb) : [];
    },
    send: (content) => { outbox.push({kind: "custom", content}); },
  };
  const bytes = (b64) => {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return new DataView(out.buffer);
  };
  window.__gw = {
    take: () => outbox.splice(0),
    deliver: (content, buffers) => emit("msg:custom", content, buffers.map(bytes)),
    update: (state) => {
      Object.assign(values, state);
      for (const name of Object.keys(state)) emit(`change:${name}`, model, state[name]);
    },
  };
  if (css) { const style = document.createElement("style"); style.textContent = css; document.head.append(style); }
  const url = URL.createObjectURL(new Blob([esm], {type: "text/javascript"}));
  let widget = (await import(url)).default;
  if (typeof widget === "function") widget = await widget();
  if (widget.initialize) await widget.initialize({model});
  await widget.render({model, el: document.getElementById("gw-root")});
}
"""


def _source(value: Any) -> str:
    if isinstance(value, Path):
        return value.read_text()
    if isinstance(value, str) and len(value) < 4096 and "\n" not in value and Path(value).is_file():
        return Path(value).read_text()
    return str(value or "")


def _library() -> dict[str, str] | None:
    """The genwidgets front end (source and hash) for the page to preload, or None when it is not built."""
    from ..widgets.bundle import FRONTEND, library

    if not FRONTEND.is_file():
        return None
    data, digest = library()
    return {"source": data.decode(), "hash": digest}


def _json_state(widget: Any, names: Any = None) -> dict[str, Any]:
    state = widget.get_state(names)
    return {k: v for k, v in state.items() if k not in ("_esm", "_css") and not isinstance(v, bytes | memoryview)}


def render_widget(page: Any, widget: Any, *, width: int = 900, height: int = 700, timeout: float = 60.0,
                  quiet_rounds: int = 3, hide: Iterable[str] = ()) -> Any:
    """Render ``widget``'s front end in a Playwright ``page`` and return the locator of its element.

    The page gets the widget's synced state and a model whose ``send``, ``set`` and
    ``save_changes`` reach the Python widget; what the widget sends back (custom messages with
    binary buffers, trait changes) reaches the page. Messages are relayed until neither side
    has anything new for ``quiet_rounds`` rounds of 100 ms. Page errors fail the render.

    Args:
        page: A Playwright page (sync API).
        widget: Any anywidget (every genwidgets widget is one).
        width: Viewport width in CSS pixels.
        height: Viewport height in CSS pixels.
        timeout: Seconds to wait for both sides to be quiet.
        quiet_rounds: Rounds without traffic that count as quiet.
        hide: CSS selectors of elements to hide (``visibility: hidden``, so the layout stays):
            text that changes from run to run, such as timings.

    Raises:
        AssertionError: The page raised an error, or the widget never became quiet.
    """
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.set_viewport_size({"width": width, "height": height})
    page.set_content('<!doctype html><html><body style="margin:0;background:#fff">'
                     '<div id="gw-root" style="display:inline-block;min-width:1px"></div></body></html>')
    outgoing: list[tuple[str, Any]] = []
    lock = threading.Lock()
    original = widget.send
    sync = set(widget.keys) - {"_esm", "_css"}

    def send(content: Any, buffers: Any = None) -> None:
        with lock:
            outgoing.append(("custom", (content, [base64.b64encode(bytes(b)).decode() for b in buffers or []])))
        original(content, buffers)

    def changed(change: Any) -> None:
        if change["name"] in sync:
            with lock:
                outgoing.append(("update", change["name"]))

    widget.send = send
    widget.observe(changed)
    try:
        page.evaluate(_HOST, {"esm": _source(widget._esm), "css": _source(getattr(widget, "_css", "")),
                              "state": json.loads(json.dumps(_json_state(widget), default=str)),
                              "library": _library()})
        quiet, deadline = 0, time.monotonic() + timeout
        while quiet < quiet_rounds:
            if time.monotonic() > deadline:
                raise AssertionError(f"{type(widget).__name__} and its page were still talking after {timeout} s")
            from_page = page.evaluate("() => window.__gw.take()")
            for msg in from_page:
                if msg["kind"] == "custom":
                    widget._handle_custom_msg(msg["content"], [])
                else:
                    widget.set_state(msg["state"])
            wait = getattr(widget, "wait_idle", None)
            if wait is not None:
                wait(timeout)
            with lock:
                batch, outgoing[:] = list(outgoing), []
            for kind, item in batch:
                if kind == "custom":
                    page.evaluate("([c, b]) => window.__gw.deliver(c, b)", list(item))
                else:
                    state = json.loads(json.dumps(_json_state(widget, item), default=str))
                    page.evaluate("(s) => window.__gw.update(s)", state)
            quiet = quiet + 1 if not from_page and not batch else 0
            page.wait_for_timeout(100)
    finally:
        del widget.send
        widget.unobserve(changed)
    if hide:
        page.add_style_tag(content=", ".join(hide) + " { visibility: hidden !important; }")
    if errors:
        raise AssertionError(f"{type(widget).__name__}'s front end failed:\n" + "\n".join(errors))
    return page.locator("#gw-root")
