"""The GPU path: genwidgets vs a bare PyTorch loop with the same networks, and the fraction of peak matmul.

    .venv/bin/python benchmarks/gpu.py                      # a CUDA machine: DCGAN 64x64, conv VAE batch 256
    .venv/bin/python benchmarks/gpu.py --small --pairs 1    # CPU, small sizes (CI checks that it runs)

For each case, pairs alternate A B A B over the same model object and the same device-resident data:

* A = a genwidgets ``Run`` (background thread, bf16 autocast on CUDA, metrics read every 10 steps,
  sample grids every 100 steps, the epoch sampler);
* B = the leanest hand-written loop over the same networks and optimizers (same autocast), drawing
  random batches by indexing the same tensors.

Printed per case: steps/s of both, the median ratio A/B, samples/s, the FLOPs of one training step
(counted with ``torch.utils.flop_counter``), the achieved FLOP rate, the device's measured peak
matmul rate (a large bf16 matmul on CUDA, fp32 on CPU), and the achieved fraction of that peak.
The data are rendered once into memory (dSprites, 64x64) and moved to the device once.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from _common import alternate
from torch.utils.flop_counter import FlopCounterMode

import genwidgets as gw


@dataclasses.dataclass(frozen=True)
class Case:
    """One row: a family, its config, and the data it trains on."""

    name: str
    family: str
    data: str
    config: dict
    preset: str | None = None


FULL = [
    Case("DCGAN 64x64", "dcgan", "dsprites", {"batch_size": 128}),
    Case("conv VAE batch 256", "vae", "dsprites", {"architecture": "conv", "batch_size": 256, "latent_dim": 10}),
]
SMALL = [
    Case("DCGAN 28x28 tiny", "dcgan", "mnist", {}, "tiny"),
    Case("conv VAE 28x28 tiny", "vae", "mnist", {"architecture": "conv"}, "tiny"),
]


def in_memory(name: str, n: int, device: torch.device) -> gw.TensorData:
    """``n`` examples of data set ``name``, rendered once and moved to ``device`` once."""
    data = gw.load_data(name)
    batch = data.get_batch(torch.arange(min(n, len(data))))
    return gw.TensorData(batch.x.contiguous(), batch.labels, kind=data.spec.kind, name=name).to(device)


def bare_gan(model, x: torch.Tensor, steps: int) -> None:
    """Non-saturating GAN updates (one D step, one G step) with the model's own networks and optimizers."""
    G, D, rt = model.generator, model.discriminator, model.runtime  # noqa: N806 - the papers' names
    opt_g, opt_d, cfg = model.optimizers["g"], model.optimizers["d"], model.config
    n = cfg.batch_size
    ones, zeros = torch.ones(n, device=x.device), torch.zeros(n, device=x.device)
    for _ in range(steps):
        real = x[torch.randint(len(x), (n,), device=x.device)] * 2 - 1
        with rt.autocast():
            fake = G(torch.randn(n, cfg.latent_dim, device=x.device))
            loss_d = (F.binary_cross_entropy_with_logits(D(real).reshape(n).float(), ones)
                      + F.binary_cross_entropy_with_logits(D(fake.detach()).reshape(n).float(), zeros))
        rt.backward_step(loss_d, opt_d)
        with rt.autocast():
            loss_g = F.binary_cross_entropy_with_logits(D(fake).reshape(n).float(), ones)
        rt.backward_step(loss_g, opt_g)


def bare_vae(model, x: torch.Tensor, steps: int) -> None:
    """VAE updates (Bernoulli decoder) with the model's own encoder, decoder and optimizer."""
    enc, dec, rt, opt = model.encoder, model.decoder, model.runtime, model.optimizers["model"]
    n = model.config.batch_size
    for _ in range(steps):
        xb = x[torch.randint(len(x), (n,), device=x.device)]
        with rt.autocast():
            mean, logvar = enc(xb)
            z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
            logits = dec(z).float()
        recon = F.binary_cross_entropy_with_logits(logits, xb, reduction="none").flatten(1).sum(1).mean()
        kl = 0.5 * (mean.float().pow(2) + logvar.float().exp() - 1 - logvar.float()).sum(1).mean()
        rt.backward_step(recon + kl, opt)


