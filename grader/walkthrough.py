#!/usr/bin/env python3
"""make walkthrough: runs each lab's gdb walkthrough and checks its output.

    python3 grader/walkthrough.py [--lab N] [--tree PATH] [--selftest]

labs/0N-*/walkthrough.gdb holds the commands of the gdb session that the
lab's README shows, with the outputs the README shows written as
expectations, so that the README cannot drift from the code unnoticed.
In a script:

    # session: SMP=2 GUEST=...   starts a session: a new QEMU, halted, with
                                 these make variables (SMP=4 if not given),
                                 and a new gdb attached to it
    # expect: REGEX              the output of the command above has a line
                                 that REGEX matches (Python re.search),
                                 below the line that the command's
                                 previous '# expect:' matched
    # expect N: REGEX            exactly N lines of that output match REGEX

Other lines starting with '#' are comments; the rest are gdb commands.
The last command of a session needs an expectation: gdb stops a script at
its first error, so that one then fails too.

The scripts and the code come from --tree (default: this checkout). Each
lab is built as the grader builds it; its sessions then run one after the
other, two labs at a time. The transcript of each lab, gdb's output and
QEMU's console, goes to TREE/build/walkthrough/labN.log.
Closes with 'walkthrough: N passed, N failed' (N counts expectations) and
exits with status 1 if any failed.
"""
import argparse
import collections
import glob
import os
import re
import shlex
import shutil
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import gradelib
import runner

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SESSION_TIMEOUT = 30  # seconds for QEMU and gdb together; a session takes 1 to 5
JOBS = 2              # labs at a time: the machines have 2 cores
GDB = "gdb-multiarch"

SESSION_LINE = re.compile(r"#\s*session:(.*)$")
EXPECT_LINE = re.compile(r"#\s*expect(?:\s+(\d+))?:(.*)$")


# ---- the scripts ----

class Expect:
    """One expectation: count is None for 'some line matches, after the
    line the previous one matched', or the exact number of lines."""

    def __init__(self, line, regex, count):
        self.line, self.regex, self.count = line, regex, count


class Command:
    def __init__(self, line, text):
        self.line, self.text, self.expects = line, text, []


class Session:
    """The commands from one '# session:' line (line) to the next (end);
    make_vars are the make variables that line gives."""

    def __init__(self, line, make_vars):
        self.line, self.make_vars, self.commands = line, make_vars, []
        self.end = None
        if not any(v.startswith("SMP=") for v in make_vars):
            self.make_vars = ["SMP=4"] + make_vars


def parse(text, name="walkthrough.gdb"):
    """The sessions of a script. Raises ValueError, naming the line, on a
    script this runner would misread."""
    sessions = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        session, expect = SESSION_LINE.match(line), EXPECT_LINE.match(line)
        if session:
            sessions.append(Session(n, session.group(1).split()))
        elif not line or (line.startswith("#") and not expect):
            continue
        elif not sessions:
            raise ValueError(f"{name}:{n}: the script must start with a '# session:' line")
        elif expect:
            commands = sessions[-1].commands
            if not commands:
                raise ValueError(f"{name}:{n}: an expectation before any command")
            regex = expect.group(2).strip()
            try:
                re.compile(regex)
            except re.error as e:
                raise ValueError(f"{name}:{n}: bad regex {regex!r}: {e}") from None
            count = expect.group(1)
            commands[-1].expects.append(Expect(n, regex, None if count is None else int(count)))
        else:
            sessions[-1].commands.append(Command(n, line))
    if not sessions:
        raise ValueError(f"{name}: no '# session:' line")
    for s, after in zip(sessions, sessions[1:] + [None]):
        s.end = after.line if after else n + 1
        if not s.commands or not s.commands[-1].expects:
            raise ValueError(f"{name}:{s.line}: the session's last command needs an expectation")
    return sessions


def session_script(text, session):
    """The script with every line outside the session blanked, so that
    gdb runs this session alone and names the lines of the original in its
    error messages."""
    lines = text.splitlines()
    return "\n".join(l if session.line <= n < session.end else ""
                     for n, l in enumerate(lines, 1)) + "\n"


# ---- judging a transcript ----

# One expectation's outcome: its Command and Expect, whether the transcript
# met it, what was wanted in words, and the lines that show a failure.
Outcome = collections.namedtuple("Outcome", "command expect ok wanted context")


