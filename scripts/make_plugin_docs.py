"""Regenerate the generated parts of ``docs/plugins.md`` from their sources, so the page cannot drift.

    .venv/bin/python scripts/make_plugin_docs.py           # rewrite docs/plugins.md in place
    .venv/bin/python scripts/make_plugin_docs.py --check   # exit 1 if the committed page is out of date

Between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` markers the page holds:

* ``hooks``: the hook reference, from the signatures and docstrings in ``genwidgets/hookspecs.py``;
* ``example-pyproject``, ``example-plugin``, ``example-model``, ``example-panel``, ``example-test``: the
  files of the example plugin package in ``examples/genwidgets-example-plugin`` (installed and tested in CI).
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "plugins.md"
EXAMPLE = ROOT / "examples" / "genwidgets-example-plugin"
FILES = {
    "example-pyproject": ("toml", EXAMPLE / "pyproject.toml"),
    "example-plugin": ("python", EXAMPLE / "src" / "genwidgets_example" / "plugin.py"),
    "example-model": ("python", EXAMPLE / "src" / "genwidgets_example" / "model.py"),
    "example-panel": ("python", EXAMPLE / "src" / "genwidgets_example" / "panel.py"),
    "example-test": ("python", EXAMPLE / "tests" / "test_contract.py"),
}


def hook_reference() -> str:
    """Markdown for every hook in ``genwidgets.hookspecs``: signature, then its docstring."""
    sys.path.insert(0, str(ROOT))
    import genwidgets.hookspecs as specs

    parts = []
    for name in specs.hook_names():
        fn = getattr(specs, name)
        params = ", ".join(f"{p.name}: {p.annotation}" for p in inspect.signature(fn).parameters.values())
        parts.append(f"### `{name}({params})`\n\n{inspect.getdoc(fn)}\n")
    return "\n".join(parts)


def file_block(language: str, path: Path) -> str:
    """A fenced code block holding ``path`` (with its path relative to the repository as a caption)."""
    return f"`{path.relative_to(ROOT)}`:\n\n```{language}\n{path.read_text().rstrip()}\n```\n"


def render(text: str) -> str:
    """``text`` with every generated section replaced by its current content."""
    sections = {"hooks": hook_reference(), **{k: file_block(*v) for k, v in FILES.items()}}
    for name, body in sections.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{DOC} has no <!-- generated:{name} --> section")
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    """Rewrite the page, or with ``--check`` report whether it is up to date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/plugins.md is out of date")
    args = parser.parse_args(argv)
    current = DOC.read_text()
    fresh = render(current)
    if args.check:
        if fresh != current:
            print(f"{DOC.relative_to(ROOT)} is out of date: run python scripts/make_plugin_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
