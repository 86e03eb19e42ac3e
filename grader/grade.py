#!/usr/bin/env python3
"""The grader: boots each lab's cases in QEMU and checks their consoles.

    python3 grader/grade.py [--lab N|native] [--smp 1,4] [--jobs J] [--tree PATH] [--list]

--tree grades another checkout with the checks of this one. Console logs go
to TREE/build/grade/<case>.log. Exit status 1 if any check failed.
"""
import argparse
import os
import sys

import checks
import gradelib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def select(cases, lab=None, smp=None):
    """The cases of one lab ("native" or a number) and some SMP values."""
    if lab is not None:
        cases = [c for c in cases if str(c.lab) == str(lab).lstrip("0")]
    if smp is not None:
        wanted = {int(n) for n in smp.split(",")}
        cases = [c for c in cases if c.smp in wanted]
    return cases


def main():
    gradelib.end_runs_on_signals()
    ap = argparse.ArgumentParser(description="Grade the labs in QEMU.")
    ap.add_argument("--lab", help="only this lab: a number, or 'native'")
    ap.add_argument("--smp", help="only these SMP values, e.g. 1,4")
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="QEMU runs at a time")
    ap.add_argument("--tree", default=ROOT, help="the checkout to grade (default: this one)")
    ap.add_argument("--list", action="store_true", help="list the selected cases and exit")
    args = ap.parse_args()

    all_cases = checks.cases()
    names = [c.name for c in all_cases]
    assert len(names) == len(set(names)), "two cases share a name (and a log file)"
    cases = select(all_cases, args.lab, args.smp)
    if not cases:
        print(f"grade: no cases for lab {args.lab or 'any'}, smp {args.smp or 'any'}")
        return 1
    if args.list:
        for c in cases:
            print(f"{c.name}  lab {c.lab}  smp {c.smp}  {len(c.checks)} checks")
        return 0

    tally = [0, 0, 0, 0]  # checks passed, checks failed, points earned, points possible
    for result in gradelib.grade(cases, args.tree, args.jobs):
        print(result.report(), flush=True)
        tally = [a + b for a, b in zip(tally, result.tally())]
    passed, failed, points, total = tally
    print(f"grade: {passed} passed, {failed} failed")
    print(f"points: {points}/{total}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
