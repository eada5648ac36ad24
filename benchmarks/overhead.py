"""Overhead of genwidgets over plain PyTorch: each family trained through a Run vs a hand-written loop.

    nice -n 10 .venv/bin/python benchmarks/overhead.py [--rounds 5] [--scale 1.0] [--only gan,vae]

A = a genwidgets ``Run`` (background thread, metrics accumulated and read every 10 steps,
a sample grid every 100 steps, live-edit checks, the epoch sampler). The run keeps one thread for
the whole row and is paused between timed windows (``resume(steps=n)``, as a notebook steps a
paused run; :class:`RunWindows`), so the windows time its steady state; what a run pays once at its
start and end (a thread, a final metric flush and sample grid) is left out.
B = a plain PyTorch loop written from the same network modules (``model.generator``,
``model.encoder``, ...), with the same optimizer objects, batch size and data tensors, that
draws random batches by indexing and never reads a loss -- the leanest loop one would write
by hand, without calling ``train_step``.

Both train the same model object in the same process; pairs alternate A B A B ... so load
swings on a shared machine hit both alike. The table gives the medians of steps/s and the
median of the per-pair ratios A/B (target >= 0.97).

Both sides run with 1 CPU thread (the Run's loop thread adopts the runtime's thread count).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import threading
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from _common import alternate, rate, summary

import genwidgets as gw


@dataclasses.dataclass(frozen=True)
class Case:
    """One benchmark row: a family, its data and preset, and steps per timed sample."""

    family: str
    data: str
    preset: str | None
    steps: int


CASES = [
    Case("gan", "ring", "toy2d", 100),
    Case("gan", "mnist", None, 15),
    Case("cgan", "mnist", None, 10),
    Case("dcgan", "mnist", None, 5),
    Case("wgan_gp", "ring", "tiny", 300),
    Case("wgan_gp", "digits", None, 10),
    Case("vae", "mnist", None, 60),
    Case("beta_vae", "mnist", None, 30),
]


# ---- plain loops, one per family, from the network modules ---------------------------------------

def _batches(data: gw.TensorData, batch_size: int) -> Callable[[], tuple[torch.Tensor, torch.Tensor | None]]:
    x, y, n = data.x, data.labels, len(data)

    def draw() -> tuple[torch.Tensor, torch.Tensor | None]:
        idx = torch.randint(n, (batch_size,))
        return x[idx], None if y is None else y[idx]

    return draw


def plain_gan(model, data, steps: int, *, conditional: bool = False) -> int:
    """GAN / cGAN / DCGAN: d_steps BCE updates of D, then the non-saturating G update."""
    G, D = model.generator, model.discriminator  # noqa: N806 - the papers' names
    opt_g, opt_d = model.optimizers["g"], model.optimizers["d"]
    cfg, draw = model.config, _batches(data, model.config.batch_size)
    images = data.spec.kind == "images"
    for _ in range(steps):
        x, y = draw()
        real = x * 2 - 1 if images else x
        n = real.shape[0]
        args = (y,) if conditional else ()
        ones, zeros = torch.ones(n), torch.zeros(n)
        for _ in range(cfg.d_steps):
            fake = G(torch.randn(n, cfg.latent_dim), *args)
            loss_d = (F.binary_cross_entropy_with_logits(D(real, *args).reshape(n), ones)
                      + F.binary_cross_entropy_with_logits(D(fake.detach(), *args).reshape(n), zeros))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        loss_g = F.binary_cross_entropy_with_logits(D(fake, *args).reshape(n), ones)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
    return steps


def plain_wgan_gp(model, data, steps: int) -> int:
    """WGAN-GP: n_critic critic updates with the gradient penalty, then G on -E[f(G(z))]."""
    G, f = model.generator, model.discriminator  # noqa: N806
    opt_g, opt_d = model.optimizers["g"], model.optimizers["d"]
    cfg, draw = model.config, _batches(data, model.config.batch_size)
    images = data.spec.kind == "images"
    for _ in range(steps):
        x, _ = draw()
        real = x * 2 - 1 if images else x
        n = real.shape[0]
        for _ in range(cfg.d_steps):
            fake = G(torch.randn(n, cfg.latent_dim))
            eps = torch.rand(n, *([1] * (real.dim() - 1)))
            x_hat = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
            (grad,) = torch.autograd.grad(f(x_hat).sum(), x_hat, create_graph=True)
            gp = (grad.flatten(1).norm(2, dim=1) - 1).pow(2).mean()
            loss_d = f(fake.detach()).mean() - f(real).mean() + cfg.gp_weight * gp
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        loss_g = -f(fake).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
    return steps


def plain_vae(model, data, steps: int) -> int:
    """VAE / beta-VAE (Bernoulli decoder on images): recon + kl_weight * KL."""
    enc, dec, opt = model.encoder, model.decoder, model.optimizers["model"]
    draw, weight = _batches(data, model.config.batch_size), model.kl_weight()
    for _ in range(steps):
        x, _ = draw()
        mean, logvar = enc(x)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        recon = F.binary_cross_entropy_with_logits(dec(z), x, reduction="none").flatten(1).sum(1).mean()
        kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()
        loss = recon + weight * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return steps


PLAIN = {
    "gan": plain_gan,
    "dcgan": plain_gan,
    "cgan": functools.partial(plain_gan, conditional=True),
    "wgan_gp": plain_wgan_gp,
    "vae": plain_vae,
    "beta_vae": plain_vae,
}


# ---- the measurement -----------------------------------------------------------------------------

class RunWindows:
    """Train a Run in timed windows the way a notebook steps a paused run: ``resume(steps=n)``, wait for the pause.

    The Run keeps one background thread for the whole measurement, so the windows time its steady
    state: its per-step bookkeeping, thread and sampler, and the sample grids and metric flushes due
    inside the window. What a run pays once when it starts and finishes (a thread, the final metric flush
    and sample grid: about 15 ms for DCGAN on MNIST) is left out, as a long training pays it once.
    """

    def __init__(self, run: gw.Run) -> None:
        self.run = run
        self._paused = threading.Event()
        self._sub = run.subscribe(self._on_state, kinds=["state"])
        run.start()
        run.pause(wait=True)
        run.events.flush()
        if run.state != "paused":
            raise RuntimeError(f"the run did not pause: {run.state!r}")

    def _on_state(self, event: Any) -> None:
        if event.data["new"] in ("paused", "failed", "stopped", "finished"):
            self._paused.set()

    def train(self, steps: int) -> int:
        """Train ``steps`` steps in the run's thread and return once it has paused again; returns the steps done."""
        start = self.run.step_count
        self._paused.clear()
        self.run.resume(steps=steps)
        self._paused.wait()
        if self.run.state != "paused":
            raise RuntimeError(f"the run {self.run.state} instead of pausing: {self.run.error!r}")
        return self.run.step_count - start

    def close(self) -> None:
        """Stop the run's thread and its event subscription."""
        self.run.stop(wait=True)
        self._sub.close()


