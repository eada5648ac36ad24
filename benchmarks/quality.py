"""The model zoo's quality table (issue 3): train each registered family on the CPU, measure it, print markdown.

    nice -n 10 .venv/bin/python benchmarks/quality.py [--rows ring,grid,dcgan,cgan,vae,beta_vae]
        [--out runs/quality] [--steps ROW=N ...] [--preset ROW=NAME ...] [--config ROW=JSON ...]
        [--lr-drop ROW=STEP[:FACTOR] ...] [--schedule ROW=JSON ...]
        [--checkpoint ROW=PATH ...] [--iw-samples 1000] [--seed 0]

Every row trains through ``genwidgets.train`` (or evaluates ``--checkpoint``) and measures through
``genwidgets.metrics``; a row whose model family is not registered is skipped with a message.
The default recipes (preset, steps, learning-rate drop) are the ones the families document; change
them per row with the options above. Targets are fixed here and never relaxed; the table says by how
much a row misses.

* ring / grid: modes covered and % high-quality samples (VEEGAN / PacGAN protocol, 2,500 samples).
* dcgan: FID in the MNIST classifier's feature space vs. the real-vs-real floor at the same n, and
  improved precision / recall (k = 3), 2,000 samples; trained on all 5,000 digits.
* cgan: the classifier's accuracy on samples, per requested label.
* vae: importance-weighted NLL (k = ``--iw-samples``) on the 1,000 held-out digits, trained on the other
  4,000 (``genwidgets.data.splits.train_test_split``).
* beta_vae: MIG on dSprites, against "our VAE": the same family, config and steps with beta = 1 (and no
  capacity schedule), i.e. the plain VAE objective on the same networks.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

import genwidgets as gw
from genwidgets.data.splits import train_test_split
from genwidgets.errors import PluginError
from genwidgets.metrics import evaluate
from genwidgets.widgets.edit_marks import edit_label


@dataclasses.dataclass
class Row:
    key: str
    title: str
    families: tuple[str, ...]  # the first registered one is used
    data: str
    steps: int
    metrics: str  # the evaluate() group
    target: str
    check: Callable[[dict[str, Any]], tuple[str, bool, str]]  # group results -> (measured, met, miss)
    split: bool = False  # train on the train split (held-out metrics)
    preset: str | None = None
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    lr_drop: tuple[int, float] | None = None  # (step, factor): divide every learning rate by factor at step


def _modes(min_modes: int, min_hq: float) -> Callable[[dict[str, Any]], tuple[str, bool, str]]:
    def check(m: dict[str, Any]) -> tuple[str, bool, str]:
        measured = (f"{m['modes_covered']}/{m['num_modes']} modes, {m['hq_percent']:.1f} % HQ, "
                    f"rev. KL {m['reverse_kl']:.3g}")
        met = m["modes_covered"] >= min_modes and m["hq_percent"] >= min_hq
        miss = [f"{min_modes - m['modes_covered']} modes short"] if m["modes_covered"] < min_modes else []
        miss += [f"HQ {min_hq - m['hq_percent']:.1f} points short"] if m["hq_percent"] < min_hq else []
        return measured, met, ", ".join(miss)
    return check


def _fid(m: dict[str, Any]) -> tuple[str, bool, str]:
    measured = (f"FID {m['fid']:.2f} vs floor {m['fid_floor']:.2f} ({m['fid_ratio']:.1f}x); "
                f"KID {m['kid']:.4f} vs {m['kid_floor']:.4f}; P {m['precision']:.3f} / R {m['recall']:.3f} "
                f"(real: {m['precision_floor']:.3f} / {m['recall_floor']:.3f}); n={m['n']}")
    met = m["fid_ratio"] <= 5 and m["recall"] >= 0.6
    miss = [f"FID {m['fid_ratio'] / 5:.1f}x over the 5x-floor bound"] if m["fid_ratio"] > 5 else []
    miss += [f"recall {0.6 - m['recall']:.3f} short"] if m["recall"] < 0.6 else []
    return measured, met, ", ".join(miss)


def _labels(m: dict[str, Any]) -> tuple[str, bool, str]:
    worst = min(m["label_accuracy_per_label"].items(), key=lambda kv: kv[1])
    measured = f"{100 * m['label_accuracy']:.1f} % (worst label {worst[0]}: {100 * worst[1]:.1f} %); FID ratio " \
               f"{m['fid_ratio']:.1f}x"
    met = m["label_accuracy"] >= 0.9
    return measured, met, "" if met else f"{100 * (0.9 - m['label_accuracy']):.1f} points short"


def _nll(m: dict[str, Any]) -> tuple[str, bool, str]:
    measured = (f"IW-NLL {m['iw_nll']:.2f} ± {m['iw_nll_stderr']:.2f} nats (k={m['k']}), "
                f"-ELBO {m['neg_elbo']:.2f}; {m['n']} held-out digits")
    met = m["iw_nll"] <= 100
    return measured, met, "" if met else f"{m['iw_nll'] - 100:.2f} nats over"


ROWS: list[Row] = [
    Row("ring", "GAN on ring", ("gan",), "ring", 10_000, "modes", "8 modes, >= 95 % HQ", _modes(8, 95.0),
        preset="toy2d"),
    Row("grid", "GAN or WGAN-GP on grid", ("gan", "wgan_gp"), "grid", 24_000, "modes", ">= 24 modes, >= 90 % HQ",
        _modes(24, 90.0), preset="grid", lr_drop=(18_000, 10.0)),
    Row("dcgan", "DCGAN on mnist", ("dcgan",), "mnist", 8000, "images", "FID <= 5x real floor, recall >= 0.6", _fid),
    Row("cgan", "cGAN on mnist", ("cgan",), "mnist", 10_000, "images", "label accuracy >= 90 %", _labels),
    Row("vae", "VAE on mnist", ("vae",), "mnist", 4500, "likelihood", "held-out IW-NLL <= 100 nats", _nll,
        split=True, config={"architecture": "conv", "latent_dim": 32}),
    Row("beta_vae", "beta-VAE on dsprites", ("beta_vae",), "dsprites", 5000, "disentanglement",
        "MIG >= 0.25 and above the VAE's", lambda m: ("", False, "")),  # checked against the VAE below
]


def _family(row: Row) -> str | None:
    names = {m["name"] for m in gw.list_models()}
    return next((f for f in row.families if f in names), None)


def _lr_drop_schedule(family: str | type, config: dict[str, Any], preset: str | None,
                      lr_drop: tuple[int, float] | None) -> dict[int, dict[str, float]]:
    """The run schedule that divides every learning rate of the config by ``factor`` at ``step``."""
    if lr_drop is None:
        return {}
    step, factor = lr_drop
    cfg = (gw.get_model(family) if isinstance(family, str) else family).Config.from_dict(config, preset=preset)
    return {step: {k: getattr(cfg, k) / factor for k in cfg.editable_fields() if k == "lr" or k.startswith("lr_")}}


def _train(family: str | type, data: Any, steps: int, config: dict[str, Any], out: Path, *,
           preset: str | None = None, schedule: dict[Any, dict[str, Any]] | None = None) -> tuple[Any, float]:
    """Train through genwidgets.train, with the run ``schedule`` of planned edits (e.g. an lr drop)."""
    t0 = time.perf_counter()
    run = gw.train(family, data=data, steps=steps, config=config, preset=preset, out=out, log_every=50,
                   sample_every=max(steps // 4, 1), checkpoint_every=None, schedule=schedule)
    run.wait()
    if run.state != "finished" or run.step_count != steps:
        raise RuntimeError(f"training ended in state {run.state!r} at step {run.step_count}")
    return run, time.perf_counter() - t0


def run_row(row: Row, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    family = _family(row)
    if family is None:
        return {"skipped": f"no model family {' or '.join(row.families)} is registered"}
    steps = args.steps.get(row.key, row.steps)
    config = args.config.get(row.key, row.config)
    preset = args.preset.get(row.key, row.preset)
    if preset is not None and preset not in gw.get_model(family).Config.presets:
        preset = None  # a preset of another family in the row (e.g. gan's "grid" for wgan_gp)
    lr_drop = args.lr_drop.get(row.key, row.lr_drop)
    schedule = args.schedule.get(row.key) or _lr_drop_schedule(family, config, preset, lr_drop)
    data = gw.load_data(row.data)
    record: dict[str, Any] = {"family": family, "data": row.data, "steps": steps, "config": config, "preset": preset,
                              "schedule": schedule}
    eval_kwargs = {"metrics": [row.metrics], "seed": args.seed, "iw_samples": args.iw_samples}
    if row.key in args.checkpoint:
        record.update(checkpoint=args.checkpoint[row.key], train_seconds=None, steps="(checkpoint)")
        result = evaluate(args.checkpoint[row.key], data=data, **eval_kwargs)
        model = None
    else:
        cls: str | type = family
        train_data: Any = data
        if row.split:
            train_data, _ = train_test_split(data)
        print(f"[{row.key}] training {family} on {row.data}{' (train split)' if row.split else ''} for {steps} "
              f"steps ...", file=sys.stderr, flush=True)
        run, seconds = _train(cls, train_data, steps, config, out / row.key, preset=preset, schedule=schedule)
        record.update(checkpoint=str(run.last_checkpoint), train_seconds=round(seconds, 1))
        model = run.model
        result = evaluate(model, data=data, **eval_kwargs)
    record["result"] = result["metrics"][row.metrics]
    record["eval_seconds"] = result["seconds"][row.metrics]
    if row.key == "beta_vae":
        record.update(_beta_vs_vae(record, args, out, data, family, steps, config, preset, schedule, eval_kwargs))
    else:
        record["measured"], record["met"], record["miss"] = row.check(record["result"])
    return record


def _beta_vs_vae(record: dict[str, Any], args: argparse.Namespace, out: Path, data: Any, family: str, steps: int,
                 config: dict[str, Any], preset: str | None, schedule: dict[Any, dict[str, Any]],
                 eval_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Measure "our VAE": the same family, networks, steps and lr schedule with beta = 1 and no capacity schedule."""
    fields = {f.name for f in dataclasses.fields(gw.get_model(family).Config)}
    plain = {**config, "beta": 1.0, **({"capacity_max": 0.0} if "capacity_max" in fields else {})}
    if "vae_beta" in args.checkpoint:
        vae = evaluate(args.checkpoint["vae_beta"], data=data, **eval_kwargs)
    else:
        print(f"[beta_vae] training the beta = 1 baseline on dsprites for {steps} steps ...", file=sys.stderr,
              flush=True)
        run, _ = _train(family, data, steps, plain, out / "beta_vae_beta1", preset=preset, schedule=schedule)
        vae = evaluate(run.model, data=data, **eval_kwargs)
    beta_mig = record["result"]["mig"]["mig"]
    vae_mig = vae["metrics"]["disentanglement"]["mig"]["mig"]
    beta_fv = record["result"]["factor_vae"]["score"]
    vae_fv = vae["metrics"]["disentanglement"]["factor_vae"]["score"]
    met = beta_mig >= 0.25 and beta_mig > vae_mig
    miss = [f"MIG {0.25 - beta_mig:.3f} short of 0.25"] if beta_mig < 0.25 else []
    miss += [f"MIG {vae_mig - beta_mig:.3f} below the VAE's"] if beta_mig <= vae_mig else []
    return {"measured": f"MIG {beta_mig:.3f} (VAE {vae_mig:.3f}); FactorVAE metric {beta_fv:.3f} (VAE {vae_fv:.3f})",
            "met": met, "miss": ", ".join(miss), "vae_result": vae["metrics"]["disentanglement"]}


