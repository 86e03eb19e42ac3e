#!/usr/bin/env python3
"""Runs the Gradescope autograder (run_autograder) end to end in temporary
layouts, with AUTOGRADER_SOURCE, _SUBMISSION and _RESULTS pointing into
them and LAB=1 (the quickest lab), and checks each results.json:

- the solution at the top of the submission scores all of lab 1's points;
- the same in a folder one level down (a zip of the repository's folder);
- a submission whose lab 1 does not build scores 0, with the compiler's
  message in the output;
- a submission without labs/ still gets a results.json that says so.

Then grader/classroom.py, on a real grade of lab 1 at SMP=1 (the solution
copied above): the base64 it prints decodes to the JSON fields GitHub
Classroom's reporter reads, with the points the grader printed; a check
made to fail lowers the score and fails the status; no results is an
error. Last, the files no machine here can run (no Docker daemon, no
GitHub): the Dockerfile and classroom.yml, checked as text, that each file
they name exists and that their parts fit together.

Closes with 'autograder: N passed, N failed'.
"""
import base64
import copy
import json
import os
import re
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


def classroom(results, *flags):
    """grader/classroom.py's output on the results.json at path results."""
    out, status, _ = gradelib.run_command(
        [sys.executable, os.path.join(ROOT, "grader/classroom.py"), *flags, results], 60)
    return out.decode(errors="replace"), status


def decode(text):
    """The result classroom.py printed as base64; what it printed instead,
    as a result no check accepts, if that is not base64 of JSON."""
    try:
        return json.loads(base64.b64decode(text.strip(), validate=True))
    except ValueError:
        return {"status": f"not base64 of JSON: {text[-200:]}", "max_score": None,
                "tests": [{"message": ""}]}


def reporter_problems(result):
    """What in a decoded classroom.py result the reporter
    (autograding-grading-reporter@v1, src/) would not read as meant."""
    problems = []
    if result.get("version") != 1 or result.get("status") not in ("pass", "fail", "error"):
        problems.append(f"version {result.get('version')!r}, status {result.get('status')!r}")
    if not isinstance(result.get("max_score"), int) or not isinstance(result.get("tests"), list):
        return problems + ["max_score is not an integer or tests not a list"]
    for t in result["tests"]:
        if not (isinstance(t.get("name"), str) and t.get("status") in ("pass", "fail", "error")
                and isinstance(t.get("score"), (int, float)) and isinstance(t.get("message"), str)
                and t.get("line_no") == 0):
            problems.append(f"test {t!r}")
    return problems