def judge(session, lines):
    """Checks each expectation of the session against the transcript lines
    of gdb (with trace-commands on, gdb echoes each command it runs as
    '+command'). Returns an Outcome per expectation, in script order."""
    starts, pos = [], 0
    for cmd in session.commands:
        i = next((j for j in range(pos, len(lines)) if lines[j] == "+" + cmd.text), None)
        starts.append(i)
        pos = pos if i is None else i + 1
    outcomes, context = [], gradelib.show(lines, tail=True)
    for k, cmd in enumerate(session.commands):
        if starts[k] is None:
            # gdb stopped before it, at an error that the transcript's tail
            # shows, once: the commands after it never ran either.
            for e in cmd.expects:
                outcomes.append(Outcome(cmd, e, False, f"{wanted(e)}, but the command never ran",
                                        context))
                context = []
            continue
        end = next((s for s in starts[k + 1:] if s is not None), len(lines))
        outcomes += judge_output(cmd, lines[starts[k] + 1:end])
    return outcomes


def wanted(e):
    """What the expectation asks for, in words."""
    if e.count is None:
        return f"a line matching '{e.regex}'"
    return f"exactly {e.count} lines matching '{e.regex}'"


def judge_output(cmd, out):
    outcomes, good, cursor = [], [], 0
    for e in cmd.expects:
        hits = gradelib.matching(out, e.regex)
        if e.count is None:
            i = next((i for i in hits if i >= cursor), None)
            ok = i is not None
            if ok:
                good.append(i)
                cursor = i + 1
            later = " after the lines marked GOOD" if hits and not ok else ""
            want = wanted(e) + later
            context = gradelib.show(out, good=good, tail=True, missing=[] if ok else [e.regex])
        else:
            ok = len(hits) == e.count
            want = f"{wanted(e)}, got {len(hits)}"
            # Too many: the extra lines are the culprits. Too few: show the end.
            context = (gradelib.show(out, bad=hits) if len(hits) > e.count
                       else gradelib.show(out, good=hits, tail=True))
        outcomes.append(Outcome(cmd, e, ok, want, context))
    return outcomes


# ---- running a lab ----

_ports, _ports_lock = set(), threading.Lock()


def free_port():
    """A TCP port that nobody listens on, for one QEMU's gdb stub. The
    kernel picks it from its ephemeral range (32768 up), away from the
    per-user port of `make labN-gdb` (25000-29999); a port is not handed
    out twice in one run, so parallel sessions never share one."""
    while True:
        with socket.socket() as s:
            s.bind(("", 0))
            port = s.getsockname()[1]
        with _ports_lock:
            if port not in _ports:
                _ports.add(port)
                return port


def run_session(lab, session, text, tree):
    """Boots the lab halted, runs the session's gdb commands against it,
    and returns (transcript lines, log text)."""
    args = ["qemu-cmd", f"LAB={lab}"] + session.make_vars
    ok, qemu = runner.make(tree, *args, timeout=60)
    head = f"=== session at line {session.line}: make {' '.join(args)}\n"
    if not ok:
        lines = [f"[walkthrough: make {' '.join(args)} failed]"] + qemu.splitlines()
        return lines, head + "\n".join(lines)
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "walkthrough.gdb")
        console = os.path.join(tmp, "console")
        with open(script, "w") as f:
            f.write(session_script(text, session))
        port = free_port()
        gdb = [GDB, "-q", "-batch", "-nx", f"build/lab{lab}/hyp.elf",
               "-ex", "set architecture riscv:rv64", "-ex", "set trace-commands on",
               "-ex", f"target remote :{port}", "-x", script]
        # QEMU runs in the background of the same shell, so it is in the
        # process group that run_command kills on a timeout; after gdb,
        # the shell ends it (gdb's kill may have done so already).
        shell = (f"{qemu.strip()} -S -gdb tcp::{port} >{shlex.quote(console)} 2>&1 &\n"
                 f"{shlex.join(gdb)}\nstatus=$?\nkill $! 2>/dev/null\nwait\nexit $status\n")
        out, status, timed_out = runner.run_command(shell, SESSION_TIMEOUT, cwd=tree)
        with open(console, "rb") as f:
            console_text = f.read().decode("utf-8", errors="replace").replace("\r", "")
    # The last line says how it ended, for the report of a script cut short.
    lines = gradelib.split_lines(out) + [f"[walkthrough: timed out after {SESSION_TIMEOUT} s]" if timed_out
                                         else f"[walkthrough: gdb exit status {status}]"]
    log = (head + qemu.strip() + f" -S -gdb tcp::{port}\n" + "\n".join(lines)
           + "\n--- QEMU console\n" + console_text)
    return lines, log


