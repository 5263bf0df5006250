"""What the benchmark scripts measure with: peak memory of a stage, medians of repeated calls, the GEMM rate.

Imported by the scripts beside it (``python benchmarks/<script>.py`` puts this folder on the path).
"""

from __future__ import annotations

import datetime
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch


def peak_rss() -> int:
    """This process's peak resident memory since it started or since :func:`reset_peak`, in bytes: ``VmHWM``
    (``ru_maxrss`` would carry the peak of a parent that forked it and cannot be reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux: KiB on Linux, bytes on macOS


def reset_peak() -> bool:
    """Starts the peak of :func:`peak_rss` afresh at the current resident memory (Linux: ``clear_refs`` 5).
    Returns False where that is not possible; the peak then covers the whole process."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def median_seconds(call: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gemm_rate(dim: int, size: int = 4096, repeats: int = 5) -> float:
    """Multiply-adds per second of a float32 ``(size, dim) @ (dim, size)`` product with the current torch threads:
    the floor a similarity search over ``dim``-d vectors can reach."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, dim, generator=generator)
    b = torch.randn(dim, size, generator=generator)
    torch.mm(a, b)  # warm-up
    return size * size * dim / median_seconds(lambda: torch.mm(a, b), repeats)


def machine_line(threads: int) -> str:
    """The first line under a benchmark table's title: when, on what, and how busy the machine was."""
    return (
        f"- date: {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}; {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {threads} torch threads; load "
        f"average when written {os.getloadavg()[0]:.1f} (other work on the machine slows every figure)"
    )
