"""The grader's engine: boots a lab in QEMU and judges its console output.

A Case says what to boot (a lab, or "native" for the test guest on OpenSBI
alone) and which checks its console must pass. The checks work on lines:
the console output split at '\\n' with every '\\r' removed. Failures are
reported in the style of xv6's gradelib: the console lines around the spot,
marked GOOD (matched), BAD (must not appear), NEAR (the line most like one
that never came) or MISSING (never matched).

A check may need others (Check.needs): when both fail, the report shows the
needed one, the cause, with its console lines, and lists the others on one
line as "could not pass because of it", so that one mistake reads as one.

Which tree is which: the grader's own checkout (ROOT) supplies the
Makefile, the test guests, the crafted device trees and Linux; the tree being
graded (a student's, with --tree) supplies only the hypervisor's sources.
So a student can change how their hypervisor is built from labs/ and
common/, but not the guest that tests it nor the QEMU command that boots it.

Python 3 standard library only, so that the grader runs wherever QEMU does.
"""
import difflib
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

import stall

CONTEXT = 2          # console lines shown either side of a marked line
TAIL = 5             # last console lines shown when a line never appeared
MAX_MARKED = 40      # marked lines shown at most, so a flood stays readable
MAX_WIDTH = 300      # characters shown of one console line
MAX_OUTPUT = 8 << 20  # console bytes kept; a runaway guest must not eat memory
MAX_SHOWN = 14       # context lines of one cause in the short report (-v: all)
MAX_CAUSES = 3       # causes shown with their context in the short report
NEAR_RATIO = 0.6     # how alike a line must be to a missing one to be shown as NEAR
BUILD_TIMEOUT = 600
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The platforms (the Makefile's PLATFORM): a QEMU and its OpenSBI. make
# takes PLATFORM from the environment, so the one set here (grade.py
# --platform) reaches every make the grader runs.
PLATFORMS = ("qemu7", "qemu10")
DEFAULT_PLATFORM = "qemu7"


def platform():
    return os.environ.get("PLATFORM") or DEFAULT_PLATFORM


def set_platform(name):
    assert name in PLATFORMS, f"platform {name!r}: the platforms are {', '.join(PLATFORMS)}"
    os.environ["PLATFORM"] = name


def platform_dir(name):
    """A build/ directory per platform: build/grade for the default one,
    build/grade-qemu10 for qemu10 (the Makefile does the same for build/dtb)."""
    return name if platform() == DEFAULT_PLATFORM else f"{name}-{platform()}"


# ---- checks ----

class Check:
    """One thing the console must show. judge(result) returns (ok, expected,
    context): what was wanted, and the marked console lines shown if not.
    needs: the names of the checks of the same case that must pass for this
    one to have a chance (checks.py sets them)."""

    def __init__(self, name, points, judge, needs=()):
        self.name, self.points, self.judge, self.needs = name, points, judge, tuple(needs)


def matching(lines, regex):
    return [i for i, line in enumerate(lines) if re.search(regex, line)]


def Ordered(name, regexes, points=1):
    """Each regex matches some line, in this order."""
    def judge(r):
        good, start = [], 0
        for rx in regexes:
            i = next((i for i in range(start, len(r.lines)) if re.search(rx, r.lines[i])), None)
            if i is None:
                want = ", then ".join(f"'{x}'" for x in regexes)
                near = nearest(r.lines, rx, start)
                return False, f"lines matching {want}", show(r.lines, good, near=near,
                                                              tail=not near, missing=[rx])
            good.append(i)
            start = i + 1
        return True, "", []
    return Check(name, points, judge)


def Count(name, regex, n=None, at_least=None, points=1):
    """Exactly n lines match regex; or, with at_least, at least that many."""
    assert (n is None) != (at_least is None), "give n or at_least"

    def judge(r):
        hits = matching(r.lines, regex)
        ok = len(hits) == n if n is not None else len(hits) >= at_least
        want = f"exactly {n}" if n is not None else f"at least {at_least}"
        # Too many: the extra lines are the culprits. Too few: show the end.
        context = (show(r.lines, bad=hits) if n is not None and len(hits) > n
                   else show(r.lines, good=hits, tail=True))
        return ok, f"{want} lines matching '{regex}', got {len(hits)}", context
    return Check(name, points, judge)


def Absent(name, regex, points=1):
    """No line matches regex."""
    def judge(r):
        bad = matching(r.lines, regex)
        return not bad, f"no line matching '{regex}'", show(r.lines, bad=bad)
    return Check(name, points, judge)


def ExitStatus(name, code, points=1):
    """QEMU exits with this status (the guest's SBI shutdown may decide it)."""
    def judge(r):
        got = "it timed out" if r.timed_out else f"got {r.status}"
        return (r.status == code and not r.timed_out,
                f"QEMU exits with status {code}, {got}", show(r.lines, tail=True))
    return Check(name, points, judge)


def Custom(name, fn, points=1):
    """fn(lines, case) returns (ok, message), for what a regex cannot say,
    such as comparing numbers parsed out of lines; or (ok, message, bad):
    bad, the indexes of the lines that prove the failure, shown instead of
    the console's tail."""
    def judge(r):
        ok, message, *bad = fn(r.lines, r.case)
        bad = bad[0] if bad else []
        return ok, message, show(r.lines, bad=bad, tail=not bad)
    return Check(name, points, judge)


def literal_text(regex):
    """The plain text of a regex, roughly: anchors, classes and groups'
    syntax dropped, escapes undone. Only for comparing lines with it."""
    return re.sub(r"\\[dDsSwW][+*?]?|\[[^\]]*\][+*?]?|\.[+*?]?|\\(.)|[()|^$+*?{}]",
                  lambda m: m.group(1) or "", regex)


def nearest(lines, regex, start=0):
    """The index of the line from `start` on most like what regex wants
    (difflib's ratio at least NEAR_RATIO), in a list; [] if none is."""
    want, best, where = literal_text(regex), NEAR_RATIO, []
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(want)
    for i in range(start, len(lines)):
        matcher.set_seq1(lines[i][:MAX_WIDTH])
        if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best \
                and matcher.ratio() > best:
            best, where = matcher.ratio(), [i]
    return where


def show(lines, good=(), bad=(), tail=False, missing=(), near=()):
    """The console lines around the marked ones, xv6-style, with '...' for
    the lines left out; with tail, also the last lines of the console."""
    if not lines:
        return ["(no console output)"] + [f"MISSING '{rx}'" for rx in missing]
    marks = {i: "GOOD" for i in good}
    marks.update({i: "NEAR" for i in near})
    marks.update({i: "BAD " for i in bad})
    shown = set()
    for i in sorted(marks)[:MAX_MARKED]:
        shown.update(range(i - CONTEXT, i + CONTEXT + 1))
    if tail:
        shown.update(range(len(lines) - TAIL, len(lines)))
    out, last = [], -1
    for i in sorted(n for n in shown if 0 <= n < len(lines)):
        if i != last + 1:
            out.append("...")
        out.append(f"{marks.get(i, '    ')} {printable(lines[i])}")
        last = i
    if len(marks) > MAX_MARKED:
        out.append(f"... and {len(marks) - MAX_MARKED} more marked lines")
    elif last != len(lines) - 1:
        out.append("...")
    return out + [f"MISSING '{rx}'" for rx in missing]


def printable(line):
    """The line with control characters (escape sequences, NULs) shown as
    '?', so that a garbled console cannot garble the report."""
    text = "".join(c if c.isprintable() else "?" for c in line[:MAX_WIDTH])
    return text + ("..." if len(line) > MAX_WIDTH else "")


# ---- cases and their results ----

class Case:
    """What to boot and what its console must show. lab is an int or
    "native"; guest is a payload path relative to the tree (None: the test
    guest); initrd, a file QEMU loads for it (make's INITRD); exit_status,
    when not None, adds an ExitStatus check; requires, a case and checks
    that must pass first (a Linux boot needs what the test guest checks);
    stall, seconds of silence that end the run with a diagnosis."""

    def __init__(self, name, lab, smp, checks, guest=None, qemu_extra="",
                 timeout=30, exit_status=None, initrd=None, requires=None, stall=None):
        assert re.fullmatch(r"[\w.-]+", name), f"case name {name!r}: it names a log file"
        self.name, self.lab, self.smp, self.guest = name, lab, smp, guest
        self.initrd = initrd
        # (case name, [check names]): boot only if that case, graded in the
        # same run, passed those checks; else skip, and say why.
        self.requires = requires
        self.qemu_extra, self.timeout, self.exit_status = qemu_extra, timeout, exit_status
        # Seconds of console silence after which the run is stopped, and
        # QEMU asked where the harts are (stall.py); None: wait the timeout.
        self.stall = stall
        self.checks = list(checks)
        if exit_status is not None:
            self.checks.append(ExitStatus(f"exit status {exit_status}", exit_status))


class Result:
    """One run of a case: its console lines, how QEMU ended, and each check's
    outcome as (name, points, ok, expected, context)."""

    def __init__(self, case, lines=(), status=None, timed_out=False, log=None, seconds=0.0):
        self.case, self.lines, self.status, self.timed_out = case, list(lines), status, timed_out
        self.log, self.outcomes, self.seconds = log, [], seconds
        self.needs = {}  # check name -> the names of the checks it needs

    def add(self, name, points, ok, expected="", context=(), needs=()):
        self.outcomes.append((name, points, ok, expected, list(context)))
        self.needs[name] = tuple(needs)

    def tally(self):
        """(checks passed, checks failed, points earned, points possible)"""
        ok = [o for o in self.outcomes if o[2]]
        return (len(ok), len(self.outcomes) - len(ok),
                sum(o[1] for o in ok), sum(o[1] for o in self.outcomes))

    def failed_names(self):
        return [o[0] for o in self.outcomes if not o[2]]

    def causes(self):
        """The failed checks grouped by what made them fail: a list of
        (cause, [the failed checks that need it]), the causes in check order.
        A cause is a failed check that needs no failed check; a failed check
        that needs several causes goes with the first."""
        failed = self.failed_names()
        order = {name: i for i, name in enumerate(failed)}

        def roots(name, seen):
            below = [n for n in self.needs.get(name, ()) if n in order and n not in seen]
            seen.update(below)
            found = [r for n in below for r in roots(n, seen)]
            return found or ([name] if not any(n in order for n in self.needs.get(name, ()))
                             else [])
        groups = {}
        for name in failed:
            found = sorted(set(roots(name, {name})), key=order.get)
            cause = found[0] if found else name
            groups.setdefault(cause, [])
            if cause != name:
                groups[cause].append(name)
        return sorted(groups.items(), key=lambda g: order[g[0]])

    def log_line(self):
        rel = os.path.relpath(self.log)
        return f"log: {self.log if rel.startswith('..') else rel}"

    def report(self, verbose=False, shown=None):
        """The case's failures, cause first: each cause with the console
        lines that show it, then the checks that failed because of it on
        one line. verbose: every check, passed or not, with all its lines.
        shown: {cause: case} of the causes whose lines an earlier case's
        report showed; they are not shown again, and this report's are added."""
        if verbose:
            out = [f"== {self.case.name} =="]
            for name, _, ok, expected, context in self.outcomes:
                out.append(f"  PASS {name}" if ok else f"  FAIL {name}: {expected}")
                if not ok:
                    out += ["    " + line for line in context]
                    if self.log and context:
                        out.append("    " + self.log_line())
            return "\n".join(out)
        passed, failed, points, possible = self.tally()
        out = [f"== {self.case.name}: {passed} of {passed + failed} checks passed, "
               f"{points}/{possible} points =="]
        outcome = {o[0]: o for o in self.outcomes}
        for k, (cause, because) in enumerate(self.causes()):
            _, _, _, expected, context = outcome[cause]
            out.append(f"  FAIL {cause}: {expected}")
            if shown is not None and cause in shown:
                out.append(f"    (console lines like {shown[cause]}'s above; the log has them)")
            elif k < MAX_CAUSES:
                lines = context if len(context) <= MAX_SHOWN else \
                    context[:MAX_SHOWN - 1] + ["... (grade.py -v shows the rest)"]
                out += ["    " + line for line in lines]
            if shown is not None and context:
                shown.setdefault(cause, self.case.name)
            if because:
                out.append(f"    could not pass because of it: {', '.join(because)}")
        if self.log:
            out.append("  " + self.log_line())
        return "\n".join(out)


def judge(case, lines, status=0, timed_out=False, log=None, seconds=0.0, stalled=None):
    """Applies the case's checks to console lines; the grader without QEMU.
    stalled: the lines of stall.diagnose() if the run was stopped for
    silence; the check 'progress' then fails, the cause of the checks that
    need anything (the others, such as a panic's, say more)."""
    result = Result(case, lines, status, timed_out, log, seconds)
    after = ()
    if stalled is not None:
        # QEMU's own last words ("terminating on signal 15") are ours, not the guest's.
        said = [line for line in lines if not re.match(r"qemu-system-\w+: terminating on signal", line)]
        tail = [f"     {printable(line)}" for line in said[-3:]]
        result.add("progress", 0, False,
                   f"console output at least every {case.stall} s; it stopped, and the run was "
                   f"ended early (its timeout is {case.timeout} s)",
                   ["the console's last lines:"] + tail + ["where the harts were then (QEMU):"]
                   + [f"  {line}" for line in stalled],
                   needs=[c.name for c in case.checks if not c.needs])
        after = ("progress",)
    if timed_out:
        # The checks still run, to show how far the guest got before it hung.
        # A hang is the cause only when no check says more.
        result.add("timeout", 0, False, f"timed out after {case.timeout} s", show(lines, tail=True),
                   needs=[c.name for c in case.checks])
    for check in case.checks:
        needs = check.needs + after if check.needs else ()
        try:
            result.add(check.name, check.points, *check.judge(result), needs=needs)
        except Exception as e:  # a broken Custom check fails, not the grader
            result.add(check.name, check.points, False, f"the check raised {e!r}", needs=needs)
    return result


def split_lines(data):
    """Console bytes to lines. Bytes that are not UTF-8 become U+FFFD."""
    lines = data.decode("utf-8", errors="replace").replace("\r", "").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


# ---- running commands ----

def _drain(pipe, chunks, last):
    """Reads the pipe to its end, so that the writer never blocks on it, but
    keeps only about MAX_OUTPUT bytes. last[0]: when output last came."""
    kept = 0
    for chunk in iter(lambda: pipe.read1(65536), b""):
        last[0] = time.monotonic()
        if kept < MAX_OUTPUT:
            chunks.append(chunk)
            kept += len(chunk)


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass  # the group is already gone


_running = set()  # the process groups of the commands running now


def end_runs_on_signals():
    """Makes Ctrl-C (SIGINT) and SIGTERM end the runs in progress, then the
    program. The runs are in sessions of their own, out of reach of both."""
    def handler(signum, frame):
        for pgid in list(_running):
            _signal_group(pgid, signal.SIGKILL)
        os._exit(128 + signum)
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def run_command(cmd, timeout, cwd=None, env=None, watch=None):
    """Runs cmd (a shell string, or an argv list) in a new process group,
    with stdin /dev/null and stderr joined to stdout. Returns (output bytes,
    exit status, timed out). On timeout the whole group gets SIGTERM, then
    SIGKILL 2 s later: with shell=True QEMU is the shell's child, and killing
    the shell alone would leave QEMU running. watch, if given, is called
    every half second with the seconds since the last output and the
    output's chunks so far; when it returns true, the run is ended the same
    way, but not as a timeout."""
    proc = subprocess.Popen(cmd, shell=isinstance(cmd, str), cwd=cwd, env=env,
                            start_new_session=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _running.add(proc.pid)
    chunks, last = [], [time.monotonic()]
    reader = threading.Thread(target=_drain, args=(proc.stdout, chunks, last))
    reader.start()
    deadline = time.monotonic() + timeout
    stopped = False
    # The pipe closes when every process in the run has exited.
    while reader.is_alive() and time.monotonic() < deadline and not stopped:
        left = deadline - time.monotonic()
        reader.join(max(0.0, min(left, 0.5) if watch else left))
        stopped = watch is not None and reader.is_alive() and \
            watch(time.monotonic() - last[0], chunks)
    try:
        proc.wait(0.1 if stopped else max(0.1, deadline - time.monotonic()))
        timed_out = reader.is_alive()
    except subprocess.TimeoutExpired:
        timed_out = True
    if timed_out:
        # The shell is not yet reaped (or some process still holds the pipe),
        # so its pid still names our group and no one else's.
        _signal_group(proc.pid, signal.SIGTERM)
        reader.join(2)
        _signal_group(proc.pid, signal.SIGKILL)
    status = proc.wait()
    _running.discard(proc.pid)
    reader.join()
    proc.stdout.close()
    return b"".join(chunks), status, timed_out and not stopped


def make_env():
    """The environment for make: without the variables of an enclosing make
    (`make test` runs us), so that SMP=, GUEST= or -j given to it cannot
    change what the grader builds and boots."""
    env = dict(os.environ)
    for var in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SMP", "LAB", "GUEST",
                "GUEST_MEM", "QEMU_EXTRA"):
        env.pop(var, None)
    return env


def make(tree, *args, timeout=BUILD_TIMEOUT, support=ROOT):
    """Runs make in tree with the Makefile of support (the grader's
    checkout). Returns (ok, output text)."""
    out, status, timed_out = run_command(["make", "-s", "--no-print-directory", "-C", tree,
                                          "-f", os.path.join(support, "Makefile"), *args],
                                         timeout, env=make_env())
    text = out.decode("utf-8", errors="replace")
    if timed_out:
        text += f"\n[grader: make timed out after {timeout} s]"
    return status == 0 and not timed_out, text


def build(lab, tree, support=ROOT):
    """Builds a lab's hypervisor in tree (nothing for "native": the test
    guest is support's). Returns (ok, output)."""
    if lab == "native":
        return True, ""
    return make(tree, f"build/lab{lab}/hyp.elf", support=support)


def in_support(path, support):
    """A path under build/ names a file of the grader's checkout (a test
    guest, a crafted device tree, Linux): made absolute there."""
    return os.path.join(support, path) if path.startswith("build/") else path


def run_case(case, tree, support=ROOT):
    """Boots the case's lab (already built) and judges its console. The test
    guest and every build/ file the case names come from support."""
    guest = case.guest or "build/guest/guest.bin"
    extra = " ".join(in_support(word, support) for word in case.qemu_extra.split())
    args = ["qemu-cmd-native" if case.lab == "native" else "qemu-cmd",
            f"SMP={case.smp}", f"QEMU_EXTRA={extra}", f"GUEST={in_support(guest, support)}"]
    if case.lab != "native":
        args.append(f"LAB={case.lab}")
    if case.initrd is not None:
        args.append(f"INITRD={in_support(case.initrd, support)}")
    if case.stall is None:
        ok, cmd = make(tree, *args, timeout=60, support=support)
        if not ok:
            return not_run(case, "qemu command", "make " + " ".join(args) + " failed", cmd)
        return execute(case, cmd.strip(), tree)
    # A QMP socket to ask QEMU where the harts are if the console falls
    # silent; in a short directory of its own (a socket path is at most
    # 107 bytes).
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        qmp = os.path.join(tmp, "qmp")
        args[2] = "QEMU_EXTRA=" + " ".join(filter(None, [extra, f"-qmp unix:{qmp},server=on,wait=off"]))
        ok, cmd = make(tree, *args, timeout=60, support=support)
        if not ok:
            return not_run(case, "qemu command", "make " + " ".join(args) + " failed", cmd)
        hyp = os.path.join(tree, "build", f"lab{case.lab}", "hyp.elf")
        guest_map = os.path.join(os.path.dirname(in_support(guest, support)), "System.map")
        return execute(case, cmd.strip(), tree, StallWatch(case, qmp, hyp, guest_map))


class StallWatch:
    """run_command's watch for a case with a stall limit: once the console
    has been silent that long, it asks QEMU where the harts are (stall.py),
    keeps the diagnosis in .found, and ends the run."""

    def __init__(self, case, qmp, hyp_elf, guest_map):
        self.case, self.qmp, self.hyp_elf, self.guest_map = case, qmp, hyp_elf, guest_map
        self.found = None

    def __call__(self, idle, chunks):
        if idle < self.case.stall:
            return False
        shots = stall.sample(self.qmp)
        self.found = stall.diagnose(shots, split_lines(b"".join(chunks)),
                                    stall.elf_functions(self.hyp_elf),
                                    stall.system_map(self.guest_map))
        return True


def execute(case, cmd, tree, watch=None):
    """Runs the shell command cmd in tree as the case's boot: saves the
    console to build/grade/<case>.log there (build/grade-<platform> on
    another platform), then judges it."""
    start = time.monotonic()
    out, status, timed_out = run_command(cmd, case.timeout, cwd=tree, watch=watch)
    seconds = time.monotonic() - start
    log = os.path.join(tree, "build", platform_dir("grade"), case.name + ".log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "wb") as f:
        f.write(out)
    return judge(case, split_lines(out), status, timed_out, log, seconds,
                 stalled=watch.found if watch else None)


def not_run(case, step, expected, output):
    """A case that could not boot: `step` failed, showing make's output, and
    so does every check, so that the points possible stay the same."""
    result = Result(case)
    result.add(step, 0, False, expected, output.splitlines()[:30])
    for check in case.checks:
        result.add(check.name, check.points, False, f"not run: the {step} failed", needs=[step])
    return result


_support_lock = threading.Lock()
_support_built = {}  # support tree -> (ok, output) of its `make support`


def build_support(support):
    """Builds the grader's test guests, device trees and Linux, once per
    process: mutants.py grades many trees at once, all with one support."""
    with _support_lock:
        if support not in _support_built:
            _support_built[support] = make(support, "support", support=support)
        return _support_built[support]


def grade(cases, tree, jobs=1, stop=None, support=ROOT):
    """Builds each lab of the cases once, then runs the cases, `jobs` at a
    time, and yields their results in case order. If stop(names of the
    checks failed so far) is true, cases not yet started yield None: this
    saves mutants.py from waiting on every timeout of a hanging mutant."""
    tree, support = os.path.abspath(tree), os.path.abspath(support)
    ready = build_support(support)
    built = {}
    for case in cases:
        if case.lab not in built:
            ok, output = build(case.lab, tree, support)
            built[case.lab] = (ok, output) if ready[0] else (False, ready[1])
    failed, lock = set(), threading.Lock()
    # Each case's result, once it is there. The pool starts the cases in
    # order, so a case that waits for an earlier one cannot deadlock.
    done = {case.name: (threading.Event(), []) for case in cases}
    order = {case.name: i for i, case in enumerate(cases)}

    def one(case):
        with lock:
            stopped = stop is not None and stop(failed)
        result = None if stopped else run_or_skip(case)
        if result is not None:
            with lock:
                failed.update(result.failed_names())
        event, box = done[case.name]
        box.append(result)
        event.set()
        return result

    def run_or_skip(case):
        ok, output = built[case.lab]
        if not ok:
            return not_run(case, "build", f"building lab {case.lab} failed", output)
        unmet = unmet_requirement(case)
        if unmet:
            return not_run(case, "requirement", unmet, "")
        return run_case(case, tree, support)

    def unmet_requirement(case):
        """Why the case's requirement is not met; "" if it is, or if the
        case it names is not graded before it in this run."""
        if case.requires is None:
            return ""
        name, needed = case.requires
        if hasattr(case, "run"):  # --repeat: the same run of the required case
            name = f"{name}-run{case.run}"
        if order.get(name, len(cases)) >= order[case.name]:
            return ""
        event, box = done[name]
        event.wait()
        bad = [c for c in needed if box[0] is not None and c in box[0].failed_names()]
        return f"skipped: {name} failed {', '.join(bad)}" if bad else ""

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        yield from pool.map(one, cases)


# ---- checkouts ----

def checkout_files(root):
    """The files of the checkout at root as git sees them, relative to it:
    the tracked ones and the untracked ones not ignored, so that a change
    not yet committed counts. A tracked file deleted in the work tree is
    left out. Outside a git checkout (a tarball, a handout not yet
    committed), every file but those under build/ and .git/."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return sorted(os.path.relpath(os.path.join(top, f), root)
                      for top, dirs, files in os.walk(root)
                      if not os.path.relpath(top, root).split(os.sep)[0] in ("build", ".git")
                      for f in files)
    return [n for n in out.decode().split("\0") if n and os.path.lexists(os.path.join(root, n))]


# ---- the grader's own tests ----

def run_selftests(namespace, label):
    """Runs every test_* function of a module's namespace (its globals()):
    a test fails by raising. Prints PASS or FAIL with the traceback, then
    '<label>: N passed, N failed'. Returns the exit status."""
    passed = failed = 0
    for name, test in [(n, f) for n, f in namespace.items() if n.startswith("test_")]:
        try:
            test()
            print(f"  PASS {name}")
            passed += 1
        except Exception:
            print(f"  FAIL {name}")
            print("    " + traceback.format_exc().replace("\n", "\n    "))
            failed += 1
    print(f"{label}: {passed} passed, {failed} failed")
    return 1 if failed else 0
