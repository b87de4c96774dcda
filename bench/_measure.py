"""Run a command and measure its wall time and the peak memory (PSS) of its whole process tree."""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mib: float
    returncode: int
    stdout: str
    stderr: str


def _pss_kib(pid: int) -> int:
    """Proportional set size: shared pages (forked workers) are split between the processes sharing them."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_rss_kib(root: int) -> int:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _pss_kib(pid)
        stack.extend(children.get(pid, []))
    return total


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None, *,
            memory: bool = True) -> Measured:
    """Wall time, and (unless memory is False: for runs of a few tenths of a second, where sampling /proc would
    itself take a share of the time) the peak PSS of the process tree."""
    full_env = {**os.environ, **(env or {})}
    # an installed program has its bytecode; a machine that sets PYTHONDONTWRITEBYTECODE (this project's does) would
    # make every measured run compile the auditor's modules again
    full_env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=full_env)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kib(proc.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    if memory:
        sampler.start()
    out, err = proc.communicate()
    seconds = time.monotonic() - started
    done.set()
    if memory:
        sampler.join()
    return Measured(seconds, peak / 1024, proc.returncode, out, err)


@dataclass(frozen=True)
class Paired:
    """Alternating runs of two commands (a, b, a, b...), so a slow moment of the machine falls on both."""

    a: list[Measured]
    b: list[Measured]

    @property
    def a_seconds(self) -> float:
        return statistics.median(m.seconds for m in self.a)

    @property
    def b_seconds(self) -> float:
        return statistics.median(m.seconds for m in self.b)

    @property
    def ratio(self) -> float:
        """The median of the pairs' ratios a / b."""
        return statistics.median(x.seconds / y.seconds for x, y in zip(self.a, self.b, strict=True))

    @property
    def ratio_range(self) -> tuple[float, float]:
        ratios = [x.seconds / y.seconds for x, y in zip(self.a, self.b, strict=True)]
        return min(ratios), max(ratios)

    @property
    def a_peak_mib(self) -> float:
        return max(m.peak_mib for m in self.a)

    @property
    def b_peak_mib(self) -> float:
        return max(m.peak_mib for m in self.b)


def paired(cmd_a: list[str], cmd_b: list[str], runs: int, *, env: dict[str, str] | None = None,
           ok_a: tuple[int, ...] = (0,), ok_b: tuple[int, ...] = (0,), warmup: int = 1, memory: bool = True) -> Paired:
    """Run the two commands alternately ``runs`` times each (after ``warmup`` unmeasured rounds); a run that
    exits with a code not in ok_a / ok_b stops the benchmark with its error output."""
    a: list[Measured] = []
    b: list[Measured] = []
    for i in range(warmup + runs):
        for cmd, ok, into in ((cmd_a, ok_a, a), (cmd_b, ok_b, b)):
            m = measure(cmd, env=env, memory=memory)
            if m.returncode not in ok:
                raise SystemExit(f"{' '.join(cmd)} exited with {m.returncode}:\n{m.stderr[-2000:]}")
            if i >= warmup:
                into.append(m)
    return Paired(a, b)
