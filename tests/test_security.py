"""Security: no pickle is loaded by default, opt-in pickle loading cannot run code, the front end runs no kernel code.

The HTML-injection check needs a real browser: ``tests/browser/test_html_injection.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import genwidgets
from genwidgets import CheckpointError
from genwidgets.api import load_weights
from genwidgets.runtime.checkpoint import load_tensor_file, read_checkpoint

ROOT = Path(__file__).resolve().parents[1]
BIN = str(Path(sys.executable).with_name("genwidgets"))


class _CreatesAFile:
    """Unpickling this object opens (creates) ``marker``: stands in for any code a pickle may run."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _crafted(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A torch.save file whose unpickling would create ``tmp_path/PWNED``."""
    marker = tmp_path / "PWNED"
    path = tmp_path / name
    torch.save({"model.weight": torch.zeros(2), "payload": _CreatesAFile(marker)}, path)
    assert not marker.exists()
    # the payload is real: an unrestricted load does create the file (then we remove it)
    torch.load(path, weights_only=False).get("payload").close()
    assert marker.exists()
    marker.unlink()
    return path, marker


@pytest.mark.parametrize("name", ["model.pt", "weights.pth", "no_suffix"])
def test_a_crafted_pickle_is_refused_everywhere_and_runs_no_code(tmp_path, name):
    """Protects: load_model, resume, load_weights and the CLI refuse pickle files (by ending or content)."""
    path, marker = _crafted(tmp_path, name)
    for load in (genwidgets.load_model, genwidgets.resume, lambda p: load_tensor_file(p)):
        with pytest.raises(CheckpointError, match="refusing to load .* pickle-based file.*allow_pickle=True"):
            load(path)
    model = genwidgets.build_model("vae", genwidgets.load_data("ring").spec, preset="tiny")
    with pytest.raises(CheckpointError, match="refusing to load"):
        load_weights(model, path)
    if name == "no_suffix":  # the CLI takes the same path (one subprocess is enough)
        proc = subprocess.run([BIN, "sample", str(path)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1 and "refusing to load" in proc.stderr and "Traceback" not in proc.stderr
    assert not marker.exists()


def test_opting_in_to_pickle_still_uses_weights_only(tmp_path):
    """Protects: allow_pickle=True loads through torch.load(weights_only=True), so the payload cannot run."""
    path, marker = _crafted(tmp_path, "model.pt")
    model = genwidgets.build_model("vae", genwidgets.load_data("ring").spec, preset="tiny")
    with pytest.raises(CheckpointError, match=r"torch.load\(weights_only=True\)"):
        load_weights(model, path, allow_pickle=True)
    assert not marker.exists()


def test_opting_in_loads_a_plain_state_dict(tmp_path):
    """The opt-in works for an honest torch.save(state_dict) file; weights of the wrong model are named."""
    spec = genwidgets.load_data("ring").spec
    source = genwidgets.build_model("vae", spec, preset="tiny", config={"seed": 3})
    torch.save(source.state_dict(), tmp_path / "vae.pt")
    target = genwidgets.build_model("vae", spec, preset="tiny")
    load_weights(target, tmp_path / "vae.pt", allow_pickle=True)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key
    gan = genwidgets.build_model("gan", spec, preset="tiny")
    with pytest.raises(CheckpointError, match="do not fit model 'gan'"):
        load_weights(gan, tmp_path / "vae.pt", allow_pickle=True)


def test_a_pickle_disguised_as_a_checkpoint_is_never_unpickled(tmp_path):
    """Protects: a checkpoint directory whose weights file is really a pickle is reported corrupt, not run."""
    run = genwidgets.train("vae", data="ring", preset="tiny", steps=1, out=tmp_path / "run", start=False,
                           checkpoint_every=None)
    run.step(1)
    ckpt = run.save()
    crafted, marker = _crafted(tmp_path, "x.pt")
    (ckpt / "weights.safetensors").write_bytes(crafted.read_bytes())
    with pytest.raises(CheckpointError, match="corrupt"):
        read_checkpoint(ckpt)
    with pytest.raises(CheckpointError, match="corrupt"):
        genwidgets.load_model(ckpt)
    assert not marker.exists()


#: Ways a front end could run code or markup it received: none may appear in our TypeScript.
CODE_SINKS = {
    "eval(": r"\beval\s*\(",
    "new Function": r"\bnew\s+Function\b",
    "Function(": r"(?<![\w.])Function\s*\(",
    "innerHTML": r"\.innerHTML\b",
    "outerHTML": r"\.outerHTML\b",
    "insertAdjacentHTML": r"insertAdjacentHTML",
    "document.write": r"document\.write",
    "createContextualFragment": r"createContextualFragment",
    "DOMParser": r"\bDOMParser\b",
    "srcdoc": r"\bsrcdoc\b",
    "dynamic import": r"\bimport\s*\(",
    "setTimeout/setInterval with a string": r"set(?:Timeout|Interval)\s*\(\s*[\"'`]",
    "javascript: URL": r"javascript:",
}


#: The one sink allowed: the loader imports the front end the kernel sends, as anywidget imports each `_esm`
#: (checked against the hash the widget's `_esm` names first; see js/src/loader.ts).
ALLOWED_SINKS = {("js/src/loader.ts", "dynamic import")}


def test_the_front_end_has_no_code_or_html_sinks():
    """Protects: the widgets' TypeScript evaluates no code and parses no HTML from the kernel (text only)."""
    sources = sorted((ROOT / "js" / "src").rglob("*.ts"))
    assert len(sources) >= 10
    found = [(str(p.relative_to(ROOT)), i, what, line.strip())
             for p in sources for i, line in enumerate(p.read_text().splitlines(), 1)
             for what, pattern in CODE_SINKS.items() if re.search(pattern, line)]
    allowed = [f for f in found if (f[0], f[2]) in ALLOWED_SINKS]
    assert len(allowed) == 1, f"the loader's one import of the front end, and nothing else allowed: {allowed}"
    bad = [f"{path}:{i}: {what}: {line}" for path, i, what, line in found if (path, what) not in ALLOWED_SINKS]
    assert not bad, "\n".join(bad)


def test_the_sink_scan_catches_each_sink():
    """The scan above is not vacuous: each pattern matches the sink it names."""
    samples = {"eval(": "eval(msg.code)", "new Function": "new Function(src)()", "Function(": "Function(src)()",
               "innerHTML": "el.innerHTML = name", "outerHTML": "el.outerHTML = x",
               "insertAdjacentHTML": "el.insertAdjacentHTML('beforeend', x)", "document.write": "document.write(x)",
               "createContextualFragment": "range.createContextualFragment(x)", "DOMParser": "new DOMParser()",
               "srcdoc": "frame.srcdoc = x", "dynamic import": "await import(url)",
               "setTimeout/setInterval with a string": "setTimeout('go()', 1)",
               "javascript: URL": "a.href='javascript:x'"}
    assert set(samples) == set(CODE_SINKS)
    for what, line in samples.items():
        assert re.search(CODE_SINKS[what], line), what
