#!/usr/bin/env python3
"""Checks that the console transcripts in the READMEs are what the code prints.

    python3 grader/readme_output.py [--lab N] [--tree PATH]
    python3 grader/readme_output.py --selftest

The convention, in README.md and labs/*/README.md: a fenced block right after
a comment naming a command (blank lines may come between) is that command's
console, and is checked:

    <!-- output of: make lab3 SMP=8 -->
    ```
    $ make lab3 SMP=8
    ...
    hyp: RISC-V hypervisor lab 03, booted on hart 6
    ```

The command is `make labN` with at most SMP=, QEMU_EXTRA= and GUEST=, the
variables that change the boot but not the build. In the block:

- a line starting with `$ ` is a command typed, not output; a `$ make labN`
  line must be the comment's command;
- a line `...` stands for any number of console lines (the OpenSBI banner,
  checks not worth repeating);
- `make: *** [Makefile:…: labN] Error S` says QEMU exits with status S;
  without that line it must exit with 0.

In a section called "Expected output", a block that shows `$ make labN` must
be checked, or say why not in a comment just before it:

    <!-- not checked: hart 2 wins OpenSBI's lottery in about one boot in 4 -->

Each checked block's lab is built (`make build LAB=N`), then its boot runs,
two at a time, as the grader runs a case: the command from
`make qemu-cmd`, under a timeout, stdin from /dev/null. The README block and
the console are normalised the same way (NORMALISE and sort_hart_runs below)
and compared line by line. Exit status 1 if any block failed.
"""
import argparse
import difflib
import os
import re
import shlex
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import gradelib
import runner

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOT_TIMEOUT = 60  # seconds; a boot takes 1 to 4 s, but the 2 cores are shared
JOBS = 2
ELLIPSIS = "..."
MARKER = re.compile(r"^<!-- output of: (.*) -->$")
NOT_CHECKED = re.compile(r"^<!-- not checked: .+ -->$")
SECTION = re.compile(r"^## (\d+\. )?Expected output$")
VARIABLES = ("SMP", "QEMU_EXTRA", "GUEST")  # make variables a checked command may set

# What legitimately varies from run to run, replaced the same way in the
# README and in the console. Each rule: (pattern, replacement).
NORMALISE = [
    # The boot hart is OpenSBI's lottery winner, and with it the hart named
    # in most lines, so no hart number is compared.
    (r"\bhart \d+", "hart N"),
    (r"^Boot HART ID : \d+$", "Boot HART ID : N"),
    # Addresses that move whenever the hypervisor or the guest is rebuilt.
    (r"(hypervisor image 0x80200000)-0x[0-9a-f]+", r"\1-0x…"),
    (r"stack top 0x[0-9a-f]+", "stack top 0x…"),
    (r"guest pc 0x[0-9a-f]+", "guest pc 0x…"),
    # The lock torture counts what each hart did in 100 ms of host time.
    (r"\d+ additions", "N additions"),
    (r"counter \d+, sum of the harts' counts \d+ \(fewest \d+, most \d+\)",
     "counter N, sum of the harts' counts N (fewest N, most N)"),
]
# Consecutive lines about one hart each: their order follows the lottery (the
# boot hart's row in the hart table) or the host's scheduling (harts that
# print at the same time), so each run of them is compared sorted.
HART_LINE = re.compile(r"^(hyp|guest): hart N\b")


def normalise(lines):
    """Lines to compare: whitespace runs made one space (the hart table's
    columns follow the width of the hart numbers), blank lines dropped, the
    NORMALISE rules applied, and the runs of hart lines sorted."""
    out = []
    for line in lines:
        line = " ".join(line.split())
        for pattern, replacement in NORMALISE:
            line = re.sub(pattern, replacement, line)
        if line:
            out.append(line)
    return sort_hart_runs(out)


def sort_hart_runs(lines):
    """The lines with each run of consecutive HART_LINE lines sorted."""
    out, run = [], []
    for line in lines + [None]:  # None ends the last run
        if line is not None and HART_LINE.match(line):
            run.append(line)
            continue
        out += sorted(run)
        run = []
        if line is not None:
            out.append(line)
    return out


def find(got, seg, pos, first, last):
    """Where seg lies in got at or after pos: at the start when no '...'
    comes before it (first), at the end when none comes after it (last),
    otherwise as early as it can. None if not there."""
    n = len(seg)
    if last:
        starts = [len(got) - n] if not first or len(got) == n else []
    elif first:
        starts = [0]
    else:
        starts = range(pos, len(got) - n + 1)
    return next((at for at in starts if at >= pos and got[at:at + n] == seg), None)


