"""The ``genwidgets`` command line: list plugins and data, train, sample.

Errors print one line and exit non-zero; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GenwidgetsError
from .runtime.interrupts import exit_status

if TYPE_CHECKING:
    from .sweeps import SweepPlan, SweepPoint

#: ``genwidgets train`` defaults for a new run (a resumed run keeps its own).
DEFAULT_DATA = "mnist"
LOG_EVERY, SAMPLE_EVERY, CHECKPOINT_EVERY = 10, 250, 500


def _parse_value(text: str) -> Any:
    """Parse a ``--set`` value as JSON when it is valid JSON (numbers, lists, true), else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _int_at_least(minimum: int, *, at_most: int | None = None, hint: str = "") -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``[minimum, at_most]``, else one line naming the limit.

    ``hint`` follows the message when the value is above ``at_most`` (how to get more another way).
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum or (at_most is not None and value > at_most):
            limit = f">= {minimum}" if at_most is None else f"from {minimum} to {at_most}"
            raise argparse.ArgumentTypeError(f"must be an integer {limit}, got {value}"
                                             + (hint if at_most is not None and value > at_most else ""))
        return value

    parse.__name__ = "integer"  # argparse names the type in its messages
    return parse


#: Numbers of steps, examples or samples: at least one.
POSITIVE = _int_at_least(1)
#: ``genwidgets sample``: the most samples in one grid, and the largest upscale factor.
MAX_SAMPLES, MAX_SCALE = 10_000, 16