def prepare_case(case: Case, *, scale: float = 1.0, runtime: gw.Runtime | None = None
                 ) -> tuple[Callable[[], float], Callable[[], float], RunWindows]:
    """Build one case's model and return ``(measure_run, measure_plain, windows)``.

    Both timers train the same freshly built model (1 CPU thread unless ``runtime`` says otherwise)
    for one window of ``case.steps * scale`` steps and return steps/s; the Run side trains in
    ``windows`` (:class:`RunWindows`), which the caller closes.
    """
    rt = runtime or gw.Runtime.create(device="cpu", num_threads=1)
    data = gw.load_data(case.data)
    model = gw.build_model(case.family, data.spec, preset=case.preset, runtime=rt)
    windows = RunWindows(gw.Run(model, data, steps=None, log_every=10, sample_every=100, checkpoint_every=None))
    steps = max(1, round(case.steps * scale))
    measure_run = functools.partial(rate, functools.partial(windows.train, steps))
    measure_plain = functools.partial(rate, functools.partial(PLAIN[case.family], model, data, steps))
    return measure_run, measure_plain, windows


def measure_case(case: Case, *, rounds: int, scale: float = 1.0,
                 runtime: gw.Runtime | None = None) -> tuple[list[float], list[float]]:
    """Steps/s of a Run (A) and of the plain loop (B) on one case: ``rounds`` alternating pairs after a warm-up."""
    measure_run, measure_plain, windows = prepare_case(case, scale=scale, runtime=runtime)
    try:
        measure_run(), measure_plain()  # warm up both paths
        return alternate(measure_run, measure_plain, rounds)
    finally:
        windows.close()


def main() -> None:
    """Print the markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5, help="A/B pairs per case")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every case's steps per sample")
    parser.add_argument("--only", default="", help="comma-separated families to run")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rt = gw.Runtime.create(device="cpu", num_threads=1)
    only = {f for f in args.only.split(",") if f}
    print(f"torch {torch.__version__}, {rt.num_threads} thread, {args.rounds} pairs per row, "
          "Run: log_every=10, sample_every=100")
    print("| family on data (preset) | Run steps/s (A) | plain loop steps/s (B) | A/B | pairs |")
    print("|---|---|---|---|---|")
    for case in CASES:
        if only and case.family not in only:
            continue
        xs, ys = measure_case(case, rounds=args.rounds, scale=args.scale, runtime=rt)
        print(summary(f"{case.family} on {case.data} ({case.preset or 'default'})", xs, ys, "", "Run", "plain"),
              flush=True)


if __name__ == "__main__":
    main()
