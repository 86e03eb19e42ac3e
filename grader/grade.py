#!/usr/bin/env python3
"""The grader: boots each lab's cases in QEMU and checks their consoles.

    python3 grader/grade.py [--lab N|native] [--smp 1,4] [--jobs J] [--tree PATH]
                            [--platform qemu7|qemu10] [--repeat N] [--mttcg]
                            [--verbose] [--list] [--json F] [--junit F] [--gradescope F]

--platform picks the QEMU and OpenSBI (the Makefile's PLATFORM; default: the
environment's PLATFORM, else qemu7). A few checks depend on it: they name
the platform's known bugs instead of failing on them.

--tree grades another checkout (a student's) with the checks, the Makefile
and the test guests of this one. Console logs go to TREE/build/grade/<case>.log;
the reports to TREE/build/grade/results.json, junit.xml and gradescope.json
unless --json, --junit or --gradescope name other files (build/grade-qemu10
for --platform qemu10). Exit status 1 if any check failed.
"""
import argparse
import copy
import os
import re
import sys
import time

import checks
import gradelib
import report
import runner

ROOT = gradelib.ROOT
MTTCG = "-accel tcg,thread=multi"


def select(cases, lab=None, smp=None):
    """The cases of one lab ("native" or a number) and some SMP values."""
    if lab is not None:
        cases = [c for c in cases if str(c.lab) == str(lab).lstrip("0")]
    if smp is not None:
        wanted = {int(n) for n in smp.split(",")}
        cases = [c for c in cases if c.smp in wanted]
    return cases


def with_mttcg(case):
    """The case under real parallelism: one host thread per hart. (QEMU 7.2
    already defaults to it for riscv64 on x86 hosts; this makes it explicit,
    so a QEMU or host with another default cannot hide a race.)"""
    if "-accel" in case.qemu_extra:
        return case
    case = copy.copy(case)
    case.qemu_extra = (case.qemu_extra + " " + MTTCG).strip()
    return case


def repeated(cases, n):
    """Each case n times in a row, named <case>-run1 .. -runN so that each
    run keeps its own log; `base` and `run` say where a run came from."""
    if n == 1:
        return cases
    out = []
    for case in cases:
        for i in range(1, n + 1):
            run = copy.copy(case)
            run.name, run.base, run.run = f"{case.name}-run{i}", case.name, i
            out.append(run)
    return out


def summary_line(result):
    passed, failed, points, possible = result.tally()
    word = "PASS" if not failed else "FAIL"
    return f"{word} {result.case.name}: {points}/{possible} points, {result.seconds:.1f} s"


def flaky(results):
    """With --repeat: the checks that passed in some runs of a case and
    failed in others, as lines 'case: check (failed k of n runs)'."""
    runs = {}
    for r in results:
        base = getattr(r.case, "base", r.case.name)
        for o in r.outcomes:
            runs.setdefault((base, o.name), []).append(o.ok)
    return [f"{base}: {name} (failed {oks.count(False)} of {len(oks)} runs)"
            for (base, name), oks in runs.items() if True in oks and False in oks]


# What each platform's QEMU says first to --version.
PLATFORM_QEMU = {"qemu7": "QEMU emulator version 7.", "qemu10": "QEMU emulator version 10."}


def platform_in_use(tree):
    """(what the QEMU command of a boot runs, a problem or None): the QEMU
    and firmware of the platform, unless QEMU= or OPENSBI= chose others."""
    ok, cmd = runner.make(tree, "qemu-cmd-native", "GUEST=/dev/null", timeout=60)
    words = cmd.split()
    if not ok or "-bios" not in words:
        return cmd.strip(), "make qemu-cmd-native failed"
    qemu, bios = words[0], words[words.index("-bios") + 1]
    out, _, _ = runner.run_command([qemu, "--version"], 30)
    version = out.decode(errors="replace").splitlines()[0] if out else f"{qemu}: no version"
    want = PLATFORM_QEMU[gradelib.platform()]
    if not os.environ.get("QEMU") and not version.startswith(want):
        return version, f"platform {gradelib.platform()} wants '{want}...', {qemu} says '{version}'"
    return f"{version}, {bios}", None


