"""The grader's judge: what a lab's console must show, and what it earns.

A Case says what to boot (a lab, or "native" for the test guest on OpenSBI
alone) and which checks its console must pass. The checks work on lines:
the console output split at '\\n' with every '\\r' removed. Failures are
reported in the style of xv6's gradelib: the console lines around the spot,
marked GOOD (matched), BAD (must not appear), NEAR (the line most like one
that never came) or MISSING (never matched).

A check may need others (Check.needs): when both fail, the report shows the
needed one, the cause, with its console lines, and lists the others on one
line as "could not pass because of it", so that one mistake reads as one.

Judging needs no process: judge() takes the console's lines and how QEMU
ended, and selftest.py feeds it canned consoles. Starting processes (make,
QEMU under a timeout, the pool of boots in grade()) is runner.py's, which
imports this module; this one does not import it at load time.

Python 3 standard library only, so that the grader runs wherever QEMU does.
"""
import collections
import copy
import difflib
import os
import re
import traceback

CONTEXT = 2          # console lines shown either side of a marked line
TAIL = 5             # last console lines shown when a line never appeared
MAX_MARKED = 40      # marked lines shown at most, so a flood stays readable
MAX_WIDTH = 300      # characters shown of one console line
MAX_SHOWN = 14       # context lines of one cause in the short report (-v: all)
MAX_CAUSES = 3       # causes shown with their context in the short report
NEAR_RATIO = 0.6     # how alike a line must be to a missing one to be shown as NEAR
TRACE_PREFIX = "trace: "  # the lines of a trace build's dump (grader/trace-format.md)
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
    one to have a chance (checks.py sets them). trace: the check reads the
    hypervisor's trace dump (trace_checks.py), so it sees every console line;
    the others of a trace case see the console without the dump's lines."""

    trace = False

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


# ---- the hypervisor's exit table (vcpu_print_exits, printed at power-off) ----

# The rows the hypervisor's exit table may have (vcpu.h, vcpu_exit_name), in
# its order; the grader's exits check and make bench's table both use it.
EXIT_CAUSES = ("sbi base", "sbi legacy", "sbi dbcn", "sbi srst", "sbi time", "sbi ipi",
               "sbi rfence", "sbi hsm", "sbi other", "timer interrupt", "IPI (kick)",
               "guest page fault", "virtual instruction", "other")
EXIT_HEADER = re.compile(r"^hyp: exits by cause((?:\s+vcpu\d+)+)(\s+total)?\s*$")
EXIT_ROW = re.compile(r"^hyp:   (\S.*?)((?:\s+\d+)+)\s*$")


def exit_table(lines):
    """The last exit table on the console, as (start, end, columns, rows):
    lines[start:end] are its lines, columns the vCPU names, rows a dict
    cause -> [count per vCPU]. A table cut short (no 'all' row) gives what
    was there. None if there is none, or a row does not fit the header."""
    starts = [i for i, line in enumerate(lines) if EXIT_HEADER.match(line)]
    if not starts:
        return None
    start = starts[-1]
    m = EXIT_HEADER.match(lines[start])
    columns = m.group(1).split()
    total = m.group(2) is not None
    rows, end = {}, start + 1
    while end < len(lines):
        row = EXIT_ROW.match(lines[end])
        if not row:
            break
        counts = [int(x) for x in row.group(2).split()]
        if len(counts) != len(columns) + total or (total and sum(counts[:-1]) != counts[-1]):
            return None
        rows[row.group(1)] = counts[:len(columns)]
        end += 1
        if row.group(1) == "all":
            break
    return start, end, columns, rows


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
    stall, seconds of silence that end the run with a diagnosis; trace,
    boot the lab's trace build (make ... TRACE=1, labs 3-5), whose dump
    (the 'trace: ' lines) only the trace checks see."""

    def __init__(self, name, lab, smp, checks, guest=None, qemu_extra="",
                 timeout=30, exit_status=None, initrd=None, requires=None, stall=None,
                 trace=False):
        assert re.fullmatch(r"[\w.-]+", name), f"case name {name!r}: it names a log file"
        self.name, self.lab, self.smp, self.guest = name, lab, smp, guest
        self.trace = trace
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


# One check's outcome in a Result: its name and points, whether it passed,
# what it expected and the console lines that show a failure. A tuple still,
# so that code which unpacks the five fields keeps working.
Outcome = collections.namedtuple("Outcome", "name points ok expected context")


class Result:
    """One run of a case: its console lines, how QEMU ended, and each check's
    Outcome, in check order."""

    def __init__(self, case, lines=(), status=None, timed_out=False, log=None, seconds=0.0):
        self.case, self.lines, self.status, self.timed_out = case, list(lines), status, timed_out
        self.log, self.outcomes, self.seconds = log, [], seconds
        self.needs = {}  # check name -> the names of the checks it needs

    def add(self, name, points, ok, expected="", context=(), needs=()):
        self.outcomes.append(Outcome(name, points, ok, expected, list(context)))
        self.needs[name] = tuple(needs)

    def tally(self):
        """(checks passed, checks failed, points earned, points possible)"""
        ok = [o for o in self.outcomes if o.ok]
        return (len(ok), len(self.outcomes) - len(ok),
                sum(o.points for o in ok), sum(o.points for o in self.outcomes))

    def failed_names(self):
        return [o.name for o in self.outcomes if not o.ok]

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
            for o in self.outcomes:
                out.append(f"  PASS {o.name}" if o.ok else f"  FAIL {o.name}: {o.expected}")
                if not o.ok:
                    out += ["    " + line for line in o.context]
                    if self.log and o.context:
                        out.append("    " + self.log_line())
            return "\n".join(out)
        passed, failed, points, possible = self.tally()
        out = [f"== {self.case.name}: {passed} of {passed + failed} checks passed, "
               f"{points}/{possible} points =="]
        outcome = {o.name: o for o in self.outcomes}
        for k, (cause, because) in enumerate(self.causes()):
            context = outcome[cause].context
            out.append(f"  FAIL {cause}: {outcome[cause].expected}")
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
    # A trace build's dump is for the trace checks: the others judge the
    # console a normal build prints.
    plain = result
    if getattr(case, "trace", False):
        plain = copy.copy(result)
        plain.lines = without_dump(lines)
    for check in case.checks:
        needs = check.needs + after if check.needs else ()
        try:
            result.add(check.name, check.points, *check.judge(result if check.trace else plain),
                       needs=needs)
        except Exception as e:  # a broken Custom check fails, not the grader
            result.add(check.name, check.points, False, f"the check raised {e!r}", needs=needs)
    return result


def without_dump(lines):
    """The console without a trace build's dump: its 'trace: ' lines, and,
    when the run was ended in the middle of the dump (a timeout), its last
    line, cut, with QEMU's last words glued to it."""
    out, dumping = [], False
    for line in lines:
        if line.startswith(TRACE_PREFIX):
            dumping = True
            continue
        last_words = re.search(r"qemu-system-\w+: terminating on signal", line)
        if dumping and last_words and (last_words.start() == 0 or line.startswith("t")):
            continue
        out.append(line)
    return out


def not_run(case, step, expected, output):
    """A case that could not boot: `step` failed, showing make's output, and
    so does every check, so that the points possible stay the same."""
    result = Result(case)
    result.add(step, 0, False, expected, output.splitlines()[:30])
    for check in case.checks:
        result.add(check.name, check.points, False, f"not run: the {step} failed", needs=[step])
    return result


def split_lines(data):
    """Console bytes to lines. Bytes that are not UTF-8 become U+FFFD."""
    lines = data.decode("utf-8", errors="replace").replace("\r", "").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


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

