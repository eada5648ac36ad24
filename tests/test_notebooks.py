"""Every notebook in notebooks/ is what its generator writes, is stored without outputs, and executes.

Notebooks with their own richer test (quickstart, training panel, latent explorer, GAN Lab) are
executed there; this file executes the rest and checks the printed results.

Three notebooks train for minutes what their checks do not need: the DCGAN/cGAN one (its checks: a
FID above the real-vs-real floor for both models and a label accuracy for the cGAN), the beta-VAE
one (a MIG in [0, 1] for both models, per factor) and the sweep (a MIG per run, kept beside it). The
test divides their step counts by 10 (``STEPS_REWRITE``), each replacement checked to apply exactly
once; everything else runs as written.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
GENERATORS = sorted(NOTEBOOKS.glob("make_*.py"))


@pytest.mark.parametrize("generator", GENERATORS, ids=lambda p: p.stem.removeprefix("make_"))
def test_notebook_is_what_its_generator_writes_without_outputs(generator: Path, tmp_path: Path) -> None:
    target = NOTEBOOKS / f"{generator.stem.removeprefix('make_')}.ipynb"
    rebuilt = runpy.run_path(str(generator))["build"](tmp_path / target.name)
    assert rebuilt.read_text() == target.read_text(), f"{target.name} is stale: run {generator.name}"
    nb = nbformat.read(target, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit it with outputs stripped"


def test_every_notebook_has_a_generator() -> None:
    made = {p.stem.removeprefix("make_") for p in GENERATORS}
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} == made


#: Exact text of a notebook's code -> what the test runs instead (step counts divided by 10; see the docstring).
STEPS_REWRITE = {
    "dcgan_cgan.ipynb": {'"dcgan", data="mnist", steps=300,': '"dcgan", data="mnist", steps=30,',
                         '"cgan", data="mnist", steps=1500,': '"cgan", data="mnist", steps=150,'},
    "beta_vae_dsprites.ipynb": {"steps=1500,": "steps=150,"},
    "sweep.ipynb": {"steps=600,": "steps=60,"},
}


def execute(name: str, tmp_path: Path) -> str:
    """Run a notebook top to bottom in a real kernel (after its ``STEPS_REWRITE``); return everything it printed."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for old, new in STEPS_REWRITE.get(name, {}).items():
        cells = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
        assert len(cells) == 1 and cells[0].source.count(old) == 1, f"{name}: {old!r} is not in one place any more"
        cells[0].source = cells[0].source.replace(old, new)
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if o.get("name") == "stdout")


@pytest.mark.slow
def test_beta_vae_dsprites_notebook_measures_mig_for_both_models(tmp_path: Path) -> None:
    text = execute("beta_vae_dsprites.ipynb", tmp_path)
    migs = dict(re.findall(r"^(vae|beta_vae) *: MIG ([\d.]+)", text, flags=re.MULTILINE))
    assert set(migs) == {"vae", "beta_vae"}, text
    assert all(0.0 <= float(v) <= 1.0 for v in migs.values())
    assert text.count("MIG per factor") == 2 and "orientation" in text


@pytest.mark.slow
def test_sweep_notebook_trains_every_run_and_plots_mig_against_beta(tmp_path: Path) -> None:
    text = execute("sweep.ipynb", tmp_path)
    rows = re.findall(r"^(beta=[\d.]+,seed=\d) *: finished at step 60, MIG ([\d.]+)$", text, flags=re.MULTILINE)
    assert [name for name, _ in rows] == ["beta=1.0,seed=0", "beta=1.0,seed=1", "beta=8.0,seed=0",
                                          "beta=8.0,seed=1"], text
    assert all(0.0 <= float(mig) <= 1.0 for _, mig in rows)
    assert "board: 4 runs, disentanglement.mig against beta" in text
    for name, _ in rows:  # each run folder holds what the board reads: its card, grids and kept evaluation
        run = tmp_path / "runs" / "beta-sweep" / name
        assert (run / "run.json").is_file() and list((run / "samples").glob("step-*.png"))
        assert (run / "evaluations" / "step-00000060.json").is_file()


@pytest.mark.slow
def test_dcgan_cgan_notebook_measures_fid_with_its_floor(tmp_path: Path) -> None:
    text = execute("dcgan_cgan.ipynb", tmp_path)
    rows = re.findall(r"^(DCGAN|cGAN) +after \d+ steps: FID ([\d.]+) \(real-vs-real floor ([\d.]+)\)", text,
                      flags=re.MULTILINE)
    assert [r[0] for r in rows] == ["DCGAN", "cGAN"], text
    assert all(float(fid) > float(floor) for _, fid, floor in rows)
    assert "label accuracy" in text.split("cGAN", 1)[1]


@pytest.mark.slow
def test_plugin_tutorial_notebook_runs_the_installed_example(tmp_path: Path) -> None:
    text = execute("writing_a_plugin.ipynb", tmp_path)
    assert "entry point: example = genwidgets_example.plugin" in text
    assert "registered: ['gaussian'] panels: ['gaussian_summary'] error: None" in text
    assert "tabs: ['Training', 'Latent space', 'Fitted Gaussian (example)'] | errors: {}" in text
    assert "gaussian passes all" in text


@pytest.mark.slow
def test_distributed_notebook_trains_in_two_workers_and_loads_rank0s_checkpoint(tmp_path: Path) -> None:
    text = execute("distributed.ipynb", tmp_path)
    assert "2 workers (2 pids) on cpu" in text, text
    match = re.search(r"state finished at step 60; paused at (\d+); lr_g now ([\d.e-]+)", text)
    assert match, text
    assert float(match.group(2)) == 1e-4
    assert "checkpoint step step-00000060: mirror equals the checkpoint: True" in text