BARE = {"dcgan": bare_gan, "vae": bare_vae}


def sync(device: torch.device) -> None:
    """Wait for the device to finish queued work (timing edges only)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_matmul(device: torch.device) -> float:
    """Measured dense matmul rate in FLOP/s: bf16 8192^3 on CUDA, fp32 1024^3 on CPU (median of 5)."""
    n, dtype = (8192, torch.bfloat16) if device.type == "cuda" else (1024, torch.float32)
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    rates = []
    for _ in range(6):
        sync(device)
        t0 = time.perf_counter()
        a @ b
        sync(device)
        rates.append(2 * n**3 / (time.perf_counter() - t0))
    return statistics.median(rates[1:])


def step_flops(model, data: gw.TensorData) -> float:
    """FLOPs of one ``train_step`` (forward and backward of every network it runs)."""
    batch = data.get_batch(torch.arange(model.config.batch_size) % len(data))
    counter = FlopCounterMode(display=False)
    with counter:
        model.train_step(batch)
    return float(counter.get_total_flops())


def measure(case: Case, device: torch.device, *, steps: int, pairs: int, compile: bool = False) -> dict:
    """Alternate genwidgets and the bare loop on one model (the bare loop uses the Run's prepared networks)."""
    data = in_memory(case.data, 4096, device)
    run = gw.train(case.family, data=data, config=case.config, preset=case.preset, steps=None, start=False,
                   device=str(device), checkpoint_every=None, log_every=10, sample_every=100, compile=compile)
    model = run.model

    def with_run() -> float:
        start = run.step_count
        run.steps = start + steps
        sync(device)
        t0 = time.perf_counter()
        run.start().wait()
        sync(device)
        return (run.step_count - start) / (time.perf_counter() - t0)

    def bare() -> float:
        sync(device)
        t0 = time.perf_counter()
        BARE[case.family](model, data.x, steps)
        sync(device)
        return steps / (time.perf_counter() - t0)

    with_run()  # warm-up: kernels, allocator, autotuning
    bare()
    a, b = alternate(with_run, bare, pairs)
    flops = step_flops(model, data)
    ma, mb = statistics.median(a), statistics.median(b)
    return {"case": case.name, "a": ma, "b": mb, "ratio": statistics.median(x / y for x, y in zip(a, b, strict=True)),
            "samples": ma * model.config.batch_size, "flops": flops, "precision": model.runtime.precision,
            "layout": "channels_last" if model.runtime.channels_last else "contiguous"}


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="CPU-sized cases (tiny presets, 28x28)")
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    parser.add_argument("--steps", type=int, default=None, help="steps per timed window")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="torch.compile the networks (both loops use them)")
    args = parser.parse_args()
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cpu":
        torch.set_num_threads(1)
    cases = SMALL if args.small or device.type != "cuda" else FULL
    steps = args.steps or (200 if device.type == "cuda" else 20)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (1 thread)"
    peak = peak_matmul(device)
    print(f"{name}, torch {torch.__version__}, python {sys.version.split()[0]}; {steps} steps per window, "
          f"{args.pairs} alternating pairs; measured peak matmul {peak / 1e12:.2f} TFLOP/s\n")
    print("| case | precision | genwidgets steps/s (A) | bare loop steps/s (B) | median A/B | samples/s (A) | "
          "GFLOP per step | achieved TFLOP/s (A) | fraction of peak |")
    print("|---|---|---|---|---|---|---|---|---|")
    for case in cases:
        r = measure(case, device, steps=steps, pairs=args.pairs, compile=args.compile)
        achieved = r["flops"] * r["a"]
        setup = f"{r['precision']}, {r['layout']}" + (", compiled" if args.compile else "")
        print(f"| {r['case']} | {setup} | {r['a']:.1f} | {r['b']:.1f} | {r['ratio']:.3f} | "
              f"{r['samples']:.0f} | {r['flops'] / 1e9:.2f} | {achieved / 1e12:.3f} | {achieved / peak:.1%} |")


if __name__ == "__main__":
    main()
