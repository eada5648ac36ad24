"""The quickstart: a notebook that opens the studio, and a headless run of the same thing.

``genwidgets demo`` writes the quickstart notebook (if absent) into a folder and opens it in
JupyterLab, ready to run. ``genwidgets demo --headless`` trains the same model on the same
embedded data with every widget attached, then writes each widget's figure (training curves and
samples, latent space, discriminator scores) to a folder and exits: for CI and servers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: The quickstart notebook's cells, ("markdown" | "code", source); notebooks/make_quickstart.py writes them.
QUICKSTART: list[tuple[str, str]] = [
    ("markdown", """\
# genwidgets quickstart

One call trains a model in the background and opens every widget that fits it, sharing one run:

* **Training**: loss curves, the sample grid from fixed noise, progress and throughput, and controls
  (pause, resume, stop, single step, save a checkpoint, live learning rates);
* **Latent space**: the model's latent codes on a map; click or drag to decode, sliders per
  dimension, interpolation and traversals;
* **Discriminator** (for GANs): what the discriminator scores as real, on a grid of real and
  generated images sorted by score, and over a slice of latent space.

The data ships with the package (5,000 MNIST digits); nothing is downloaded. 300 steps take about
a minute on a laptop CPU and already show digit shapes; set `STEPS = 2000` for crisp ones."""),
    ("code", """\
import genwidgets as gw

STEPS = 300
studio = gw.studio("dcgan", data="mnist", steps=STEPS, log_every=10, sample_every=50, checkpoint_every=None)
studio"""),
    ("markdown", """\
Everything the buttons do is also a Python call on the run; the widgets follow the run, whoever
steers it. Wait for the run to finish, then save every widget's figure."""),
    ("code", """\
run = studio.run
run.wait()
studio.wait_idle()
print(f"{run.state} at step {run.step_count}: {run.latest_metrics}")
for title, path in studio.save_figures("quickstart-figures").items():
    print(f"{title}: {path}")"""),
    ("markdown", """\
Next: `notebooks/latent_explorer.ipynb` (VAE and beta-VAE latent spaces), `notebooks/gan_lab.ipynb`
(a GAN on 2-D data with its discriminator's view), and `genwidgets --help` for the command line."""),
]


def write_notebook(cells: list[tuple[str, str]], path: str | os.PathLike) -> Path:
    """Write ``cells`` (``("markdown" | "code", source)``) as a Python 3 notebook with stable cell ids."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    make = {"markdown": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    nb.cells = [make[kind](source) for kind, source in cells]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # stable ids, so rebuilding gives the same file
    nbformat.validate(nb)
    nbformat.write(nb, Path(path))
    return Path(path)


def write_quickstart(folder: str | os.PathLike) -> Path:
    """Write ``quickstart.ipynb`` into ``folder`` (kept if it exists: it may hold the user's edits)."""
    path = Path(folder) / "quickstart.ipynb"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_notebook(QUICKSTART, path)


def running_as_root() -> bool:
    """True when this process runs as root (containers, cloud notebooks), where Jupyter needs ``--allow-root``."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_command(notebook: str | os.PathLike, lab_args: Sequence[str] = ()) -> list[str]:
    """The command that opens ``notebook`` in JupyterLab, run from the notebook's folder.

    ``lab_args`` go to ``jupyter lab`` as given (e.g. ``--no-browser``, ``--port 8899``);
    ``--allow-root`` is added when running as root, where Jupyter refuses to start without it.
    """
    extra = list(lab_args)
    if running_as_root() and "--allow-root" not in extra:
        extra.append("--allow-root")
    return [sys.executable, "-m", "jupyter", "lab", Path(notebook).name, *extra]


def open_in_lab(folder: str | os.PathLike, lab_args: Sequence[str] = (), *, stop_timeout: float = 20.0) -> int:
    """Write the quickstart into ``folder`` and open it in JupyterLab; blocks until Lab exits.

    ``lab_args`` go to ``jupyter lab`` (see :func:`lab_command`). If this call is interrupted
    (Ctrl-C, or SIGTERM), the server is asked to shut down (SIGTERM, which stops its kernels too) and killed
    if it has not within ``stop_timeout`` seconds, so no server outlives the command.
    Returns JupyterLab's exit status.
    """
    path = write_quickstart(folder)
    try:
        import jupyterlab  # noqa: F401
    except ImportError as exc:
        raise RuntimeError("JupyterLab is not installed; `pip install jupyterlab` (or run `genwidgets demo "
                           "--headless` to train without a notebook)") from exc
    print(f"opening {path} in JupyterLab (Ctrl-C here stops the server)", file=sys.stderr)
    server = subprocess.Popen(lab_command(path, lab_args), cwd=path.parent)
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)  # kill PID: stop the server too, never orphan it
    try:
        return server.wait()
    finally:
        _stop_server(server, stop_timeout)
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _stop_server(server: subprocess.Popen, timeout: float) -> None:
    """Shut a Jupyter server down cleanly if it still runs (SIGTERM), else kill it after ``timeout`` seconds."""
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def set_aside_previous_run(run_dir: Path) -> Path | None:
    """Move an earlier demo run out of the way (to ``<out>/previous/run-<time>``); nothing is deleted.

    Running the demo again must not fail on its own earlier output (a new run refuses a folder
    holding another run's checkpoints), nor delete it. Returns where it went, or None.
    """
    if not run_dir.is_dir() or not any(run_dir.iterdir()):
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(run_dir.stat().st_mtime))
    target = run_dir.parent / "previous" / f"run-{stamp}"
    suffix = 1
    while target.exists():
        suffix += 1
        target = target.with_name(f"{target.name.split('~')[0]}~{suffix}")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(run_dir, target)
    print(f"demo: the previous demo run moved to {target}", file=sys.stderr)
    return target


def run_headless(out: str | os.PathLike, *, model: str = "dcgan", data: str = "mnist", steps: int = 2000,
                 follow: Callable[[Any], None] | None = None, **train_options: Any) -> dict[str, Any]:
    """Train ``model`` on ``data`` with every widget attached, then write their figures to ``out``.

    Checkpoints go to ``out/run``; each widget's figure (and reconstructions, for models that
    encode) to ``out/figures``. ``follow(run)`` is called while the run trains (the CLI shows a
    progress bar there). Returns a JSON-ready summary.
    """
    from .api import studio
    from .cli_outputs import write_final_figures

    out = Path(out)
    train_options = {"log_every": 10, "sample_every": 250, "checkpoint_every": 500, **train_options}
    set_aside_previous_run(out / "run")
    made = studio(model, data, steps=steps, out=out / "run", **train_options)
    run = made.run
    try:
        if follow is not None:
            follow(run)
        run.wait()
        made.wait_idle()
        figures = made.save_figures(out / "figures")
        samples = write_final_figures(run, out / "figures")
    finally:
        made.close()
    return {"model": run.model.name, "data": run.data_source.get("name"), "steps": run.step_count,
            "state": run.state, "metrics": run.latest_metrics,
            "checkpoint": str(run.last_checkpoint) if run.last_checkpoint else None,
            "figures": {**{title: str(path) for title, path in figures.items()},
                        **{path.stem: str(path) for path in samples}},
            "widgets": list(figures), "errors": dict(made.errors)}
