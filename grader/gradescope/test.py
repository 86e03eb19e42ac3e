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
error. Then the Debian 12 root route of setup.sh and run_autograder (for
machines that are not Debian 12), quickly: the three scripts parse
(sh -n), debian12_is tells Debian 12 from Debian 13, Ubuntu 22.04 and 24.04
and a missing os-release, setup.sh's keyring is an OpenPGP key; and, as root,
run_autograder grades through a fake root (the host's sh and env, under
chroot): the submission is copied in, the root's run_autograder sees only
the environment it is given and its /dev nodes, its results.json comes
back; a root that gives none, and a marker naming no root, still give a
results.json. Last, the files no machine here can run (no Docker daemon,
no GitHub): the Dockerfile and classroom.yml, checked as text, that each
file they name exists and that their parts fit together.

    python3 grader/gradescope/test.py --debian-root DIR

does instead the slow trial that `make test` leaves out: setup.sh builds a
real Debian 12 root in DIR on this machine (GRADESCOPE_DEBIAN_ROOT=1, as
root, with Debian's mirror: debootstrap, make setup and make support in
the root), then run_autograder grades the four submissions above through
it. It leaves DIR (remove it by hand) and DIR-setup.log, and prints the
times (grader/README.md, "Where courses grade", has the last run's).

Closes with 'autograder: N passed, N failed'.
"""
import argparse
import base64
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import gradelib  # noqa: E402  (found through the path set just above)
import runner  # noqa: E402
import mutants  # noqa: E402

ROOT = gradelib.ROOT


def run(submission, results, source=ROOT, **extra):
    env = dict(runner.make_env(), AUTOGRADER_SOURCE=source, AUTOGRADER_SUBMISSION=submission,
               AUTOGRADER_RESULTS=results, LAB="1", **extra)
    out, status, timed_out = runner.run_command(
        ["sh", os.path.join(HERE, "run_autograder")], 600, env=env)
    path = os.path.join(results, "results.json")
    data = json.load(open(path)) if os.path.exists(path) else None
    return data, status, out.decode(errors="replace")


def score(data):
    return data.get("score", sum(t.get("score", 0) for t in data.get("tests", [])))


def classroom(results, *flags):
    """grader/classroom.py's output on the results.json at path results."""
    out, status, _ = runner.run_command(
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
    out, status, _ = runner.run_command(
        [sys.executable, os.path.join(ROOT, "grader/grade.py"), "--tree", tree, "--lab", "1",
         "--smp", "1", "--json", results], 300, env=runner.make_env())
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


def submission_checks(tmp, solution, source=ROOT, label=""):
    """[(name, ok, why)] for run_autograder on the four submissions, graded
    with the autograder's checkout at source; prints each as it ends."""
    broken = os.path.join(tmp, "broken")
    mutants.copy_repository(broken)
    with open(os.path.join(broken, "labs/01-boot/vsbi.c"), "a") as f:
        f.write("\nint this_does_not_compile(\n")
    nested = os.path.join(tmp, "nested")
    os.makedirs(nested, exist_ok=True)
    shutil.copytree(solution, os.path.join(nested, "riscv-hyp-labs"), symlinks=True, dirs_exist_ok=True)
    empty = os.path.join(tmp, "empty")
    os.makedirs(os.path.join(empty, "notes"), exist_ok=True)

    def want_full(data):
        total = sum(t["max_score"] for t in data.get("tests", []))
        return total > 0 and score(data) == total, f"score {score(data)} of {total}"

    def want_zero_with(text):
        def judge(data):
            return score(data) == 0 and text in json.dumps(data), \
                f"score {score(data)}, '{text}' in the output: {text in json.dumps(data)}"
        return judge

    checks = []
    for name, submission, judge in [
            ("solution at the top", solution, want_full),
            ("solution in a folder", nested, want_full),
            ("lab 1 does not build", broken, want_zero_with("this_does_not_compile")),
            ("no labs/ folder", empty, want_zero_with("No labs/ folder"))]:
        results = os.path.join(tmp, "results-" + name.replace(" ", "-").replace("/", ""))
        start = time.monotonic()
        data, status, out = run(submission, results, source)
        if data is None:
            ok, why = False, "no results.json"
        elif status != 0:
            ok, why = False, f"run_autograder exited with {status}"
        else:
            ok, why = judge(data)
        why += f" ({time.monotonic() - start:.0f} s)" if label else ""
        print(f"{'PASS' if ok else 'FAIL'} {label}{name}: {why}")
        if not ok:
            print(out[-3000:])
        checks.append((label + name, ok, why))
    return checks


def script_checks(tmp):
    """[(name, ok, why)] for the shell of the Debian 12 root route: the
    scripts parse, debian12_is reads os-release files as meant, and the
    keyring setup.sh hands debootstrap is an OpenPGP key."""
    checks = []
    for name in ("setup.sh", "run_autograder", "debian12.sh"):
        r = subprocess.run(["sh", "-n", os.path.join(HERE, name)], capture_output=True, text=True)
        checks.append((f"sh -n {name}", r.returncode == 0, r.stderr.strip() or "parses"))
    samples = {
        "debian 12": ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
                      'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n', True),
        "debian 13": ('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_ID="13"\nID=debian\n', False),
        "ubuntu 22.04": ('PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\n'
                         'ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy\n', False),
        "ubuntu 24.04": ('PRETTY_NAME="Ubuntu 24.04.1 LTS"\nVERSION_ID="24.04"\nID=ubuntu\n'
                         'ID_LIKE=debian\n', False),
        "no os-release": (None, False),
    }
    seen = {}
    for name, (text, _) in samples.items():
        path = os.path.join(tmp, "os-release-" + name.replace(" ", "-"))
        if text is not None:
            with open(path, "w") as f:
                f.write(text)
        # ID and VERSION_ID set before: the file's own must decide, and the
        # subshell must keep them from the caller.
        r = subprocess.run(["sh", "-c", '. "$1"; ID=debian VERSION_ID=12; s=no; debian12_is "$2" && s=yes; '
                            'echo "$s $ID $VERSION_ID"', "sh", os.path.join(HERE, "debian12.sh"), path],
                           capture_output=True, text=True)
        seen[name] = r.stdout.strip()
    want = {name: f"{'yes' if is12 else 'no'} debian 12" for name, (_, is12) in samples.items()}
    checks.append(("debian12_is on os-release files", seen == want,
                   f"Debian 12?, then the caller's ID and VERSION_ID: {seen}"))
    with open(os.path.join(HERE, "debian-bookworm.gpg"), "rb") as f:
        first = f.read(1)
    tag = None if not first else (first[0] & 0x3F if first[0] & 0xC0 == 0xC0 else (first[0] >> 2) & 0xF)
    checks.append(("debian-bookworm.gpg", "debian-bookworm.gpg" in read("grader/gradescope/setup.sh")
                   and first and first[0] & 0x80 and tag == 6,
                   f"named in setup.sh, first packet tag {tag} (6: a public key)"))
    return checks


def fake_root(tmp, inner):
    """A root for chroot that holds the host's sh and env with their
    libraries, and inner as its autograder's run_autograder; no /dev."""
    root = os.path.join(tmp, "fake-root")
    shutil.rmtree(root, ignore_errors=True)
    programs = [os.path.realpath(shutil.which("sh")), "/usr/bin/env"]
    libraries = set()
    for program in programs:
        out = subprocess.run(["ldd", program], capture_output=True, text=True).stdout
        libraries.update(re.findall(r"(/\S+) \(0x", out))
    for path, into in [(programs[0], "/bin/sh"), (programs[1], "/usr/bin/env")] + \
            [(lib, lib) for lib in libraries]:
        os.makedirs(os.path.dirname(root + into), exist_ok=True)
        shutil.copy(path, root + into)
    script = os.path.join(root, "autograder/source/grader/gradescope/run_autograder")
    os.makedirs(os.path.dirname(script))
    with open(script, "w") as f:
        f.write(inner)
    return root


def fake_root_checks(tmp, solution):
    """[(name, ok, why)] for run_autograder's side of the Debian 12 root,
    with a fake root: a sh in place of Debian, whose run_autograder reports
    what it was given. Needs root (chroot); skipped otherwise."""
    if os.geteuid() != 0 or not shutil.which("chroot"):
        return [("the root route, with a fake root", None, "needs root and chroot")]
    source = os.path.join(tmp, "fake-source")
    os.makedirs(os.path.join(source, "build"))
    os.makedirs(os.path.join(source, "grader/gradescope"))
    shutil.copy(os.path.join(HERE, "debian12.sh"), os.path.join(source, "grader/gradescope"))
    marker = re.search(r"^DEBIAN12_MARKER=(\S+)$", read("grader/gradescope/debian12.sh"), re.M).group(1)

    def mark(root):
        with open(os.path.join(source, marker), "w") as f:
            f.write(root + "\n")

    def results_of(name, submission=solution):
        data, status, out = run(submission, os.path.join(tmp, "fake-results-" + name), source,
                                FOO="from the host")
        return (data or {}), status, out

    checks = []
    # Builtins only: the fake root has no other program. FOO must not get in.
    root = fake_root(tmp, 'labs=no; [ -d "$AUTOGRADER_SUBMISSION/labs" ] && labs=yes\n'
                          'devices=no; [ -c /dev/null ] && [ -c /dev/urandom ] && devices=yes\n'
                          'printf \'{"score": 7, "output": "LAB=%s SUBMISSION=%s RESULTS=%s HOME=%s '
                          'labs=%s devices=%s FOO=%s"}\\n\' "$LAB" "$AUTOGRADER_SUBMISSION" '
                          '"$AUTOGRADER_RESULTS" "$HOME" "$labs" "$devices" "${FOO:-}" '
                          '>"$AUTOGRADER_RESULTS/results.json"\n')
    mark(root)
    data, status, out = results_of("ran")
    want = ("LAB=1 SUBMISSION=/autograder/submission RESULTS=/autograder/results HOME=/root "
            "labs=yes devices=yes FOO=")
    checks.append(("the root route: its run_autograder's results", status == 0 and data.get("score") == 7
                   and data.get("output") == want, f"status {status}, {data or out[-500:]}"))

    fake_root(tmp, "echo the grader in the root stops here; exit 3\n")
    data, status, out = results_of("silent")
    checks.append(("the root route: no results from the root", status == 0 and data.get("score") == 0
                   and "gave no result (status 3)" in data.get("output", "")
                   and "the grader in the root stops here" in data.get("output", ""),
                   f"status {status}, {data or out[-500:]}"))

    for name, named in [("an empty marker", ""), ("a marker naming no root", os.path.join(tmp, "nowhere"))]:
        mark(named)
        data, status, out = results_of(name.replace(" ", "-"))
        checks.append((f"the root route: {name}", status == 0 and data.get("score") == 0
                       and "no Debian 12 root that setup.sh built" in data.get("output", ""),
                       f"status {status}, {data or out[-500:]}"))
    return checks


def debian_root_run(root):
    """The slow trial (--debian-root): setup.sh's Debian 12 root route, forced
    on this machine, with the root at root, for a copy of the repository;
    then run_autograder's four submissions through it. Prints timings."""
    checks = []
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "source")
        mutants.copy_repository(source)
        log = root.rstrip("/") + "-setup.log"
        start = time.monotonic()
        with open(log, "wb") as f:
            status = subprocess.run(["sh", os.path.join(source, "grader/gradescope/setup.sh")],
                                    stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                    env=dict(runner.make_env(), AUTOGRADER_SOURCE=source,
                                             DEBIAN_ROOT=root, GRADESCOPE_DEBIAN_ROOT="1")).returncode
        seconds = time.monotonic() - start
        with open(log, errors="replace") as f:
            tail = "".join(f.readlines()[-5:])
        size = subprocess.run(["du", "-sh", root], capture_output=True, text=True).stdout.split("\t")[0]
        ok = status == 0
        print(f"{'PASS' if ok else 'FAIL'} setup.sh, Debian 12 root in {root}: status {status}, "
              f"{seconds:.0f} s, {size}; the log is {log}, its last lines:\n{tail}")
        checks.append(("setup.sh builds the root", ok, ""))
        if ok:
            solution = os.path.join(tmp, "solution")
            mutants.copy_repository(solution)
            checks += submission_checks(tmp, solution, source, "in the root: ")
    return checks


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--debian-root", metavar="DIR",
                    help="instead: build setup.sh's Debian 12 root in DIR on this machine (as root, "
                         "with Debian's mirror; 3 to 5 minutes here) and grade through it")
    args = ap.parse_args()
    runner.end_runs_on_signals()
    if args.debian_root:
        printed, others = debian_root_run(os.path.abspath(args.debian_root)), []
    else:
        with tempfile.TemporaryDirectory() as tmp:
            solution = os.path.join(tmp, "solution")
            mutants.copy_repository(solution)
            printed = submission_checks(tmp, solution)
            others = classroom_checks(solution, tmp) + script_checks(tmp) + fake_root_checks(tmp, solution)
        others += dockerfile_checks() + workflow_checks()
    passed = sum(bool(ok) for _, ok, _ in printed)
    failed = len(printed) - passed
    for name, ok, why in others:
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