def run_lab(lab, script, tree, built):
    """Runs one lab's sessions. Returns (report lines, passed, failed)."""
    t0 = time.monotonic()
    name = os.path.relpath(script, tree)
    with open(script) as f:
        text = f.read()
    try:
        sessions = parse(text, name)
    except ValueError as e:
        return [f"== lab {lab}: {e}"], 0, 1
    ok, output = built
    if not ok:
        total = sum(len(c.expects) for s in sessions for c in s.commands)
        return ([f"== lab {lab}: 0 passed, {total} failed: make build LAB={lab} failed"]
                + ["    " + line for line in output.splitlines()[:30]]), 0, total
    logs, outcomes = [], []
    for session in sessions:
        lines, log = run_session(lab, session, text, tree)
        logs.append(log)
        outcomes += judge(session, lines)
    log = os.path.join(tree, "build", "walkthrough", f"lab{lab}.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "w") as f:
        f.write("\n".join(logs))
    failed = [o for o in outcomes if not o.ok]
    passed = len(outcomes) - len(failed)
    report = [f"== lab {lab}: {passed} passed, {len(failed)} failed "
              f"({time.monotonic() - t0:.1f} s), log {os.path.relpath(log, tree)}"]
    for o in failed:
        report.append(f"  FAIL {name}:{o.expect.line}: (gdb) {o.command.text}")
        report.append(f"    expected {o.wanted}")
        report += ["    " + gradelib.printable(line) for line in o.context]
    return report, passed, len(failed)


def scripts(tree, lab=None):
    """{lab number: its walkthrough.gdb} in tree, of one lab or all."""
    found = {}
    for path in sorted(glob.glob(os.path.join(tree, "labs", "0*-*", "walkthrough.gdb"))):
        n = int(os.path.basename(os.path.dirname(path))[:2])
        if lab is None or n == int(lab):
            found[n] = path
    return found


def main():
    runner.end_runs_on_signals()
    ap = argparse.ArgumentParser(description="Run and check the labs' gdb walkthroughs.")
    ap.add_argument("--lab", help="only this lab (a number)")
    ap.add_argument("--tree", default=ROOT, help="the checkout to use (default: this one)")
    ap.add_argument("--selftest", action="store_true", help="check this checker on canned transcripts")
    args = ap.parse_args()
    if args.selftest:
        return selftest()
    if shutil.which(GDB) is None:
        print(f"error: {GDB} not found: run 'make setup'")
        return 1
    tree = os.path.abspath(args.tree)
    labs = scripts(tree, args.lab)
    if not labs:
        print(f"walkthrough: no labs/0*/walkthrough.gdb for lab {args.lab or 'any'} in {tree}")
        return 1
    # One build at a time: two labs' builds share build/guest.
    built = {n: runner.build(n, tree) for n in labs}
    passed = failed = 0
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        for report, p, f in pool.map(lambda n: run_lab(n, labs[n], tree, built[n]), labs):
            print("\n".join(report), flush=True)
            passed, failed = passed + p, failed + f
    print(f"walkthrough: {passed} passed, {failed} failed")
    return 1 if failed else 0


# ---- self-test: the checks on canned transcripts, without QEMU ----

SELFTEST_SCRIPT = r"""# session: SMP=4
break vcpu_run
# expect: ^Breakpoint 1 at 0x[0-9a-f]+: file labs/03-secondary/vcpu\.c, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 1, vcpu_run \(
info threads
# expect 4: ^[ *] +\d+ +Thread 1\.\d
# expect 3: hart_park \(
# expect: ^\* .* vcpu_run \(
kill
# expect: ^\[Inferior 1 \(process 1\) killed\]$
"""

# What gdb prints for SELFTEST_SCRIPT on lab 03, boot hart 2.
SELFTEST_GOOD = r"""+target remote :40001
0x0000000000001000 in ?? ()
+break vcpu_run
Breakpoint 1 at 0x80202d88: file labs/03-secondary/vcpu.c, line 139.
+continue

Thread 3 hit Breakpoint 1, vcpu_run (v=v@entry=0x80230080 <vcpu0>) at labs/03-secondary/vcpu.c:139
139		vcpu_load(v);
+info threads
  Id   Target Id                    Frame
  1    Thread 1.1 (CPU#0 [halted ]) hart_park (h=0x8020c248 <harts+40>) at labs/03-secondary/hart.c:177
  2    Thread 1.2 (CPU#1 [halted ]) hart_park (h=0x8020c270 <harts+80>) at labs/03-secondary/hart.c:177
* 3    Thread 1.3 (CPU#2 [running]) vcpu_run (v=v@entry=0x80230080 <vcpu0>) at labs/03-secondary/vcpu.c:139
  4    Thread 1.4 (CPU#3 [halted ]) hart_park (h=0x8020c298 <harts+120>) at labs/03-secondary/hart.c:177
+kill
[Inferior 1 (process 1) killed]
""".splitlines()


def failures(script, lines):
    """(script line of the expectation, what was wanted, context) of each
    failed expectation."""
    return [(o.expect.line, o.wanted, o.context) for s in parse(script)
            for o in judge(s, lines) if not o.ok]


def test_good_transcript_passes():
    outcomes = judge(parse(SELFTEST_SCRIPT)[0], SELFTEST_GOOD)
    assert len(outcomes) == 6 and all(o.ok for o in outcomes), outcomes


def test_hart_not_parked_fails():
    lines = [l.replace("hart_park (h=0x8020c270 <harts+80>) at labs/03-secondary/hart.c:177",
                       "0x0000000080009a64 in ?? ()") for l in SELFTEST_GOOD]
    (line, want, context), = failures(SELFTEST_SCRIPT, lines)
    assert line == 8 and want == r"exactly 3 lines matching 'hart_park \(', got 2", want
    assert "       2    Thread 1.2 (CPU#1 [halted ]) 0x0000000080009a64 in ?? ()" in context, context
    assert sum(l.startswith("GOOD") for l in context) == 2, context


def test_wrong_value_fails():
    lines = [l.replace("vcpu.c, line 139.", "vcpu.c, line 139") for l in SELFTEST_GOOD]
    (line, want, context), = failures(SELFTEST_SCRIPT, lines)
    assert line == 3 and "MISSING '^Breakpoint 1 at" in context[-1], context


def test_order_within_a_command():
    # In the output, CPU#0 comes before CPU#3.
    script = "# session:\ninfo threads\n# expect: CPU#3\n# expect: CPU#0\n"
    (line, want, context), = failures(script, SELFTEST_GOOD)
    assert line == 4 and "after the lines marked GOOD" in want, want
    assert failures(script.replace("CPU#3", "CPU#X").replace("CPU#0", "CPU#3").replace("CPU#X", "CPU#0"),
                    SELFTEST_GOOD) == []


def test_script_stopped_by_an_error_fails():
    cut = SELFTEST_GOOD.index("+info threads")
    lines = SELFTEST_GOOD[:cut] + ["/tmp/x/walkthrough.gdb:6: Error in sourced command file:",
                                   "Remote connection closed"]
    failed = failures(SELFTEST_SCRIPT, lines)
    assert [f[0] for f in failed] == [7, 8, 9, 11], failed
    assert all(f[1].endswith(", but the command never ran") for f in failed), failed
    # The transcript's tail, with the error, is shown once.
    assert "     Remote connection closed" in failed[0][2], failed[0][2]
    assert [f[2] for f in failed[1:]] == [[], [], []], failed


def test_output_of_one_command_is_not_another_s():
    # 'Thread 3 hit Breakpoint 1, vcpu_run' is continue's output, not kill's.
    script = "# session:\ncontinue\n# expect: hit\nkill\n# expect: vcpu_run\n"
    assert [f[0] for f in failures(script, SELFTEST_GOOD)] == [5]


def test_bad_scripts_are_refused():
    bad = {"break f\n# expect: x\n": "must start with a '# session:' line",
           "# session:\n# expect: x\nkill\n": "an expectation before any command",
           "# session:\nkill\n# expect: (\n": "bad regex",
           "# session:\nkill\n# expect: x\np 1\n": "last command needs an expectation",
           "# session:\nkill\n# expect: x\n# session: SMP=1\n": "last command needs an expectation"}
    for script, message in bad.items():
        try:
            parse(script)
        except ValueError as e:
            assert message in str(e), (script, e)
        else:
            raise AssertionError(f"accepted {script!r}")


def test_sessions_are_run_apart():
    text = "# session: SMP=2\nkill\n# expect: killed\n# session: GUEST=g.bin\np 1\n# expect: 1\n"
    first, second = parse(text)
    assert first.make_vars == ["SMP=2"] and second.make_vars == ["SMP=4", "GUEST=g.bin"]
    assert session_script(text, first) == "# session: SMP=2\nkill\n# expect: killed\n\n\n\n"
    assert session_script(text, second) == "\n\n\n# session: GUEST=g.bin\np 1\n# expect: 1\n"


def test_the_labs_scripts_parse():
    labs = scripts(ROOT)
    assert sorted(labs) == [1, 2, 3, 4, 5], labs
    for path in labs.values():
        with open(path) as f:
            parse(f.read(), path)  # raises ValueError on a script it would misread


def selftest():
    return gradelib.run_selftests(globals(), "walkthrough selftest")


if __name__ == "__main__":
    sys.exit(main())
