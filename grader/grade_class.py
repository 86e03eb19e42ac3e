#!/usr/bin/env python3
"""Grades a class: every student checkout in a directory, into one CSV.

    python3 grader/grade_class.py DIR [--csv scores.csv] [--lab N] [--smp 1,4] [--jobs J]

Each subdirectory of DIR that has a labs/ directory is one student's
checkout (named by the subdirectory). Each is graded as `grade.py --tree`
grades it: with this checkout's checks, Makefile and test guests, so a
student cannot weaken them. Per student, the console logs and the reports
(results.json, junit.xml, gradescope.json) land in <student>/build/grade/.

The CSV has one row per student: the points of each lab, the total, the
points possible and the checks failed. A checkout that does not build
scores 0 on the checks it could not run; it still gets its row.
"""
import argparse
import csv
import os
import sys
import time

import checks
import grade as grade_cli
import report
import runner


def students(directory):
    return sorted(name for name in os.listdir(directory)
                  if os.path.isdir(os.path.join(directory, name, "labs")))


def grade_student(tree, cases, jobs):
    """The results of one checkout; its reports are written into it."""
    start = time.monotonic()
    results = list(runner.grade(cases, tree, jobs))
    report.write_all(results, tree, time.monotonic() - start)
    return results


def row(name, results, labs):
    by_lab = {lab: report.totals([r for r in results if r.case.lab == lab]) for lab in labs}
    t = report.totals(results)
    failed = sorted({f"{r.case.name}: {n}" for r in results for n in r.failed_names()})
    return ([name] + [by_lab[lab]["points"] for lab in labs]
            + [t["points"], t["possible"], "; ".join(failed)])


def main():
    runner.end_runs_on_signals()
    ap = argparse.ArgumentParser(description="Grade every student checkout in a directory.")
    ap.add_argument("directory", help="holds one checkout per student")
    ap.add_argument("--csv", default="scores.csv", help="where the scores go (scores.csv)")
    ap.add_argument("--lab", help="only this lab")
    ap.add_argument("--smp", help="only these SMP values, e.g. 1,4")
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="QEMU runs at a time")
    args = ap.parse_args()

    names = students(args.directory) if os.path.isdir(args.directory) else []
    if not names:
        print(f"class: no student checkouts (subdirectories with labs/) in {args.directory}")
        return 2
    # The reference runs on OpenSBI alone say nothing about a student.
    cases = [c for c in grade_cli.select(checks.cases(), args.lab, args.smp) if c.lab != "native"]
    if not cases:
        print(f"class: no cases for lab {args.lab or 'any'}, smp {args.smp or 'any'}")
        return 2
    labs = list(dict.fromkeys(c.lab for c in cases))
    with open(args.csv, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["student"] + [f"lab{lab}" for lab in labs]
                     + ["total", "possible", "failed checks"])
        for name in names:
            tree = os.path.abspath(os.path.join(args.directory, name))
            results = grade_student(tree, cases, args.jobs)
            r = row(name, results, labs)
            out.writerow(r)
            f.flush()
            print(f"class: {name}: {r[-3]}/{r[-2]} points", flush=True)
    print(f"class: {len(names)} students graded; scores in {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