def align(expected, got):
    """Matches got (console lines) against expected (README lines, which may
    hold '...'). Returns (ok, got laid out like expected): the stretches a
    '...' stands for become '...', so that a diff of the two shows only what
    differs."""
    segments = [[]]
    for line in expected:
        if line == ELLIPSIS:
            segments.append([])
        else:
            segments[-1].append(line)
    ok, out, pos = True, [], 0
    for i, seg in enumerate(segments):
        first, last = i == 0, i == len(segments) - 1
        if not first:
            out.append(ELLIPSIS)
        at = find(got, seg, pos, first, last)
        if at is not None:
            out += seg
            pos = at + len(seg)
            continue
        # seg is not in the console. Set against it the console from its
        # first line that is there up to where the next segment is found.
        ok = False
        nxt = None if last else find(got, segments[i + 1], pos, False, i + 1 == len(segments) - 1)
        end = len(got) if nxt is None else nxt
        start = pos if first else next((j for j in range(pos, end) if got[j] in seg), end)
        window = got[start:end]
        if not last:
            # The '...' after seg hides the console past seg's last line in
            # common with it, plus as many lines as seg has left after that
            # one (they may be changed versions of its lines).
            common = difflib.SequenceMatcher(None, seg, window, autojunk=False).get_matching_blocks()
            a, b, n = common[-2] if len(common) > 1 else (0, 0, 0)  # the last block in common
            seg_left = len(seg) - (a + n)
            window = window[:b + n + seg_left]
        out += window
        pos = end
    return ok, out


def compare(readme_lines, console_lines):
    """(ok, unified diff) of a README block and a console, both normalised.
    The README's '$ ' lines are commands, not output."""
    expected = normalise([l for l in readme_lines if not l.startswith("$ ")])
    ok, got = align(expected, normalise(console_lines))
    diff = difflib.unified_diff(expected, got, "README", "console", lineterm="")
    return ok, "" if ok else "\n".join(diff)


def console(out, status, timed_out, lab, timeout):
    """QEMU's output as lines, with make's line for a failed exit status
    (how a README shows that status) or a note of the timeout."""
    lines = gradelib.split_lines(out)
    if timed_out:
        lines.append(f"[readme_output: timed out after {timeout} s]")
    elif status != 0:
        lines.append(f"make: *** [Makefile:…: lab{lab}] Error {status}")
    return lines


# ---- the READMEs ----

class Block:
    """A transcript in a README: the command its marker names, the lab it
    boots, its lines, and a problem found before running anything."""

    def __init__(self, path, line, command, lines, lab=None, problem=None):
        self.path, self.line, self.command, self.lines = path, line, command, lines
        self.lab, self.problem, self.args = lab, problem, []
        if problem is None:
            self.problem = self.parse(command)

    def name(self):
        return f"{self.path}:{self.line} {self.command}"

    def parse(self, command):
        """Sets lab and args (make's VAR=value) from the command, or returns
        what is wrong with it."""
        try:
            argv = shlex.split(command)
        except ValueError as e:
            return f"cannot parse the command: {e}"
        m = re.fullmatch(r"lab(\d)", argv[1]) if len(argv) > 1 and argv[0] == "make" else None
        if m is None:
            return "the command is not `make labN ...`"
        self.lab, self.args = int(m.group(1)), argv[2:]
        for arg in self.args:
            if arg.split("=", 1)[0] not in VARIABLES or "=" not in arg:
                return f"{arg}: a checked command sets only {', '.join(VARIABLES)}"
        shown = [l[2:] for l in self.lines if l.startswith("$ make lab")]
        wrong = [c for c in shown if c.split() != command.split()]
        if wrong:
            return f"the block shows `{wrong[0]}`, not its marker's command"
        return None


def readme_blocks(tree, path):
    """The transcripts of one README (path relative to tree)."""
    with open(os.path.join(tree, path)) as f:
        text = f.read().split("\n")
    lab = re.match(r"labs/0(\d)-", path)
    blocks, section, before, i = [], False, "", 0
    while i < len(text):
        line = text[i]
        if line.startswith("## "):
            section = bool(SECTION.match(line))
        if not line.startswith("```"):
            if line.strip():
                before = line.strip()
            i += 1
            continue
        end = next((j for j in range(i + 1, len(text)) if text[j].startswith("```")), len(text))
        lines, marker = text[i + 1:end], MARKER.match(before)
        if marker:
            blocks.append(Block(path, i + 1, marker.group(1), lines))
        elif section and not NOT_CHECKED.match(before) and any(l.startswith("$ make lab") for l in lines):
            blocks.append(Block(path, i + 1, "(no marker)", lines, lab=int(lab.group(1)) if lab else None,
                                problem="a transcript in Expected output with neither "
                                        "`<!-- output of: ... -->` nor `<!-- not checked: ... -->`"))
        before, i = "", end + 1
    return blocks


