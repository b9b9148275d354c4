"""The real API server (`python -m digitlens serve`) in a subprocess, for tests that talk to it over HTTP."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from digitlens import ROOT

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(port: int, *options: str, log_path: Path) -> subprocess.Popen:
    """`python -m digitlens serve` on the port, output into log_path."""
    return subprocess.Popen(
        [sys.executable, "-m", "digitlens", "serve", "--port", str(port), *options],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log_path.open("w"), stderr=subprocess.STDOUT,
    )


@contextlib.contextmanager
def running_api(log_path: Path, *options: str, workers: int = 2):
    """The API as deployed (two worker processes by default, more `serve` options as given); yields
    (base URL, process) once /health answers."""
    port = free_port()
    process = serve(port, "--workers", str(workers), *options, log_path=log_path)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while True:
            assert process.poll() is None, f"server exited with {process.returncode}: {log_path.read_text()}"
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"server not up within {STARTUP_SECONDS} s"
                time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def metric_samples(text: str) -> dict[tuple, float]:
    """A /metrics page parsed by prometheus-client's own parser: {(sample name, (label, value)...): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (sample.name, *sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def tree_memory_mb(pid: int, measure: str = "VmRSS") -> float:
    """Resident memory now (VmRSS), or its peak (VmHWM), summed over the process and its children: the server and its workers."""
    total = 0
    for task in [pid, *children(pid)]:
        with contextlib.suppress(FileNotFoundError):
            for line in Path(f"/proc/{task}/status").read_text().splitlines():
                if line.startswith(f"{measure}:"):
                    total += int(line.split()[1])
    return total / 1024


def tree_peak_memory_mb(pid: int) -> float:
    return tree_memory_mb(pid, "VmHWM")


def children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(status.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(status.parent.name))
    return found