def _parse_sets(pairs: Sequence[str]) -> dict[str, Any]:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise GenwidgetsError(f"--set expects KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip().replace("-", "_")] = _parse_value(value)
    return out


def _parse_schedule(items: Sequence[str]) -> dict[int, dict[str, Any]]:
    """``--at STEP:KEY=VALUE`` items as ``{step: {key: value}}`` (a run's schedule)."""
    out: dict[int, dict[str, Any]] = {}
    for item in items:
        step, sep, pair = item.partition(":")
        if not sep or not step.strip().isdigit():
            raise GenwidgetsError(f"--at expects STEP:KEY=VALUE, e.g. --at 45000:lr=1e-4, got {item!r}")
        out.setdefault(int(step), {}).update(_parse_sets([pair]))
    return out


def plugin_lines(plugin: dict[str, Any], capabilities: dict[str, dict[str, bool]]) -> list[str]:
    """The text ``genwidgets plugins`` prints for one plugin (a :func:`genwidgets.list_plugins` entry).

    Everything ``--json`` holds is shown: origin, each model with the verbs its ``capabilities`` give
    (looked up by name), data sets, metrics, panels, hooks and the load error; empty kinds are left out.
    """
    origin = f"{plugin['distribution']} {plugin['version']}" if plugin["distribution"] else "added at run time"
    lines = [f"{plugin['name']}  ({origin})"]
    for name in plugin["models"]:
        flags = capabilities.get(name, {})
        verbs = [k.removeprefix("can_") for k, v in flags.items() if v]
        lines.append(f"  model {name:<10} {', '.join(verbs)}")
    for kind in ("datasets", "metrics", "panels", "hooks"):
        if plugin[kind]:
            lines.append(f"  {kind}: {', '.join(plugin[kind])}")
    if plugin["error"]:
        lines.append(f"  ERROR: {plugin['error']}")
    return lines


def cmd_plugins(args: argparse.Namespace) -> int:
    """List plugins: what each registered (models, data sets, metrics, panels, hooks) and load errors.

    ``--json`` prints :func:`genwidgets.list_plugins` as it is (every registration by name; a
    model's capabilities, paper and config are in :func:`genwidgets.list_models`); the text shows
    the same, plus each model's verbs.
    """
    import genwidgets as gw

    plugins = gw.list_plugins()
    if args.json:
        print(json.dumps(plugins, indent=2))
        return 0
    capabilities = {m["name"]: m["capabilities"] for m in gw.list_models()}
    for p in plugins:
        print("\n".join(plugin_lines(p, capabilities)))
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    """List the registered data sets."""
    import genwidgets as gw

    sets = gw.list_datasets()
    if args.json:
        print(json.dumps(sets, indent=2))
        return 0
    for d in sets:
        classes = f", {d['num_classes']} classes" if d["num_classes"] else ""
        print(f"{d['name']:<10} {d['kind']:<6} {'x'.join(map(str, d['shape'])):<9} "
              f"{d['size']:>7} examples{classes}  {d['description']}")
    return 0


def _or_default(value: int | None, default: int) -> int:
    return default if value is None else value


def cmd_train(args: argparse.Namespace) -> int:
    """Train a model with a progress bar; Ctrl-C stops cleanly and saves a final checkpoint."""
    import genwidgets as gw

    from .api import steps_reached_error
    from .cli_outputs import SampleWriter, write_final_figures
    from .loggers import sample_grids
    from .runtime.checkpoint import resolve_checkpoint

    if args.resume:
        cadences = (("log_every", args.log_every), ("sample_every", args.sample_every),
                    ("checkpoint_every", args.checkpoint_every))
        run_options = {name: value for name, value in cadences if value is not None}
        if args.at:  # replaces the run's saved schedule
            run_options["schedule"] = _parse_schedule(args.at)
        run = gw.resume(args.resume, data=args.data, steps=args.steps, out=args.out, device=args.device,
                        compile=args.compile, channels_last=args.channels_last, start=False, **run_options)
        resumed_from = resolve_checkpoint(args.resume)
        if run.steps is not None and run.step_count >= run.steps:  # refused before anything is written to --out
            raise steps_reached_error(resumed_from, run.step_count, run.steps, option="--steps {}")
        if args.set:  # e.g. a learning-rate drop: only the live-editable fields, validated by the run
            run.set_hparams(**_parse_sets(args.set))
        out = run.out_dir
    else:
        config = _parse_sets(args.set)
        args.data = args.data or DEFAULT_DATA
        if args.batch_size is not None:
            config["batch_size"] = args.batch_size
        if args.seed is not None:
            config["seed"] = args.seed
        out = Path(args.out or f"runs/{args.model}-{args.data}-{time.strftime('%Y%m%d-%H%M%S')}")
        resumed_from = None
        run = gw.train(args.model, data=args.data, steps=args.steps, config=config, preset=args.preset,
                       out=out, device=args.device, compile=args.compile, channels_last=args.channels_last,
                       start=False, log_every=_or_default(args.log_every, LOG_EVERY),
                       sample_every=_or_default(args.sample_every, SAMPLE_EVERY),
                       checkpoint_every=_or_default(args.checkpoint_every, CHECKPOINT_EVERY),
                       schedule=_parse_schedule(args.at))
    main_rank = run.dist is None or run.dist.is_main  # under torchrun, rank 0 reports and writes figures
    if not main_rank:
        args.quiet = True
    writer = None
    if main_rank:
        if not sample_grids.writes_for(run):  # the `samples` plugin writes each grid; left out, write them here
            writer = SampleWriter(out, run=run)
            run.subscribe(writer, kinds=["samples"], replay=False)
        edits = run.subscribe(_announce_edit, kinds=["hparams"])  # planned (--at) edits, as they apply
    rt = run.runtime.describe()
    ranks = f", rank 0 of {run.dist.world_size} (DDP)" if run.dist is not None else ""
    speed = "".join(f", {label}" for label, on in (("channels_last", rt.get("channels_last")),
                                                   ("torch.compile", rt.get("compile"))) if on)
    if main_rank:
        print(f"{_what_trains(run, resumed_from, args.set)} on {run.data_source.get('name')} "
              f"({len(run.data)} examples) on {rt['device']} ({rt['precision']}{speed}, {rt['num_threads']} "
              f"threads{ranks}) -> {out}", file=sys.stderr)
    interrupted = follow_progress(run, quiet=args.quiet, start=True)
    run.wait()
    if not main_rank:
        return 0
    run.events.flush(60.0)  # the last grids (plugins and subscribers) are written before the summary
    if writer is not None:
        writer.flush()
    edits.flush()
    figures = write_final_figures(run, out)
    summary = {"model": run.model.name, "data": run.data_source.get("name"), "steps": run.step_count,
               "state": run.state, "steps_per_sec": round(run.step_count / max(run.train_seconds, 1e-9), 2),
               "metrics": run.latest_metrics, "checkpoint": str(run.last_checkpoint) if run.last_checkpoint else None,
               "figures": [str(f) for f in figures]}
    print(json.dumps(summary, indent=2) if args.json else
          f"{run.state} at step {run.step_count}: {summary['steps_per_sec']} steps/s (train time); "
          f"checkpoint {summary['checkpoint']}; samples {out / 'samples.png'}")
    return exit_status(interrupted)  # 130 after Ctrl-C, 143 after SIGTERM (the final checkpoint is saved)


def _what_trains(run: Any, resumed_from: Path | None, sets: Sequence[str]) -> str:
    """The start of ``train``'s first line: "training MODEL", or where a resumed run continues from."""
    if resumed_from is None:
        return f"training {run.model.name}"
    total = "" if run.steps is None else f" of {run.steps}"
    edits = f" with {', '.join(sets)}" if sets else ""
    return f"resuming {run.model.name} from {resumed_from} at step {run.step_count}{total}{edits},"


def _announce_edit(event: Any) -> None:
    """Print a hyperparameter edit as it applies (e.g. a planned ``--at`` one), above the progress bar."""
    from tqdm import tqdm

    changes = ", ".join(f"{key}={value}" for key, value in event.data.items())
    tqdm.write(f"step {event.step}: edit applied: {changes}", file=sys.stderr)


def follow_progress(run: Any, *, quiet: bool = False, start: bool = False) -> int | None:
    """Show a progress bar (and the run's warnings) until ``run`` ends; ``start`` starts it first.

    Ctrl-C or SIGTERM stops the run cleanly: it finishes its step and writes its final checkpoint,
    and further signals cannot interrupt that save (see :class:`~genwidgets.runtime.interrupts.StopOnSignals`).
    Returns the signal that stopped the run, or None.
    """
    from tqdm import tqdm

    from .runtime.interrupts import StopOnSignals

    bar = tqdm(total=run.steps, initial=run.step_count, unit="step", dynamic_ncols=True, disable=quiet)
    warnings = run.subscribe(lambda ev: tqdm.write(f"warning: {ev.data.get('message', '')}", file=sys.stderr),
                             kinds=["warning"])
    with StopOnSignals(lambda: run.stop(wait=False), exiting=True) as signals:
        if start:
            run.start()
        while run.is_alive:
            time.sleep(0.25)
            bar.update(run.step_count - bar.n)
            if run.latest_metrics:
                bar.set_postfix({k: f"{v:.3g}" for k, v in run.latest_metrics.items()}, refresh=False)
        bar.update(run.step_count - bar.n)
        bar.close()
        warnings.flush(5.0)
    warnings.close()
    return signals.received


def cmd_sweep(args: argparse.Namespace) -> int:
    """Train every combination of --vary for each seed, one run after another; a restart continues the sweep.

    With ``--parallel K`` (K > 1), up to K runs train at once, each in its own process.
    """
    import warnings

    from .sweeps import cap_parallel, check_evaluate, claim, evaluate_outcome, plan_sweep, start_point

    vary = {}
    for item in args.vary:
        key, sep, values = item.partition("=")
        if not sep or not values.strip():
            raise GenwidgetsError(f"--vary expects KEY=V1,V2,..., e.g. --vary beta=1,4,8, got {item!r}")
        vary[key.strip().replace("-", "_")] = [_parse_value(v) for v in values.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [0]
    plan = plan_sweep(args.model, args.data, vary=vary, steps=args.steps, out=args.out, seeds=seeds,
                      preset=args.preset, config=_parse_sets(args.set))
    groups = check_evaluate([g for part in args.evaluate for g in part.split(",") if g])
    with warnings.catch_warnings(record=True) as capped:  # a too-large --parallel: one plain line, not a traceback
        warnings.simplefilter("always")
        parallel = cap_parallel(args.parallel)
    for warning in capped:
        print(f"warning: {warning.message}", file=sys.stderr)
    options = {"log_every": _or_default(args.log_every, LOG_EVERY),
               "sample_every": _or_default(args.sample_every, SAMPLE_EVERY),
               "checkpoint_every": _or_default(args.checkpoint_every, CHECKPOINT_EVERY)}
    claim(plan)
    if parallel > 1:
        return _sweep_in_processes(plan, parallel, options, args, groups)
    outcomes, interrupted = [], None
    for i, (point, status) in enumerate(plan.status(), 1):
        outcome = {"name": point.name, "dir": str(point.out), "was": status.state, "state": status.state,
                   "step": status.step, "error": None}
        if interrupted is None and status.state != "finished":
            try:
                run = start_point(plan, point, status, **options)
            except GenwidgetsError as exc:
                outcome.update(state="failed", error=str(exc))
            else:
                verb = "resuming" if status.state == "partial" else "training"
                print(f"[{i}/{len(plan.points)}] {verb} {point.name} -> {point.out}", file=sys.stderr)
                interrupted = follow_progress(run, quiet=args.quiet, start=True)
                with contextlib.suppress(GenwidgetsError):  # a failed run is reported below; the sweep goes on
                    run.wait()
                outcome.update(state=run.state, step=run.step_count, error=run.error_message or None)
        elif status.state == "finished":
            print(f"[{i}/{len(plan.points)}] {point.name}: finished at step {status.step}, skipped", file=sys.stderr)
        if interrupted is None and groups and outcome["state"] == "finished":
            print(f"[{i}/{len(plan.points)}] evaluating {point.name}: {', '.join(groups)}", file=sys.stderr)
            evaluate_outcome(outcome, groups, args.evaluate_n)
        outcomes.append(outcome)
    return _sweep_summary(plan, outcomes, interrupted, as_json=args.json)


def _sweep_in_processes(plan: SweepPlan, parallel: int, options: dict[str, Any], args: argparse.Namespace,
                        groups: list[str]) -> int:
    """``genwidgets sweep --parallel K``: K runs at a time, each in its own process; a line as each starts and ends.

    Ctrl-C or SIGTERM stops every process after its step (each writes its final checkpoint).
    """
    from .runtime.interrupts import StopOnSignals
    from .sweeps import Sweep

    number = {p.name: i for i, p in enumerate(plan.points, 1)}
    total = len(plan.points)

    def started(run: Any, point: SweepPoint) -> None:
        verb = "resuming" if run.step_count else "training"
        print(f"[{number[point.name]}/{total}] {verb} {point.name} -> {point.out} (own process)", file=sys.stderr)

    sweep = Sweep(plan, parallel=parallel, on_run=started, evaluate=groups, evaluate_n=args.evaluate_n, **options)
    shown = 0
    with StopOnSignals(lambda: sweep.stop(wait=False), what="each run's final checkpoint",
                       exiting=True) as signals:
        sweep.start()
        while not sweep.wait(0.5):
            shown = _print_ended(sweep.outcomes, shown, number, total)
    _print_ended(sweep.outcomes, shown, number, total)
    outcomes = sorted(sweep.outcomes, key=lambda o: number[o["name"]])
    return _sweep_summary(plan, outcomes, signals.received, as_json=args.json)


def _print_ended(outcomes: Sequence[dict[str, Any]], shown: int, number: dict[str, int], total: int) -> int:
    """Print a line to stderr for each outcome after the first ``shown``; returns how many are shown now."""
    for o in outcomes[shown:]:
        if o["was"] == "finished":
            line = f"{o['name']}: finished at step {o['step']}, skipped"
        else:
            line = f"{o['name']}: {o['state']} at step {o['step']}" + (f" ({o['error']})" if o["error"] else "")
        print(f"[{number[o['name']]}/{total}] {line}", file=sys.stderr)
    return len(outcomes)


def _sweep_summary(plan: SweepPlan, outcomes: list[dict[str, Any]], interrupted: int | None, *, as_json: bool) -> int:
    """Print a sweep's outcomes (JSON or a line per run); returns the command's exit status."""
    summary = {"model": plan.model, "data": plan.data, "steps": plan.steps, "out": str(plan.out), "runs": outcomes}
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        for o in outcomes:
            measured = "".join(f", {k} {v:.4g}" for k, v in o.get("evaluation", {}).items())
            failed = f", evaluation failed: {o['evaluation_error']}" if o.get("evaluation_error") else ""
            print(f"{o['name']}: {o['state']} at step {o['step']}{measured}{failed}"
                  + (f" ({o['error']})" if o["error"] else ""))
    if interrupted is not None:
        return exit_status(interrupted)
    return 1 if any(o["state"] == "failed" for o in outcomes) else 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The quickstart: open it in JupyterLab, or (--headless) train with every widget and write their figures."""
    from . import demo

    if not args.headless:
        return demo.open_in_lab(args.out, args.lab_args)
    print(f"demo: training {args.model} on {args.data} for {args.steps} steps with every widget attached "
          f"-> {args.out}", file=sys.stderr)
    summary = demo.run_headless(args.out, model=args.model, data=args.data, steps=args.steps, preset=args.preset,
                                follow=lambda run: follow_progress(run, quiet=args.quiet))
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['state']} at step {summary['steps']}; checkpoint {summary['checkpoint']}")
        for title, path in summary["figures"].items():
            print(f"  {title}: {path}")
        for title, error in summary["errors"].items():
            print(f"  {title}: {error}", file=sys.stderr)
    return 0 if summary["state"] == "finished" and not summary["errors"] else 1


def cmd_sample(args: argparse.Namespace) -> int:
    """Draw samples from a checkpoint into a PNG grid."""
    import torch

    import genwidgets as gw

    from .images import make_grid, points_png, save_png, to_uint8

    model = gw.load_model(args.checkpoint, device=args.device)
    torch.manual_seed(args.seed)
    labels = None
    if model.capabilities.conditional:
        k = model.data_spec.num_classes or 1
        labels = (torch.full((args.n,), args.label) if args.label is not None
                  else torch.arange(args.n) % k).to(model.device)
    elif args.label is not None:
        raise GenwidgetsError(f"model {model.name!r} is not conditional; drop --label")
    out = model.sample(args.n, labels=labels)
    if model.data_spec.kind == "images":
        path = save_png(make_grid(to_uint8(out)), args.out, scale=args.scale)
    else:
        path = points_png(out.float().cpu().numpy(), args.out)
    print(path)
    return 0


def cmd_board(args: argparse.Namespace) -> int:
    """Serve the runs board of a folder as a page (see :mod:`genwidgets.board_app`)."""
    from .board_app import serve

    return serve(args.root, port=args.port, theme=args.theme, interval=args.interval,
                 open_browser=not args.no_browser)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Measure a checkpoint with every applicable metric (see :mod:`genwidgets.metrics.evaluate`)."""
    from .metrics import evaluate

    def progress(message: str) -> None:
        if not args.json:
            print(message, file=sys.stderr)

    metrics = [g for part in args.metrics for g in part.split(",") if g] if args.metrics else None
    result = evaluate(args.checkpoint, n=args.n, seed=args.seed, iw_samples=args.iw_samples, metrics=metrics,
                      progress=progress, save=args.save)
    if args.json:
        print(json.dumps(result, indent=2, allow_nan=False))
        return 0
    print(f"{result['model']} on {result['data']} ({result['checkpoint']}), seed {result['seed']}")
    for group, values in result["metrics"].items():
        print(f"{group} ({result['seconds'][group]} s):")
        for key, value in values.items():
            if isinstance(value, dict | list):
                value = json.dumps(value)
            elif isinstance(value, float):
                value = f"{value:.4g}"
            print(f"  {key}: {value}")
    for group, reason in result["skipped"].items():
        print(f"{group}: skipped ({reason})")
    for group, error in result["failed"].items():
        print(f"{group}: failed ({error})")
    if result.get("saved"):
        print(f"saved to {result['saved']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for docs and tests)."""
    parser = argparse.ArgumentParser(prog="genwidgets", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plugins", help="list plugins and what each registered: models (with capabilities), "
                                        "data sets, metrics, panels, hooks")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("datasets", help="list the embedded and plugin data sets")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("train", help="train a model; checkpoints and sample grids go to --out")
    p.add_argument("model", nargs="?", help="model family, e.g. dcgan or vae (see `genwidgets plugins`)")
    p.add_argument("--data", default=None,
                   help="registered data set name or image folder (default: mnist; with --resume: the checkpoint's, "
                   "and needed again for user data)")
    p.add_argument("--steps", type=POSITIVE, default=None,
                   help="total training steps (default 2000; with --resume: the run's, and to train more, a larger "
                   "total than the checkpoint's step)")
    p.add_argument("--out", help="run directory (default runs/MODEL-DATA-TIMESTAMP; with --resume: the checkpoint's "
                                 "run, or a new directory to branch into, leaving the original run as it is)")
    p.add_argument("--preset", help="config preset, e.g. tiny")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config override (repeatable); with --resume, live-editable hyperparameters only, "
                   "e.g. --set lr_g=2e-5 for a learning-rate drop")
    p.add_argument("--at", action="append", default=[], metavar="STEP:KEY=VALUE",
                   help="a live-editable hyperparameter change once STEP steps are trained (repeatable), e.g. "
                   "--at 45000:lr=1e-4 for a learning-rate drop; saved in checkpoints (with --resume: replaces "
                   "the run's planned changes)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: best available, or $GENWIDGETS_DEVICE)")
    p.add_argument("--compile", action="store_true",
                   help="compile the networks with torch.compile (the first steps wait for the compiler)")
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default="auto",
                   help="channels-last (NHWC) memory format for convolutional models (default: on for CUDA only)")
    p.add_argument("--log-every", type=POSITIVE, default=None, help=f"steps between metric rows (default {LOG_EVERY}; "
                   "with --resume: the run's)")
    p.add_argument("--sample-every", type=POSITIVE, default=None,
                   help=f"steps between sample grids (default {SAMPLE_EVERY}; with --resume: the run's)")
    p.add_argument("--checkpoint-every", type=_int_at_least(0), default=None,
                   help=f"steps between checkpoints; 0: only the final one (default {CHECKPOINT_EVERY}; with --resume: "
                   "the run's). A final checkpoint is always written when the run finishes or is stopped")
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from a checkpoint or run directory")
    p.add_argument("--json", action="store_true", help="print the final summary as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sweep", help="train every combination of --vary (and --seeds) as runs under --out; "
                       "run again to continue it")
    p.add_argument("model", help="model family, e.g. beta_vae (see `genwidgets plugins`)")
    p.add_argument("--data", default=DEFAULT_DATA, help=f"registered data set name (default {DEFAULT_DATA})")
    p.add_argument("--vary", action="append", required=True, metavar="KEY=V1,V2,...",
                   help="a config field and its values (repeatable; every combination is a run), "
                   "e.g. --vary beta=1,4,8")
    p.add_argument("--seeds", default=None, metavar="S1,S2,...", help="seeds, each combination once per seed "
                   "(default 0)")
    p.add_argument("--steps", type=POSITIVE, default=2000, help="steps of every run (default 2000)")
    p.add_argument("--out", required=True, help="the sweep's folder (new or empty, or this same sweep's to continue)")
    p.add_argument("--preset", help="config preset of every run, e.g. tiny")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override of every run")
    p.add_argument("--log-every", type=POSITIVE, default=None, help=f"default {LOG_EVERY}")
    p.add_argument("--sample-every", type=POSITIVE, default=None, help=f"default {SAMPLE_EVERY}")
    p.add_argument("--checkpoint-every", type=_int_at_least(0), default=None,
                   help=f"default {CHECKPOINT_EVERY}; a final checkpoint is always written")
    p.add_argument("--parallel", type=POSITIVE, default=1, metavar="K",
                   help="train up to K runs at once, each in its own process on one CPU thread (default 1: one "
                   "after another in this process); K above the usable CPU cores is lowered to them, with a warning")
    p.add_argument("--evaluate", action="append", default=[], metavar="GROUP[,GROUP]",
                   help="measure each finished run with these metric groups (e.g. disentanglement for MIG) and keep "
                   "the result in its evaluations/ folder, where `genwidgets board` plots it against --vary")
    p.add_argument("--evaluate-n", type=POSITIVE, default=None, help="examples per metric group")
    p.add_argument("--json", action="store_true", help="print the runs' outcomes as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("demo", help="open the quickstart notebook in JupyterLab; --headless: train and write "
                       "every widget's figure",
                       description="Open the quickstart notebook in JupyterLab. Options this command does not know "
                       "go to `jupyter lab`, e.g. --no-browser --port 8899; --allow-root is added when running as "
                       "root (containers, cloud notebooks). --headless: train and write every widget's figure.")
    p.add_argument("--headless", action="store_true", help="no notebook: train, write figures to --out, exit")
    p.add_argument("--out", default="runs/demo", help="folder for the notebook, or for checkpoints and figures")
    p.add_argument("--model", default="dcgan", help="model family (default dcgan)")
    p.add_argument("--data", default=DEFAULT_DATA, help=f"data set (default {DEFAULT_DATA})")
    p.add_argument("--steps", type=POSITIVE, default=2000, help="training steps (headless)")
    p.add_argument("--preset", help="config preset, e.g. tiny (headless)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON (headless)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sample", help="draw samples from a checkpoint into a PNG grid")
    p.add_argument("checkpoint", help="checkpoint directory, or a run directory (its newest checkpoint)")
    p.add_argument("-n", type=_int_at_least(1, at_most=MAX_SAMPLES, hint="; for more, run sample again with "
                                              "another --seed"), default=64, help="number of samples")
    p.add_argument("--out", default="samples.png", help="output PNG")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--label", type=int, help="class for conditional models")
    p.add_argument("--scale", type=_int_at_least(1, at_most=MAX_SCALE), default=2,
                   help="nearest-neighbour upscale factor")
    p.add_argument("--device")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("board", help="the runs board of every run folder under ROOT as a page of its own (Voila): "
                       "table, overlaid curves, sample grids through training, a metric against a hyperparameter")
    p.add_argument("root", nargs="?", default="runs", help="folder of run folders, sweeps or one run (default: runs)")
    p.add_argument("--port", type=POSITIVE, default=8866, help="port on 127.0.0.1 (default: 8866)")
    p.add_argument("--theme", choices=["light", "dark"], default="light", help="page theme")
    p.add_argument("--interval", type=float, default=0.5, help="seconds between polls of the folders (default 0.5)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.set_defaults(func=cmd_board)

    p = sub.add_parser("evaluate", help="measure a checkpoint: FID/KID with floors, P&R, modes, NLL, MIG (JSON-ready)")
    p.add_argument("checkpoint", help="checkpoint directory, or a run directory (its newest checkpoint)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--n", type=POSITIVE, default=None,
                   help="examples per metric group (default: 2500 toys, 2000 images, 1000 held-out, 10000 MIG)")
    p.add_argument("--seed", type=int, default=0, help="seed of samples, real subsets and z draws")
    p.add_argument("--iw-samples", type=POSITIVE, default=1000, help="importance samples per example for the IW-NLL")
    p.add_argument("--metrics", action="append", metavar="GROUP[,GROUP]",
                   help="metric groups to run (repeatable): modes, images, likelihood, disentanglement or a "
                        "plugin's (default: every one that applies; e.g. --metrics disentanglement skips the "
                        "IW-NLL, minutes for a conv model on 64 px images)")
    p.add_argument("--save", action="store_true",
                   help="keep the result in RUN/evaluations/step-N.json (merged with earlier groups), where the "
                        "runs board shows it")
    p.set_defaults(func=cmd_evaluate)
    return parser


def _stdout_closed() -> int:
    """Standard output's reader went away (``genwidgets datasets | head``): exit quietly, as Unix tools do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Python flushes stdout again at exit (Python docs, "Note on SIGPIPE")
    return 128 + getattr(signal, "SIGPIPE", 13)  # the status a shell reports for a tool killed by SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not (args.command == "demo" and not args.headless):  # only the notebook takes JupyterLab's
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.lab_args = extra
    if args.command == "train":
        if not args.model and not args.resume:
            parser.error("train needs a MODEL (or --resume CHECKPOINT)")
        if args.steps is None and not args.resume:
            args.steps = 2000
        if args.resume:
            fixed = [flag for flag, value in (("MODEL", args.model), ("--preset", args.preset),
                                              ("--batch-size", args.batch_size), ("--seed", args.seed))
                     if value is not None]
            if fixed:
                parser.error(f"--resume continues the checkpoint's run as it was: drop {', '.join(fixed)} "
                             "(only --steps, --data, --out, --device, --compile, --channels-last, the --*-every "
                             "cadences, --at and --set of live-editable hyperparameters such as lr can change)")
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a reader that went away shows here, not in Python's flush at exit
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except (GenwidgetsError, OSError, ValueError) as exc:
        if args.debug:
            raise
        print(f"genwidgets: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("genwidgets: interrupted", file=sys.stderr)
        return 130
