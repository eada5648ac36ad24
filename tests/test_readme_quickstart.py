"""The README's quickstarts run as written, in order, in a fresh folder (with tiny step counts).

Each command of the "Command-line quickstart" bash block, and the "Python quickstart" block, runs
in a real subprocess. The only changes to the README's text are this mechanical rewrite, so that
the examples train for seconds instead of hours and the README cannot drift from what works:

* every step count is divided by 1000 (``--steps 2000`` -> ``--steps 2``, ``--at 4000:`` -> ``--at 4:``,
  ``--checkpoint-every 1000`` -> ``1``, checkpoint ``step-00004000`` -> ``step-00000004``, and in Python
  ``steps=`` and the keys of ``schedule=``); a step count that is not a multiple of 1000 fails the test;
* a new run (``genwidgets train MODEL``, ``genwidgets demo --headless``, ``gw.train``, ``gw.studio``)
  gets the ``tiny`` preset, and ``--steps 2`` / ``steps=2`` when it names no steps (the default 2000,
  divided by 1000);
* ``evaluate`` gets ``--n 200`` / ``n=200`` examples per metric group;
* an optional ``[--flag]`` is given (``genwidgets demo [--headless]`` runs ``genwidgets demo --headless``:
  the notebook form opens JupyterLab and waits for a person, and is started in tests/test_demo.py).
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BIN = str(Path(sys.executable).with_name("genwidgets"))
SCALE = 1000  # step counts are divided by this
TINY_STEPS = 2000 // SCALE  # the default --steps, scaled
EVAL_N = 200


def readme_block(heading: str, language: str) -> str:
    """The first ``language`` code block after the ``## heading`` line of the README."""
    text = README.read_text()
    start = text.index(f"\n## {heading}\n")
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(text, start)
    assert match is not None, f"no {language} block under {heading!r}"
    return match.group(1)


def scaled(number: str | int) -> int:
    """A README step count divided by SCALE (it must divide evenly: the rewrite keeps every ratio)."""
    value = int(number)
    assert value % SCALE == 0, f"step count {value} in the README is not a multiple of {SCALE}"
    return value // SCALE


def rewrite_command(line: str) -> list[str]:
    """One README command line, rewritten as the module docstring says, as argv."""
    line = re.sub(r"\[(--[\w-]+)\]", r"\1", line.split("#", 1)[0]).strip()
    args = shlex.split(line)
    assert args[0] == "genwidgets", line
    for i, arg in enumerate(args):
        if args[i - 1] in ("--steps", "--checkpoint-every") and i > 0:
            args[i] = str(scaled(arg))
        elif args[i - 1] == "--at":
            step, rest = arg.split(":", 1)
            args[i] = f"{scaled(step)}:{rest}"
        args[i] = re.sub(r"step-(\d{8})", lambda m: f"step-{scaled(m.group(1)):08d}", args[i])
    new_run = (args[1] == "train" and "--resume" not in args) or args[1:3] == ["demo", "--headless"]
    if new_run:
        args += ["--preset", "tiny"] + ([] if "--steps" in args else ["--steps", str(TINY_STEPS)])
    if args[1] == "evaluate":
        args += ["--n", str(EVAL_N)]
    return args


def cli_commands() -> list[list[str]]:
    """The Command-line quickstart, rewritten, one argv per line."""
    lines = [line for line in readme_block("Command-line quickstart", "bash").splitlines() if line.strip()]
    return [rewrite_command(line) for line in lines]


class _Rewrite(ast.NodeTransformer):
    """The Python quickstart's rewrite (see the module docstring), on its syntax tree."""

    NEW_RUNS = {"train", "studio"}

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        keywords = {k.arg: k for k in node.keywords}
        if "steps" in keywords:
            keywords["steps"].value = ast.Constant(scaled(ast.literal_eval(keywords["steps"].value)))
        if "schedule" in keywords:
            schedule = {scaled(step): edits for step, edits in ast.literal_eval(keywords["schedule"].value).items()}
            keywords["schedule"].value = ast.parse(repr(schedule), mode="eval").body
        if name in self.NEW_RUNS and isinstance(node.func, ast.Attribute):  # gw.train(...), gw.studio(...)
            node.keywords.append(ast.keyword("preset", ast.Constant("tiny")))
            if "steps" not in keywords:
                node.keywords.append(ast.keyword("steps", ast.Constant(TINY_STEPS)))
        if name == "evaluate":
            node.keywords.append(ast.keyword("n", ast.Constant(EVAL_N)))
        return node


def python_quickstart() -> str:
    """The Python quickstart, rewritten, after a line that makes the ``my_numpy_array`` it uses."""
    tree = _Rewrite().visit(ast.parse(readme_block("Python quickstart", "python")))
    prelude = "import numpy as np\nmy_numpy_array = np.random.default_rng(0).random((64, 2), dtype=np.float32)\n"
    return prelude + ast.unparse(ast.fix_missing_locations(tree))


