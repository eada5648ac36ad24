"""The host allocator tuning: a CPU Run keeps each step's freed buffers instead of faulting them in again.

Each case runs in a fresh interpreter: mallopt settings are process-wide and cannot be undone.
"""

import json
import os
import platform
import subprocess
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="the tuning applies to glibc's malloc only")]

#: Minor page faults of each DCGAN step on MNIST after warm-up, after a CPU Run ran in the process
#: (with the argument "state-only": the allocator state the Run set, without the 30 measured steps).
SCRIPT = textwrap.dedent("""
    import json, resource, sys, torch
    import genwidgets as gw
    torch.set_num_threads(1)
    data = gw.load_data("mnist")
    run = gw.train("dcgan", data=data, steps=3, log_every=1, sample_every=1000, checkpoint_every=None)
    run.wait()  # a CPU Run: tunes the allocator when it starts (unless told not to)
    model, g = run.model, torch.Generator().manual_seed(0)
    out = {}
    def steps():
        for _ in range(6):  # warm-up: the first steps grow the heap
            model.train_step(data.get_batch(torch.randint(len(data), (64,), generator=g)))
        faults = []
        for _ in range(24):
            before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
            model.train_step(data.get_batch(torch.randint(len(data), (64,), generator=g)))
            faults.append(resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before)
        out["faults"] = faults
    if sys.argv[1:] != ["state-only"]:
        steps()
    out["state"] = run.runtime.describe()["host_allocator"]
    print(json.dumps(out))
""")


def _run(env_changes: dict[str, str], *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(env_changes, GENWIDGETS_NUM_THREADS="1", GENWIDGETS_DEVICE="cpu")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, env=env,
                          timeout=240)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_cpu_run_tunes_malloc_so_training_steps_stop_faulting_pages_in():
    tuned = _run({})
    assert tuned["state"] == "glibc, mmap threshold 32 MiB, trim threshold 512 MiB"
    # Untuned, these 24 steps refaulted 15,700-23,700 pages in three of four tries on glibc 2.36 (none in
    # the fourth: the default's dynamic thresholds make it depend on history); tuned, 0-830 in every try,
    # the heap's rare growth aside. The speed it buys is measured in benchmarks/host_allocator.py.
    assert sum(tuned["faults"]) < 3000, tuned


def test_the_users_own_malloc_settings_win():
    # Only the state the Run chose is asserted: the page-fault measurement is not needed for it.
    state = _run({"MALLOC_TRIM_THRESHOLD_": "262144"}, "state-only")["state"]
    assert state == "default (MALLOC_*_ variables set by the user)"