def main():
    runner.end_runs_on_signals()
    ap = argparse.ArgumentParser(description="Grade the labs in QEMU.")
    ap.add_argument("--lab", help="only this lab: a number, or 'native'")
    ap.add_argument("--smp", help="only these SMP values, e.g. 1,4")
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="QEMU runs at a time")
    ap.add_argument("--tree", default=ROOT, help="the checkout to grade (default: this one)")
    ap.add_argument("--platform", choices=gradelib.PLATFORMS, default=gradelib.platform(),
                    help="the QEMU and OpenSBI to boot with (make platforms)")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="run each case N times, to expose races that show now and then")
    ap.add_argument("--mttcg", action="store_true",
                    help=f"boot every case with {MTTCG} (one host thread per hart)")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="every check of every case, passed or not, with all its console "
                         "lines, and every row of the table")
    ap.add_argument("--list", action="store_true", help="list the selected cases and exit")
    ap.add_argument("--json", help="write the results as JSON here")
    ap.add_argument("--junit", help="write JUnit XML here")
    ap.add_argument("--gradescope", help="write Gradescope's results.json here")
    args = ap.parse_args()
    if args.repeat < 1 or args.jobs < 1:
        ap.error("--repeat and --jobs take a number of at least 1")
    gradelib.set_platform(args.platform)
    tree = os.path.abspath(args.tree)
    if not os.path.isdir(os.path.join(tree, "labs")):
        print(f"grade: {tree} is not a checkout of the labs (it has no labs/ directory)")
        return 2

    all_cases = checks.cases()
    names = [c.name for c in all_cases]
    assert len(names) == len(set(names)), "two cases share a name (and a log file)"
    # A handout of one assignment (make handout LAB=N) has no later labs.
    present = {int(d[1]) for d in os.listdir(os.path.join(tree, "labs")) if re.match(r"0\d-", d)}
    absent = sorted({c.lab for c in all_cases if c.lab != "native" and c.lab not in present})
    if absent and args.lab is None:
        print(f"grade: labs {', '.join(map(str, absent))} are not in {tree}: not graded")
    all_cases = [c for c in all_cases if c.lab == "native" or c.lab in present]
    cases = select(all_cases, args.lab, args.smp)
    if not cases:
        print(f"grade: no cases for lab {args.lab or 'any'}, smp {args.smp or 'any'}")
        return 1
    if args.mttcg:
        cases = [with_mttcg(c) for c in cases]
    cases = repeated(cases, args.repeat)
    if args.list:
        for c in cases:
            print(f"{c.name}  lab {c.lab}  smp {c.smp}  {len(c.checks)} checks  {c.qemu_extra}")
        return 0

    found, problem = platform_in_use(tree)
    print(f"platform: {args.platform}: {found}", flush=True)
    if problem:
        print(f"grade: {problem}")
        return 2
    start = time.monotonic()
    results, shown = [], {}
    for result in runner.grade(cases, tree, args.jobs):
        failed = result.tally()[1]
        print(result.report(args.verbose, shown) if failed or args.verbose
              else summary_line(result), flush=True)
        results.append(result)
    seconds = time.monotonic() - start

    print()
    print(report.table(results, args.verbose))
    paths = report.write_all(results, tree, seconds, args.json, args.junit, args.gradescope)
    print("reports: " + ", ".join(os.path.relpath(p) for p in paths))
    if args.repeat > 1:
        unsteady = flaky(results)
        print(f"flaky: {len(unsteady)} checks passed in some runs and failed in others"
              + "".join(f"\n  {line}" for line in unsteady))
    t = report.totals(results)
    print(f"platform: {args.platform}")
    print(f"time: {seconds:.1f} s for {len(results)} runs, {args.jobs} at a time")
    print(f"points: {t['points']}/{t['possible']}")
    print(f"grade: {t['passed']} passed, {t['failed']} failed")
    return 1 if t["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
