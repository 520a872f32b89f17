"""What the machine and its processes spend, read from /proc (Linux): CPU seconds of process trees, the CPU
time of the whole machine, peak resident memory, and which process listens on a port."""

import os
import platform
import time
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _stat_fields(pid: int) -> list[str]:
    # after the command (which may hold spaces): field 3 (state) onwards
    return _read(f"/proc/{pid}/stat").rsplit(")", 1)[-1].split()


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if len(fields) > 1 and fields[1] == str(pid):
                found.append(int(entry))
    return found


def with_descendants(pids: list[int]) -> list[int]:
    seen, todo = [], list(pids)
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.append(pid)
            todo += children(pid)
    return seen


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (and of their children that have been waited for)."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if len(fields) > 14:
            total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / _TICKS


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, summed over its CPUs."""
    line = _read("/proc/stat").splitlines()[0].split() if _read("/proc/stat") else []
    values = [int(value) for value in line[1:9]]
    if not values:
        return 0.0, 0.0
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values) - idle) / _TICKS, sum(values) / _TICKS


def listening_pid(port: int) -> int | None:
    """The process listening on this TCP port of this machine, when /proc lets us see it."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in _read(table).splitlines()[1:]:
            columns = line.split()
            if columns[3] == "0A" and int(columns[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{columns[9]}]")
    if not inodes:
        return None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                if os.readlink(f"/proc/{entry}/fd/{fd}") in inodes:
                    return int(entry)
        except OSError:
            continue
    return None


def memory_kib(pid: int, field: str) -> int:
    """A field of /proc/PID/status in KiB (VmRSS, VmHWM), 0 when unknown."""
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_memory(pid: int) -> bool:
    """Resets the peak resident set (VmHWM) of a process to its current size (Linux >= 4.0)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def cpu_speed_ms(rounds: int = 5) -> float:
    """How fast one core runs plain Python here: the best of `rounds` timings of a fixed workload (integer
    arithmetic, dict and str operations, 1,000,000 loop steps), in milliseconds. Cloud machines of the same
    kind differ by 2-3x from day to day, so absolute rates (imports/s) are only comparable between runs with
    their speeds side by side; ratios to the floor measured in the same run need no such correction."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        table: dict[int, str] = {}
        total = 0
        for i in range(1_000_000):
            total += i * 7 % 13
            if i % 100 == 0:
                table[i % 1000] = str(i)
        best = min(best, time.perf_counter() - start)
    return best * 1000


def facts() -> dict:
    cpu_model = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                      if line.startswith("model name")), platform.processor() or "unknown")
    load = _read("/proc/loadavg").split()[:3]
    return {"cpus": os.cpu_count(), "usableCpus": len(os.sched_getaffinity(0)), "cpuModel": cpu_model,
            "python": platform.python_version(), "kernel": platform.release(), "host": platform.node(),
            "loadAverage": [float(value) for value in load]}
