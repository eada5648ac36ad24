"""The front end ships as one module per page and a small loader per widget (genwidgets/widgets/bundle.py)."""

from __future__ import annotations

import hashlib

import pytest

from genwidgets.widgets.bundle import FRONTEND, KINDS, esm, library_message

#: What a studio may load, all of its JavaScript together (issue 19).
STUDIO_BUDGET = 1_500_000


def test_each_widget_sends_a_small_loader_naming_its_kind_and_the_bundle_hash():
    data = FRONTEND.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    for kind in KINDS:
        source = esm(kind)
        assert len(source) < 4096, f"{kind}'s _esm is {len(source)} bytes: it should only load the front end"
        assert kind in source and digest in source and "__GENWIDGETS_" not in source


def test_the_library_answer_is_the_bundle_with_its_hash():
    content, buffers = library_message()
    assert content == {"op": "library", "hash": hashlib.sha256(FRONTEND.read_bytes()).hexdigest()[:16]}
    assert buffers == [FRONTEND.read_bytes()]


def test_a_studio_loads_at_most_the_budget_and_one_plotly():
    data = FRONTEND.read_bytes()
    total = len(data) + sum(len(esm(kind)) for kind in KINDS)
    assert total <= STUDIO_BUDGET, f"a studio loads {total:,} bytes of JavaScript, over {STUDIO_BUDGET:,}"
    assert data.count(b'.version="4.1.1"') == 1, "one plotly.js build, the vendored 4.1.1"
    assert b"scattergl" in data and b"heatmap" in data


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown widget kind 'heatmap'"):
        esm("heatmap")


def test_the_vendored_plotly_matches_its_build_script():
    """js/vendor/plotly.min.mjs is committed (building it needs 170 MB of sources): its banner must say what
    js/plotly/ would build now, the plotly.js version and the traces, so a change to either is rebuilt."""
    import json
    import re
    from pathlib import Path

    js = Path(__file__).resolve().parent.parent / "js"
    banner = (js / "vendor" / "plotly.min.mjs").read_text()[:300]
    pinned = json.loads((js / "plotly" / "package.json").read_text())["devDependencies"]["plotly.js"]
    traces = re.search(r"const TRACES = \[([^\]]*)\]", (js / "plotly" / "build.cjs").read_text())[1]
    names = ", ".join(t.strip().strip('"') for t in traces.split(","))
    assert f"plotly.js {pinned} " in banner and f"core + {names};" in banner, (banner, pinned, names)