def all_blocks(tree):
    paths = ["README.md"] + sorted(os.path.join("labs", d, "README.md")
                                   for d in os.listdir(os.path.join(tree, "labs"))
                                   if os.path.exists(os.path.join(tree, "labs", d, "README.md")))
    return [b for p in paths for b in readme_blocks(tree, p)]


# ---- running ----

def check(block, tree, built):
    """(ok, report lines) of one block."""
    if block.problem:
        return False, [block.problem]
    ok, output = built[block.lab]
    if not ok:
        return False, [f"building lab {block.lab} failed:"] + output.splitlines()[-20:]
    args = ["qemu-cmd", f"LAB={block.lab}"] + block.args
    ok, cmd = runner.make(tree, *args, timeout=60)
    if not ok:
        return False, [f"make {' '.join(args)} failed:"] + cmd.splitlines()[-20:]
    out, status, timed_out = runner.run_command(cmd.strip(), BOOT_TIMEOUT, cwd=tree)
    ok, diff = compare(block.lines, console(out, status, timed_out, block.lab, BOOT_TIMEOUT))
    return ok, diff.splitlines()


def main():
    ap = argparse.ArgumentParser(description="Check the READMEs' transcripts against real boots.")
    ap.add_argument("--lab", type=int, help="only the blocks that boot this lab")
    ap.add_argument("--tree", default=ROOT, help="the checkout to check (default: this one)")
    ap.add_argument("--selftest", action="store_true", help="check the comparison on canned texts")
    args = ap.parse_args()
    if args.selftest:
        return selftest()
    runner.end_runs_on_signals()
    tree = os.path.abspath(args.tree)
    blocks = [b for b in all_blocks(tree) if args.lab is None or b.lab == args.lab]
    # One build at a time: the labs' builds share build/guest.
    built = {lab: runner.build(lab, tree) for lab in sorted({b.lab for b in blocks if not b.problem})}
    passed = failed = 0
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        for block, (ok, report) in zip(blocks, pool.map(lambda b: check(b, tree, built), blocks)):
            print(f"{'PASS' if ok else 'FAIL'} {block.name()}", flush=True)
            for line in report:
                print("    " + line)
            passed, failed = passed + ok, failed + (not ok)
    print(f"readme: {passed} passed, {failed} failed")
    return 1 if failed or not blocks else 0


# ---- selftest: the comparison on canned texts, no QEMU ----

CANNED_README = """\
$ make lab4 SMP=4
...
Boot HART ID              : 2
...
hyp: RISC-V hypervisor lab 04, booted on hart 2
hyp: hypervisor image 0x80200000-0x80242000
hyp:   hart 0              used
hyp:   hart 1              used
hyp:   hart 2   (boot)     used
hyp:   hart 3              used
hyp: hart 0 online: entered 1 time, stack top 0x802143e0, HSM state started
hyp: hart 1 online: entered 1 time, stack top 0x802183e0, HSM state started
hyp: hart 3 online: entered 1 time, stack top 0x8021c3e0, HSM state started
hyp: hart 3: 17506 additions under the test-and-set lock
hyp: hart 2: 84205 additions under the test-and-set lock
hyp: hart 0: 50723 additions under the test-and-set lock
hyp: hart 1: 35691 additions under the test-and-set lock
hyp: lock torture, test-and-set lock: 4 harts for 100 ms: counter 188125, sum of the harts' counts 188125 (fewest 17506, most 84205)
hyp: hart 1: vCPU 2 created, powered off
hyp: hart 2: vCPU 0 created, powered off
hyp: hart 3: vCPU 3 created, powered off
hyp: hart 0: vCPU 1 created, powered off
hyp: all 4 of 4 vCPUs in: the VM may run
guest: hello from hart 0, device tree at 0x87e00000
...
guest: all checks passed
hyp: guest powered off
""".split("\n")[:-1]

