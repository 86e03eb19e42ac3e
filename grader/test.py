#!/usr/bin/env python3
"""make test: every check the project runs, closing with 'N passed, N failed'.

The parts, in order: the grader's self-tests, the format check, the
copies check (each lab's sources are the lab before's but for its lesson)
and the layers check (no header include cycles; hart below vcpu below vm),
the trace figures check (the timelines in the READMEs of labs 03-05 name
only events and locks their code still has), each with its self-test,
the host unit tests, a short fuzz run, the grader over
every case on each platform (QEMU 7.2 with OpenSBI 1.1, QEMU 10 with OpenSBI 1.5.1), the SMP=4 cases
built with the other toolchain (riscv64-linux-gnu-), the mutants, the
handout (it must fail where the solution passes), the Gradescope
autograder in temporary layouts, each lab's gdb
walkthrough, and the READMEs' console transcripts compared with real
boots, these last three on the default platform. Each part prints its own output and ends with a line '... N passed,
N failed'; the totals close this one.
"""
import os
import re
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUDGET = 14 * 60  # seconds for everything: make test must stay under 15 minutes
PY = sys.executable


def run_part(argv, limit):
    """Runs one part, printing its output as it comes. Returns (output, exit
    status, killed): a part still running after `limit` seconds is stopped,
    with SIGTERM first, on which the grader ends its QEMU runs."""
    # Each part starts afresh: without MAKEFLAGS, a `make -j2 test` does not
    # hand its jobserver, which we do not pass on, to the make of a part.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace")
    killed = threading.Event()

    def stop():
        killed.set()
        proc.terminate()
        time.sleep(5)
        proc.kill()
    timer = threading.Timer(limit, stop)
    timer.daemon = True
    timer.start()
    out = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        out.append(line)
    status = proc.wait()
    timer.cancel()
    return "".join(out), status, killed.is_set()


def main():
    parts = [("grader selftest", [PY, "grader/selftest.py"]),
             ("format", [PY, "common/tools/format-check.py"]),
             ("copies", [PY, "common/tools/copies.py"]),
             ("copies selftest", [PY, "common/tools/copies.py", "--selftest"]),
             ("layers", [PY, "common/tools/layers.py"]),
             ("layers selftest", [PY, "common/tools/layers.py", "--selftest"]),
             ("trace figures", [PY, "grader/figures.py"]),
             ("trace figures selftest", [PY, "grader/figures.py", "--selftest"]),
             ("walkthrough selftest", [PY, "grader/walkthrough.py", "--selftest"]),
             ("bench parser", [PY, "bench/test_bench.py"]),
             ("trace tool", [PY, "grader/test_trace.py"]),
             ("host tests", ["make", "-s", "host-test"]),
             ("fuzz (10 s)", ["make", "-s", "fuzz", "SECONDS=10"]),
             ("grade qemu7", [PY, "grader/grade.py", "--platform", "qemu7"]),
             ("grade qemu10", [PY, "grader/grade.py", "--platform", "qemu10"]),
             ("toolchain riscv64-linux-gnu-", [PY, "grader/toolchain.py", "riscv64-linux-gnu-"]),
             ("mutants", [PY, "grader/mutants.py"]),
             ("handout", [PY, "grader/handout.py", "--check"]),
             ("autograder", [PY, "grader/gradescope/test.py"]),
             ("gdb walkthroughs", [PY, "grader/walkthrough.py"]),
             ("readme selftest", [PY, "grader/readme_output.py", "--selftest"]),
             ("readme transcripts", [PY, "grader/readme_output.py"])]
    deadline = time.monotonic() + BUDGET
    passed = failed = 0
    summary = []
    for name, argv in parts:
        print(f"=== {name}: {' '.join(argv[1:] if argv[0] == PY else argv)}", flush=True)
        if name == "host tests" and not os.path.exists(os.path.join(ROOT, "tests/host/Makefile")):
            summary.append(f"{name}: skipped, tests/host/Makefile does not exist yet")
            continue
        out, status, killed = run_part(argv, max(1, deadline - time.monotonic()))
        counts = re.findall(r"(\d+) passed, (\d+) failed", out)
        p, f = map(int, counts[-1]) if counts else (0, 0)
        # The fuzzer counts executions and crashes: one test, passed if no crash.
        fuzz = re.findall(r"^fuzz: (\d+) executions, (\d+) crashes", out, re.M)
        if fuzz:
            counts = fuzz
            p, f = (1, 0) if int(fuzz[-1][1]) == 0 else (0, 1)
        note = f"{p} passed, {f} failed"
        # A part that crashed or was killed has failed, whatever it counted.
        if killed:
            f, note = f + 1, note + f"; killed: over make test's {BUDGET // 60}-minute budget"
        elif not counts or (status != 0 and f == 0):
            f, note = f + 1, note + f"; exited with status {status} without a count of failures"
        summary.append(f"{name}: {note}")
        passed, failed = passed + p, failed + f
    print("=== summary")
    print("\n".join(summary))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
