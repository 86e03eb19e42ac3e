#!/usr/bin/env python3
"""Builds every lab, the test guests and the payloads with another cross
toolchain and boots them: the grader's SMP=4 cases, in a copy of this
checkout under build/toolchain/<prefix>/, so that the main build/ keeps its
own compiler's files.

    python3 grader/toolchain.py [PREFIX ...]   (default: riscv64-linux-gnu-)

Debian's and Ubuntu's riscv64-linux-gnu-gcc builds PIE and emits a build-id
note by default; the Makefile's flags turn both off, and this proves it.
Ends with the grader's 'grade: N passed, N failed' line for each prefix.
"""
import os
import shutil
import subprocess
import sys

import gradelib
import mutants
import runner

DEFAULT = ["riscv64-linux-gnu-"]


def main():
    runner.end_runs_on_signals()
    status = 0
    for prefix in sys.argv[1:] or DEFAULT:
        if shutil.which(prefix + "gcc") is None:
            print(f"toolchain: {prefix}gcc not found: run 'make setup'")
            print("grade: 0 passed, 1 failed")
            status = 1
            continue
        copy = os.path.join(gradelib.ROOT, "build", "toolchain", prefix.rstrip("-"))
        mutants.copy_repository(copy)
        env = dict(runner.make_env(), CROSS_COMPILE=prefix)
        print(f"toolchain: CROSS_COMPILE={prefix}, in {os.path.relpath(copy)}", flush=True)
        r = subprocess.run([sys.executable, os.path.join(copy, "grader", "grade.py"),
                            "--smp", "4"], env=env, stdin=subprocess.DEVNULL)
        status = status or r.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