# Another run of the same code: hart 0 booted, the image grew, the harts
# printed in another order and counted differently.
CANNED_CONSOLE = """\
\r
OpenSBI v1.1\r
Platform HART Count       : 4\r
Boot HART ID              : 0\r
Boot HART Base ISA        : rv64imafdch\r
hyp: RISC-V hypervisor lab 04, booted on hart 0\r
hyp: hypervisor image 0x80200000-0x80243000\r
hyp:   hart 0   (boot)     used\r
hyp:   hart 1              used\r
hyp:   hart 2              used\r
hyp:   hart 3              used\r
hyp: hart 1 online: entered 1 time, stack top 0x802153e0, HSM state started\r
hyp: hart 2 online: entered 1 time, stack top 0x802193e0, HSM state started\r
hyp: hart 3 online: entered 1 time, stack top 0x8021d3e0, HSM state started\r
hyp: hart 0: 1 additions under the test-and-set lock\r
hyp: hart 1: 9 additions under the test-and-set lock\r
hyp: hart 3: 3 additions under the test-and-set lock\r
hyp: hart 2: 2 additions under the test-and-set lock\r
hyp: lock torture, test-and-set lock: 4 harts for 100 ms: counter 15, sum of the harts' counts 15 (fewest 1, most 9)\r
hyp: hart 0: vCPU 0 created, powered off\r
hyp: hart 3: vCPU 3 created, powered off\r
hyp: hart 2: vCPU 2 created, powered off\r
hyp: hart 1: vCPU 1 created, powered off\r
hyp: all 4 of 4 vCPUs in: the VM may run\r
guest: hello from hart 0, device tree at 0x87e00000\r
guest: check memory-pattern: ok\r
guest: all checks passed\r
hyp: guest powered off\r
""".encode()


def canned(edit=None, status=0):
    """The canned console as lines, with edit(lines) applied."""
    lines = console(CANNED_CONSOLE, status, False, 4, BOOT_TIMEOUT)
    return edit(lines) if edit else lines


def replaced(old, new):
    return lambda lines: [new if l == old else l for l in lines]


def selftest():
    readme_md = ("## 5. Expected output\n\n<!-- output of: make lab4 SMP=4 -->\n```\n"
                 "$ make lab4 SMP=4\nhyp: x\n```\n\n```\n$ make lab4 SMP=2\n```\n\n"
                 "<!-- not checked: a lottery -->\n```\n$ make lab4 SMP=8\n```\n\n"
                 "<!-- output of: make lab4 SMP=8 -->\n```\n$ make lab4 SMP=2\n```\n")
    tests = [
        # (name, README lines, console lines, should pass)
        ("an identical block passes", canned(), canned(), True),
        ("another boot hart, addresses, counts and order pass", CANNED_README, canned(), True),
        ("a changed line fails", CANNED_README,
         canned(replaced("guest: all checks passed", "guest: all checks passed!")), False),
        ("a line the code no longer prints fails", CANNED_README,
         canned(lambda ls: [l for l in ls if not l.startswith("hyp: all 4 of 4")]), False),
        ("a line the README lacks fails", CANNED_README,
         canned(lambda ls: ls[:-1] + ["hyp: a new line", ls[-1]]), False),
        ("a line added after the last one fails", CANNED_README,
         canned(lambda ls: ls + ["hyp: after the end"]), False),
        ("a hart line dropped from a sorted run fails", CANNED_README,
         canned(lambda ls: [l for l in ls if "vCPU 3 created" not in l]), False),
        ("a vCPU id changed in a sorted run fails", CANNED_README,
         canned(replaced("hyp: hart 3: vCPU 3 created, powered off",
                         "hyp: hart 3: vCPU 1 created, powered off")), False),
        ("an exit status the README does not show fails", CANNED_README, canned(status=1), False),
        ("an exit status the README shows passes",
         CANNED_README + ["make: *** [Makefile:…: lab4] Error 1"], canned(status=1), True),
        ("a timeout fails", CANNED_README,
         console(CANNED_CONSOLE, -9, True, 4, BOOT_TIMEOUT), False),
    ]
    passed = failed = 0
    for name, readme, lines, should_pass in tests:
        ok, diff = compare(readme, lines)
        good = ok == should_pass and (ok or diff.startswith("--- README"))
        print(f"  {'PASS' if good else 'FAIL'} {name}")
        if not good:
            print("    " + (diff or "(passed)").replace("\n", "\n    "))
        passed, failed = passed + good, failed + (not good)
    # The README convention: one block checked, one unmarked transcript
    # flagged, one exempted, and one whose `$ make` line is not its marker's.
    with tempfile.TemporaryDirectory() as tree:
        with open(os.path.join(tree, "README.md"), "w") as f:
            f.write(readme_md)
        got = [(b.command, b.problem is None) for b in readme_blocks(tree, "README.md")]
    good = got == [("make lab4 SMP=4", True), ("(no marker)", False), ("make lab4 SMP=8", False)]
    print(f"  {'PASS' if good else 'FAIL'} the README convention is parsed")
    if not good:
        print(f"    got {got}")
    passed, failed = passed + good, failed + (not good)
    print(f"readme selftest: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