def classroom_checks(tree, tmp):
    """[(name, ok, why)] for grader/classroom.py on a grade of tree's lab 1."""
    results = os.path.join(tmp, "classroom-results.json")
    out, status, _ = gradelib.run_command(
        [sys.executable, os.path.join(ROOT, "grader/grade.py"), "--tree", tree, "--lab", "1",
         "--smp", "1", "--json", results], 300, env=gradelib.make_env())
    printed = re.findall(r"^points: (\d+)/(\d+)$", out.decode(errors="replace"), re.M)
    if status != 0 or not printed or not os.path.exists(results):
        return [("classroom: grade lab 1", False,
                 f"grade.py exited with {status}: {out.decode(errors='replace')[-2000:]}")]
    earned, possible = map(int, printed[-1])
    data = json.load(open(results))

    def convert(data):
        path = os.path.join(tmp, "classroom-edited.json")
        with open(path, "w") as f:
            json.dump(data, f)
        text, status = classroom(path)
        result = decode(text)
        return result, sum(t.get("score", 0) for t in result["tests"]), status

    checks = []
    result, got, status = convert(data)
    problems = reporter_problems(result)
    checks.append(("classroom: the solution", not problems and status == 0 and result["status"] == "pass"
                   and result["max_score"] == possible > 0 and got == earned == possible,
                   f"{result['status']}, {got}/{result['max_score']} points, the grader's "
                   f"{earned}/{possible}; {problems or 'the fields the reporter reads'}"))

    def failing(points):
        """data with the first check worth points (0 or not) failed."""
        edited = copy.deepcopy(data)
        check = next(k for c in edited["cases"] for k in c["checks"] if bool(k["points"]) == points)
        check["ok"] = False
        edited["totals"]["failed"] += 1
        edited["totals"]["points"] -= check["points"]
        return edited, check

    edited, check = failing(True)
    result, got, _ = convert(edited)
    failed = [t for t in result["tests"] if t.get("status") == "fail"]
    checks.append(("classroom: a check worth points fails", result["status"] == "fail"
                   and got == earned - check["points"] and result["max_score"] == possible
                   and len(failed) == 1 and failed[0]["name"].endswith(": " + check["name"]),
                   f"{result['status']}, {got}/{result['max_score']} points, failed: "
                   f"{[t.get('name') for t in failed]}"))
    summary, _ = classroom(os.path.join(tmp, "classroom-edited.json"), "--summary")
    checks.append(("classroom: its summary", f"| **FAIL** | {data['cases'][0]['case']} | " in summary
                   and f"Grade: {earned - check['points']}/{possible} points" in summary,
                   summary.splitlines()[0] if summary.strip() else "empty"))

    edited, check = failing(False)
    result, got, _ = convert(edited)
    checks.append(("classroom: a check worth 0 points fails", result["status"] == "fail"
                   and got == earned, f"{result['status']}, {got}/{result['max_score']} points"))

    text, status = classroom(os.path.join(tmp, "no-such-results.json"), "--status", "2")
    result = decode(text)
    checks.append(("classroom: no results", status == 0 and result["status"] == "error"
                   and not reporter_problems(result) and "status 2" in result["tests"][0]["message"],
                   f"{result['status']}: {result['tests'][0]['message']}"))
    return checks


def read(name):
    with open(os.path.join(ROOT, name)) as f:
        return f.read()


def dockerfile_checks():
    """[(name, ok, why)]: the Dockerfile's base, and every file it copies or
    runs from the repository exists."""
    text = read("grader/gradescope/Dockerfile")
    named = re.findall(r"^COPY\s+(\S+)\s", text, re.M) + re.findall(r"/autograder/source/(\S+)", text)
    missing = [n for n in named if not os.path.exists(os.path.join(ROOT, n))]
    ignore = [line for line in read("grader/gradescope/Dockerfile.dockerignore").splitlines()
              if line and not line.startswith("#")]
    return [
        ("Dockerfile: debian:bookworm", re.search(r"^FROM debian:bookworm$", text, re.M) is not None
         and "ENV DEBIAN_FRONTEND=noninteractive" in text, "its FROM and DEBIAN_FRONTEND"),
        ("Dockerfile: the files it names", len(named) >= 4 and not missing,
         f"{len(named)} named, missing: {missing}"),
        ("Dockerfile: Gradescope's layout", "COPY . /autograder/source\n" in text
         and re.search(r"cp \S+/run_autograder /autograder/run_autograder", text) is not None
         and "grader/gradescope/setup.sh" in text and re.search(r"^ENV LAB=\$LAB$", text, re.M),
         "the repository in /autograder/source, run_autograder, setup.sh, LAB"),
        ("Dockerfile.dockerignore", {".git", "build"} <= set(ignore), f"ignores {ignore}"),
    ]