def _pairs(items: list[str], parse: Callable[[str], Any]) -> dict[str, Any]:
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key] = parse(value)
    return out


def _parse_drop(text: str) -> tuple[int, float]:
    step, _, factor = text.partition(":")
    return int(step), float(factor or 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(r.key for r in ROWS), help="comma-separated rows to run")
    parser.add_argument("--out", default="runs/quality", help="run directories and quality.json go here")
    parser.add_argument("--steps", action="append", default=[], metavar="ROW=N", help="training steps of a row")
    parser.add_argument("--config", action="append", default=[], metavar="ROW=JSON", help="config overrides")
    parser.add_argument("--preset", action="append", default=[], metavar="ROW=NAME", help="config preset")
    parser.add_argument("--lr-drop", action="append", default=[], metavar="ROW=STEP[:FACTOR]",
                        help="divide the learning rates by FACTOR (default 10) once STEP steps are trained")
    parser.add_argument("--schedule", action="append", default=[], metavar="ROW=JSON",
                        help='planned hyperparameter edits, e.g. beta_vae=\'{"45000": {"lr": 1e-4}}\' (overrides '
                             "--lr-drop)")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="ROW=PATH",
                        help="evaluate this checkpoint instead of training (ROW vae_beta: the beta row's baseline)")
    parser.add_argument("--iw-samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.steps = _pairs(args.steps, int)
    args.config = _pairs(args.config, json.loads)
    args.checkpoint = _pairs(args.checkpoint, str)
    args.preset = _pairs(args.preset, str)
    args.lr_drop = _pairs(args.lr_drop, _parse_drop)
    args.schedule = _pairs(args.schedule, json.loads)
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    wanted = args.rows.split(",")
    records: dict[str, Any] = {}
    for row in ROWS:
        if row.key not in wanted:
            continue
        try:
            records[row.key] = run_row(row, args, out)
        except (gw.GenwidgetsError, RuntimeError, ValueError) as exc:
            records[row.key] = {"error": f"{type(exc).__name__}: {exc}"}
        if "skipped" in records[row.key] or "error" in records[row.key]:
            print(f"[{row.key}] {records[row.key].get('skipped') or records[row.key].get('error')}", file=sys.stderr)
        (out / "quality.json").write_text(json.dumps(records, indent=1, default=str))
    command = "nice -n 10 .venv/bin/python " + " ".join(shlex.quote(a) for a in sys.argv)
    print(f"\nCPU, torch {torch.__version__}, {torch.get_num_threads()} thread(s); `{command}`\n")
    print("| row | family | steps (recipe, train time) | measured | target | met |")
    print("|---|---|---|---|---|---|")
    for row in ROWS:
        if row.key not in records:
            continue
        r = records[row.key]
        if "skipped" in r or "error" in r:
            print(f"| {row.title} | - | - | {r.get('skipped') or r.get('error')} | {row.target} | not run |")
            continue
        recipe = f"preset {r['preset']}, " if r.get("preset") else ""
        recipe += f"{json.dumps(r['config'])}, " if r.get("config") else ""
        for step, edits in sorted((int(k), v) for k, v in (r.get("schedule") or {}).items()):
            recipe += f"{edit_label(edits)} at {step}, "
        trained = (f"{r['steps']} ({recipe}{r['train_seconds']} s)" if r.get("train_seconds") is not None
                   else r["checkpoint"])
        verdict = "yes" if r["met"] else f"**no**: {r['miss']}"
        note = f" ({r['note']})" if r.get("note") else ""
        print(f"| {row.title} | {r['family']} | {trained} | {r['measured']}{note} | {row.target} | {verdict} |")
    print(f"\nfull results: {out / 'quality.json'}")


if __name__ == "__main__":
    try:
        main()
    except PluginError as exc:
        sys.exit(f"quality: {exc}")
