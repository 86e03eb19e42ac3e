#!/usr/bin/env python3
"""Proves that the grader rejects known-bad hypervisors.

Each grader/mutants/<lab-dir>/<name>.patch breaks lab <lab-dir> in one known
way (a `diff -u` against the repository root). For each, this copies the
repository into build/mutants/<lab-dir>/<name>/, applies the patch with
`patch -p1`, grades that lab of the copy with this grader's checks, and
requires a failed check. A line `# expect-fail: <check name>` at the top of
the patch also requires that check to be among the failures; with
`# expect-fail: <check> or <check> ...`, one of them. (Which check sees a
race first can vary from run to run: interleaved console lines break
whichever lines they hit.) A race may also not show at all in one run:
`# tries: N` grades such a mutant up to N times, until it is rejected.
`# cases: <case> ...` grades only those cases of the lab (with none of the
cases a case requires, it boots regardless): for a fault that only one
case can show, such as Linux stalling on an IPI it never gets.

A patch that no longer applies, or a mutant that does not build, fails
this test: neither proves anything about the checks.
"""
import glob
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import checks
import runner

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MUTANTS = os.path.join(ROOT, "grader", "mutants")


def header(patch):
    """The comment lines before the diff starts."""
    lines = []
    with open(patch, errors="replace") as f:
        for line in f:
            if line.startswith(("---", "diff ", "Index:")):
                break
            lines.append(line)
    return lines


def expected_failures(patch):
    """The `# expect-fail:` lines, each as the tuple of check names one of
    which must fail."""
    return [tuple(n.strip() for n in line.split(":", 1)[1].split(" or "))
            for line in header(patch) if line.startswith("# expect-fail:")]


def tries(patch):
    """How many runs a racy mutant gets to show its fault (`# tries: N`)."""
    found = [int(line.split(":", 1)[1]) for line in header(patch) if line.startswith("# tries:")]
    return found[0] if found else 1


def only_cases(patch):
    """The case names of `# cases:`, or None to grade every case of the lab."""
    found = [line.split(":", 1)[1].split() for line in header(patch) if line.startswith("# cases:")]
    return [name for names in found for name in names] if found else None


def copy_repository(dest):
    """Copies the checkout's files (runner.checkout_files) to dest."""
    shutil.rmtree(dest, ignore_errors=True)
    for name in runner.checkout_files(ROOT):
        os.makedirs(os.path.dirname(os.path.join(dest, name)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, name), os.path.join(dest, name), follow_symlinks=False)


def run_mutant(patch):
    """Returns (ok, report line and details) for one patch."""
    lab_dir = os.path.basename(os.path.dirname(patch))
    name = f"{lab_dir}/{os.path.basename(patch)[:-len('.patch')]}"
    copy = os.path.join(ROOT, "build", "mutants", name)
    copy_repository(copy)
    # No fuzz: a patch whose context has drifted must fail here, not land
    # on some other line that happens to look alike.
    r = subprocess.run(["patch", "-p1", "--batch", "--fuzz=0", "--no-backup-if-mismatch",
                        "-d", copy, "-i", patch],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        return False, f"FAIL mutant {name}: the patch no longer applies\n{r.stdout}{r.stderr}"

    lab = int(lab_dir.split("-")[0])
    only = only_cases(patch)
    cases = [c for c in checks.cases() if c.lab == lab and (only is None or c.name in only)]
    if not cases:
        return False, (f"FAIL mutant {name}: the grader accepted it: grader/checks.py has no lab "
                       f"{lab} cases{' named ' + ', '.join(only) if only else ''}")
    want = expected_failures(patch)
    # Stop at the first case that shows what we need: a hanging mutant would
    # otherwise wait out the timeout of every case.
    stop = (lambda failed: all(set(w) & failed for w in want)) if want else bool
    runs = tries(patch)
    for attempt in range(1, runs + 1):
        results = [r for r in runner.grade(cases, copy, jobs=1, stop=stop) if r]
        failed = list(dict.fromkeys(n for r in results for n in r.failed_names()))
        if "build" in failed:
            return False, f"FAIL mutant {name}: it does not build\n{results[0].report()}"
        missing = [" or ".join(w) for w in want if not set(w) & set(failed)]
        if failed and not missing:
            run = f" (run {attempt} of {runs})" if runs > 1 else ""
            return True, f"PASS mutant {name}: rejected by {', '.join(failed)}{run}"
    if not failed:
        return False, f"FAIL mutant {name}: the grader accepted it{f' {runs} times' if runs > 1 else ''}"
    return False, (f"FAIL mutant {name}: expected {'; '.join(missing)} to fail; "
                   f"failed: {', '.join(failed)}")


def run_safely(patch):
    """run_mutant, with an error (say, git missing) failing this mutant only."""
    try:
        return run_mutant(patch)
    except Exception as e:
        return False, f"FAIL mutant {patch}: {e!r}"


def main():
    runner.end_runs_on_signals()
    patches = sorted(glob.glob(os.path.join(MUTANTS, "*", "*.patch")))
    if not patches:
        print("mutants: no patches in grader/mutants/<lab-dir>/")
    passed = failed = 0
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        for ok, text in pool.map(run_safely, patches):
            print(text, flush=True)
            passed, failed = passed + ok, failed + (not ok)
    print(f"mutants: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
