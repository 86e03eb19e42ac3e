#!/usr/bin/env python3
"""Runs the Gradescope autograder (run_autograder) end to end in temporary
layouts, with AUTOGRADER_SOURCE, _SUBMISSION and _RESULTS pointing into
them and LAB=1 (the quickest lab), and checks each results.json:

- the solution at the top of the submission scores all of lab 1's points;
- the same in a folder one level down (a zip of the repository's folder);
- a submission whose lab 1 does not build scores 0, with the compiler's
  message in the output;
- a submission without labs/ still gets a results.json that says so.

Closes with 'autograder: N passed, N failed'.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import gradelib  # noqa: E402  (found through the path set just above)
import mutants  # noqa: E402

ROOT = gradelib.ROOT


def run(submission, results):
    env = dict(gradelib.make_env(), AUTOGRADER_SOURCE=ROOT, AUTOGRADER_SUBMISSION=submission,
               AUTOGRADER_RESULTS=results, LAB="1")
    out, status, timed_out = gradelib.run_command(
        ["sh", os.path.join(HERE, "run_autograder")], 600, env=env)
    path = os.path.join(results, "results.json")
    data = json.load(open(path)) if os.path.exists(path) else None
    return data, status, out.decode(errors="replace")


def score(data):
    return data.get("score", sum(t.get("score", 0) for t in data.get("tests", [])))


def main():
    gradelib.end_runs_on_signals()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        solution = os.path.join(tmp, "solution")
        mutants.copy_repository(solution)
        broken = os.path.join(tmp, "broken")
        mutants.copy_repository(broken)
        with open(os.path.join(broken, "labs/01-boot/vsbi.c"), "a") as f:
            f.write("\nint this_does_not_compile(\n")
        nested = os.path.join(tmp, "nested")
        os.makedirs(nested)
        shutil.copytree(solution, os.path.join(nested, "riscv-hyp-labs"), symlinks=True)
        empty = os.path.join(tmp, "empty")
        os.makedirs(os.path.join(empty, "notes"))

        def want_full(data):
            total = sum(t["max_score"] for t in data["tests"])
            return total > 0 and score(data) == total, f"score {score(data)} of {total}"

        def want_zero_with(text):
            def judge(data):
                return score(data) == 0 and text in json.dumps(data), \
                    f"score {score(data)}, '{text}' in the output: {text in json.dumps(data)}"
            return judge

        for name, submission, judge in [
                ("solution at the top", solution, want_full),
                ("solution in a folder", nested, want_full),
                ("lab 1 does not build", broken, want_zero_with("this_does_not_compile")),
                ("no labs/ folder", empty, want_zero_with("No labs/ folder"))]:
            results = os.path.join(tmp, "results-" + name.replace(" ", "-").replace("/", ""))
            data, status, out = run(submission, results)
            if data is None:
                ok, why = False, "no results.json"
            elif status != 0:
                ok, why = False, f"run_autograder exited with {status}"
            else:
                ok, why = judge(data)
            print(f"{'PASS' if ok else 'FAIL'} {name}: {why}")
            if not ok:
                print(out[-3000:])
            passed, failed = passed + ok, failed + (not ok)
    print(f"autograder: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
