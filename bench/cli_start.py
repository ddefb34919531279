"""What starting the command line costs: CPU (user+sys of the child) and wall time.

    .venv/bin/python bench/cli_start.py [--runs 7]

Runs each command in a fresh child process several times and prints the medians, with
`python -c pass` as the floor no command can go below. The children run
`python -m plugin.commands.main` in the tree this file sits in, so a copy of the script in
another checkout measures that checkout. Target: `makeright --help`, `--version`
and each group's `--help` within 0.8 s of CPU.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAKERIGHT = [sys.executable, "-m", "plugin.commands.main"]
COMMANDS: list[tuple[str, list[str]]] = [
    ("python -c pass", [sys.executable, "-c", "pass"]),
    ("makeright --version", [*MAKERIGHT, "--version"]),
    ("makeright --help", [*MAKERIGHT, "--help"]),
    ("makeright source --help", [*MAKERIGHT, "source", "--help"]),
    ("makeright token --help", [*MAKERIGHT, "token", "--help"]),
    ("makeright webhook --help", [*MAKERIGHT, "webhook", "--help"]),
    ("makeright webhook inbound --help", [*MAKERIGHT, "webhook", "inbound", "--help"]),
    ("makeright policy --help", [*MAKERIGHT, "policy", "--help"]),
    ("makeright db --help", [*MAKERIGHT, "db", "--help"]),
    ("makeright secrets --help", [*MAKERIGHT, "secrets", "--help"]),
    ("makeright user --help", [*MAKERIGHT, "user", "--help"]),
    ("makeright digest --help", [*MAKERIGHT, "digest", "--help"]),
    ("makeright draft --help", [*MAKERIGHT, "draft", "--help"]),
]


def run_once(argv: list[str]) -> tuple[float, float]:
    """CPU seconds (user+sys) and wall seconds of one child run, its output discarded."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.chdir(ROOT)
        os.execv(argv[0], argv)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {os.waitstatus_to_exitcode(status)}")
    return usage.ru_utime + usage.ru_stime, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="Runs per command (default 7).")
    runs = parser.parse_args().runs
    print(f"{'command':<36} {'cpu s':>7} {'wall s':>7}   (median of {runs})")
    for label, argv in COMMANDS:
        samples = [run_once(argv) for _ in range(runs)]
        cpu = statistics.median(s[0] for s in samples)
        wall = statistics.median(s[1] for s in samples)
        print(f"{label:<36} {cpu:>7.3f} {wall:>7.3f}")


if __name__ == "__main__":
    main()