def workflow_checks():
    """[(name, ok, why)] for classroom.yml, as text (python3-yaml is not
    among the packages make setup installs): its container, trigger and
    LAB, that the reporter's runner is the grading step's id and reads its
    output, and that the commands it runs exist."""
    text = read("grader/gradescope/classroom.yml")
    checks = [("classroom.yml: no tabs (YAML forbids them in indentation)", "\t" not in text, "")]
    on = re.search(r"^on:\n((?:  .*\n)+)", text, re.M)
    triggers = re.findall(r"^  (\w+):", on.group(1), re.M) if on else []
    checks.append(("classroom.yml: triggers", {"push", "workflow_dispatch", "repository_dispatch"}
                   <= set(triggers) and "if: github.actor != 'github-classroom[bot]'" in text,
                   f"on: {triggers}, skips github-classroom[bot]"))
    checks.append(("classroom.yml: container and LAB", re.search(r"^    container: debian:bookworm$", text, re.M)
                   is not None and re.search(r"^env:\n(?:  .*\n)*  LAB: [1-5]$", text, re.M) is not None,
                   "container: debian:bookworm; env: LAB: 1 to 5"))
    runners = re.findall(r"^\s+runners: (\S+)$", text, re.M)
    ids = re.findall(r"^\s+id: (\S+)$", text, re.M)
    wired = [r for r in runners[0].split(",") if r in ids and
             f"{r.upper()}_RESULTS: ${{{{ steps.{r}.outputs.result }}}}" in text] if runners else []
    checks.append(("classroom.yml: the reporter reads the grading step",
                   "uses: classroom-resources/autograding-grading-reporter@v1" in text
                   and len(runners) == 1 and wired == runners[0].split(","),
                   f"runners {runners}, step ids {ids}"))
    grade = re.search(r'grader/grade\.py --lab "\$LAB" --json (\S+) \|\| status=\$\?', text)
    checks.append(("classroom.yml: the grading step", grade is not None
                   and f'grader/classroom.py --status "$status" {grade.group(1)})" >>"$GITHUB_OUTPUT"' in text
                   and f"grader/classroom.py --summary --status \"$status\" {grade.group(1)} "
                   '>>"$GITHUB_STEP_SUMMARY"' in text,
                   "grade.py's failure kept in $status; classroom.py reads its --json"))
    files = re.findall(r"\b(grader/\S+\.py)\b", text)
    targets = re.findall(r"^\s+run: make (\w+)$", text, re.M)
    missing = [f for f in files if not os.path.exists(os.path.join(ROOT, f))] + \
        [t for t in targets if not re.search(rf"^{t}:", read("Makefile"), re.M)]
    checks.append(("classroom.yml: the files and targets it names", files and targets and not missing,
                   f"{sorted(set(files))}, make {targets}; missing: {missing}"))
    return checks + [yaml_check(text)]


def yaml_check(text):
    """(name, ok, why) for classroom.yml read by a YAML parser, which finds
    what the text checks cannot (quoting, nesting); ok is None (skipped)
    without python3-yaml, which no part of the project needs."""
    name = "classroom.yml: as YAML"
    try:
        import yaml
    except ImportError:
        return name, None, "python3-yaml is not installed"
    try:
        data = yaml.safe_load(text)
        job = data["jobs"]["autograding"]
        steps = {step.get("id"): step for step in job["steps"]}
        report = job["steps"][-1]
        ok = (data["env"]["LAB"] in range(1, 6) and job["container"] == "debian:bookworm"
              # YAML 1.1 reads the key `on` as true.
              and {"push", "workflow_dispatch", "repository_dispatch"} <= set(data[True])
              and "grader" in steps and report["with"]["runners"] == "grader"
              and report["env"]["GRADER_RESULTS"] == "${{ steps.grader.outputs.result }}")
        return name, ok, "LAB, container, triggers, the reporter's runner and its input"
    except (yaml.YAMLError, KeyError, TypeError, IndexError, AttributeError) as e:
        return name, False, f"{type(e).__name__}: {e}"


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
        others = classroom_checks(solution, tmp)
    for name, ok, why in others + dockerfile_checks() + workflow_checks():
        if ok is None:
            print(f"SKIP {name}: {why}")
            continue
        ok = bool(ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}: {why}")
        passed, failed = passed + ok, failed + (not ok)
    print(f"autograder: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