def test_the_rewrite_is_the_documented_one():
    """Protects: the rewrite changes only step counts, presets and evaluate's n (checked on the branch line)."""
    assert rewrite_command("genwidgets train --resume runs/dcgan/checkpoints/step-00004000 --out runs/dcgan-b "
                           "--steps 6000 --set lr_g=1e-5  # branch") == [
        "genwidgets", "train", "--resume", "runs/dcgan/checkpoints/step-00000004", "--out", "runs/dcgan-b",
        "--steps", "6", "--set", "lr_g=1e-5"]
    assert rewrite_command("genwidgets train vae --at 4000:lr=1e-4 --out runs/vae") == [
        "genwidgets", "train", "vae", "--at", "4:lr=1e-4", "--out", "runs/vae", "--preset", "tiny", "--steps", "2"]
    assert rewrite_command("genwidgets demo [--headless]   # x") == [
        "genwidgets", "demo", "--headless", "--preset", "tiny", "--steps", "2"]
    code = python_quickstart()
    assert "gw.train('beta_vae', data='dsprites', steps=60, schedule={45: {'lr': 0.0001}}, preset='tiny')" in code


def _run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    args = [BIN, *args[1:]] if args[0] == "genwidgets" else args
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, (
        f"README command failed: {shlex.join(args)} -> {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return proc


@pytest.mark.slow
def test_command_line_quickstart_runs_in_order(tmp_path):
    """Protects: every command of the README's command-line quickstart works, in the order given."""
    commands = cli_commands()
    assert len(commands) >= 10
    for args in commands:
        _run(args, tmp_path)
    # what the README says they make: a run to branch from, the branch, the grid, the beta-VAE to evaluate
    for path in ("runs/dcgan", "runs/dcgan-b/checkpoints/step-00000006", "grid.png", "runs/bvae",
                 "runs/demo/figures"):
        assert (tmp_path / path).exists(), path


@pytest.mark.slow
def test_python_quickstart_runs(tmp_path):
    """Protects: the README's Python quickstart runs top to bottom as a script (widgets are built, not shown)."""
    script = tmp_path / "quickstart.py"
    script.write_text(python_quickstart() + textwrap.dedent("""
        run.wait()
        print("steps", run.step_count, tuple(images.shape))
    """))
    proc = _run([sys.executable, str(script)], tmp_path)
    assert "steps 4 (16, 1, 28, 28)" in proc.stdout


def _setup_commands(tmp_path: Path, **env: str) -> list[str]:
    """The commands scripts/setup.sh runs with ``env``, printed by its dry run from a copy (nothing installed)."""
    (tmp_path / "scripts").mkdir(exist_ok=True)
    script = tmp_path / "scripts" / "setup.sh"
    script.write_text((ROOT / "scripts" / "setup.sh").read_text())
    for name in ("js/src", "js/vendor", "genwidgets/static"):  # the bundles are up to date: no npm build
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
    (tmp_path / "js" / "package.json").write_text("{}")
    (tmp_path / "js" / "build.mjs").write_text("")
    for bundle in ("frontend", "loader"):
        (tmp_path / "genwidgets" / "static" / f"{bundle}.js").write_text("")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GENWIDGETS_")}
    # PYTHON names no interpreter: a script that ignored the dry run would fail at once instead of installing.
    proc = subprocess.run(["bash", str(script), "test"], capture_output=True, text=True, timeout=60,
                          env={**clean, "PYTHON": str(tmp_path / "no-python"), "GENWIDGETS_SETUP_DRY_RUN": "1", **env})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_setup_installs_the_torch_it_says_and_lets_the_user_choose(tmp_path):
    """README: setup.sh installs torch==2.13.0 from pip's index (no other index by default); the environment
    variables pick the index (e.g. the CPU build's) and the requirement."""
    torch_line = [line for line in _setup_commands(tmp_path) if line.split()[-1].startswith("torch")]
    assert torch_line == ["+ .venv/bin/python -m pip install -q torch==2.13.0"]
    cpu = "https://download.pytorch.org/whl/cpu"
    torch_line = [line for line in _setup_commands(tmp_path, GENWIDGETS_TORCH_INDEX=cpu,
                                                   GENWIDGETS_TORCH_SPEC="torch==2.13.0+cpu")
                  if line.split()[-1].startswith("torch")]
    assert torch_line == [f"+ .venv/bin/python -m pip install -q --index-url {cpu} torch==2.13.0+cpu"]
    readme = README.read_text()
    assert "installs the CPU build of torch" not in readme
    assert "GENWIDGETS_TORCH_INDEX=https://download.pytorch.org/whl/cpu" in readme
