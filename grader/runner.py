"""The grader's runner: the processes the grader starts.

gradelib.py judges: the checks, the cases and what a console earns, from
its lines alone. This module runs: make (a lab's build, the QEMU command
of a case), QEMU under a timeout, git for a checkout's files. run_command
runs make and QEMU, each in a process group of its own, killed whole on a
timeout, and ended by Ctrl-C or SIGTERM once end_runs_on_signals is set.
The bench (bench/bench.py) boots its QEMU runs with it too.

grade() is here too, since it starts processes: it builds each lab once
(and its trace build once, for the cases that boot it: Case.trace),
boots the cases in a pool and hands each console to gradelib.judge. So
this module imports gradelib; gradelib does not import it at load time
(judging needs no process).

Which tree is which: the grader's own checkout (support; by default
gradelib.ROOT) supplies the Makefile, the test guests, the crafted device
trees and Linux; the tree being graded (a student's, with --tree)
supplies only the hypervisor's sources. So a student can change how their
hypervisor is built from labs/ and common/, but not the guest that tests
it nor the QEMU command that boots it.

Python 3 standard library only, so that the grader runs wherever QEMU does.
"""
import os
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import gradelib
import stall

MAX_OUTPUT = 8 << 20  # console bytes kept; a runaway guest must not eat memory
BUILD_TIMEOUT = 600


# ---- processes ----

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


def _drain(pipe, chunks, last, start, on_line, raised):
    """Reads the pipe to its end, so that the writer never blocks on it, but
    keeps only about MAX_OUTPUT bytes. last[0]: when output last came.
    on_line (see run_command) is told the lines of the output kept; once it
    has raised (into raised), it is not called again."""
    kept, pending = 0, []  # pending: the kept output after its last newline
    for chunk in iter(lambda: pipe.read1(65536), b""):
        last[0] = time.monotonic()
        if kept >= MAX_OUTPUT:
            continue
        chunks.append(chunk)
        kept += len(chunk)
        if on_line is None:
            continue
        cut = chunk.rfind(b"\n") + 1
        if cut:
            _tell(on_line, b"".join(pending) + chunk[:cut], start, raised)
            pending = []
        pending.append(chunk[cut:])
    if on_line is not None:
        _tell(on_line, b"".join(pending), start, raised)


def _tell(on_line, data, start, raised):
    """Calls on_line with each line of data, unless it raised before."""
    try:
        for line in [] if raised else gradelib.split_lines(data):
            on_line(line, time.monotonic() - start)
    except Exception as e:  # run_command raises it once the run is over
        raised.append(e)


def run_command(cmd, timeout, cwd=None, env=None, watch=None, on_line=None):
    """Runs cmd (a shell string, or an argv list) in a new process group,
    with stdin /dev/null and stderr joined to stdout. Returns (output bytes,
    exit status, timed out). On timeout the whole group gets SIGTERM, then
    SIGKILL 2 s later: with shell=True QEMU is the shell's child, and killing
    the shell alone would leave QEMU running. watch, if given, is called
    every half second with the seconds since the last output and the
    output's chunks so far; when it returns true, the run is ended the same
    way, but not as a timeout. on_line, if given, is called with each line
    of the output (as gradelib.split_lines cuts it) and the seconds since
    the start, as soon as the line is complete: the bench times Linux's boot
    by it. It runs in the thread that reads the output, which waits for it.
    If on_line raises, run_command raises that once the run is over."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, shell=isinstance(cmd, str), cwd=cwd, env=env,
                            start_new_session=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _running.add(proc.pid)
    chunks, last, raised = [], [time.monotonic()], []
    reader = threading.Thread(target=_drain,
                              args=(proc.stdout, chunks, last, start, on_line, raised))
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
    if raised:
        raise raised[0]
    return b"".join(chunks), status, timed_out and not stopped


# ---- make ----

def make_env():
    """The environment for make: without the variables of an enclosing make
    (`make test` runs us), so that SMP=, GUEST= or -j given to it cannot
    change what the grader builds and boots."""
    env = dict(os.environ)
    for var in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SMP", "LAB", "GUEST",
                "GUEST_MEM", "QEMU_EXTRA", "TRACE"):
        env.pop(var, None)
    return env


def make(tree, *args, timeout=BUILD_TIMEOUT, support=gradelib.ROOT):
    """Runs make in tree with the Makefile of support (the grader's
    checkout). Returns (ok, output text)."""
    out, status, timed_out = run_command(["make", "-s", "--no-print-directory", "-C", tree,
                                          "-f", os.path.join(support, "Makefile"), *args],
                                         timeout, env=make_env())
    text = out.decode("utf-8", errors="replace")
    if timed_out:
        text += f"\n[grader: make timed out after {timeout} s]"
    return status == 0 and not timed_out, text


def lab_elf(lab, trace=False):
    """Where make builds a lab's hypervisor, relative to the tree: with
    trace, its trace build (TRACE=1: build/labN-trace)."""
    return f"build/lab{lab}{'-trace' if trace else ''}/hyp.elf"


def build(lab, tree, support=gradelib.ROOT, trace=False):
    """Builds a lab's hypervisor in tree (nothing for "native": the test
    guest is support's); with trace, its trace build (make ... TRACE=1).
    Returns (ok, output)."""
    if lab == "native":
        return True, ""
    return make(tree, lab_elf(lab, trace), *(["TRACE=1"] if trace else []), support=support)


_support_lock = threading.Lock()
_support_built = {}  # support tree -> (ok, output) of its `make support`


def build_support(support):
    """Builds the grader's test guests, device trees and Linux, once per
    process: mutants.py grades many trees at once, all with one support."""
    with _support_lock:
        if support not in _support_built:
            _support_built[support] = make(support, "support", support=support)
        return _support_built[support]


# ---- boots ----

def in_support(path, support):
    """A path under build/ names a file of the grader's checkout (a test
    guest, a crafted device tree, Linux): made absolute there."""
    return os.path.join(support, path) if path.startswith("build/") else path


def run_case(case, tree, support=gradelib.ROOT):
    """Boots the case's lab (already built) and judges its console. The test
    guest and every build/ file the case names come from support."""
    guest = case.guest or "build/guest/guest.bin"
    extra = " ".join(in_support(word, support) for word in case.qemu_extra.split())
    args = ["qemu-cmd-native" if case.lab == "native" else "qemu-cmd",
            f"SMP={case.smp}", f"QEMU_EXTRA={extra}", f"GUEST={in_support(guest, support)}"]
    if case.lab != "native":
        args.append(f"LAB={case.lab}")
    if case.trace:
        args.append("TRACE=1")
    if case.initrd is not None:
        args.append(f"INITRD={in_support(case.initrd, support)}")
    if case.stall is None:
        ok, cmd = make(tree, *args, timeout=60, support=support)
        if not ok:
            return gradelib.not_run(case, "qemu command", "make " + " ".join(args) + " failed", cmd)
        return execute(case, cmd.strip(), tree)
    # A QMP socket to ask QEMU where the harts are if the console falls
    # silent; in a short directory of its own (a socket path is at most
    # 107 bytes).
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        qmp = os.path.join(tmp, "qmp")
        args[2] = "QEMU_EXTRA=" + " ".join(filter(None, [extra, f"-qmp unix:{qmp},server=on,wait=off"]))
        ok, cmd = make(tree, *args, timeout=60, support=support)
        if not ok:
            return gradelib.not_run(case, "qemu command", "make " + " ".join(args) + " failed", cmd)
        hyp = os.path.join(tree, lab_elf(case.lab, case.trace))
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
        self.found = stall.diagnose(shots, gradelib.split_lines(b"".join(chunks)),
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
    log = os.path.join(tree, "build", gradelib.platform_dir("grade"), case.name + ".log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "wb") as f:
        f.write(out)
    return gradelib.judge(case, gradelib.split_lines(out), status, timed_out, log, seconds,
                          stalled=watch.found if watch else None)


def grade(cases, tree, jobs=1, stop=None, support=gradelib.ROOT):
    """Builds each lab of the cases once, then runs the cases, `jobs` at a
    time, and yields their results in case order. If stop(names of the
    checks failed so far) is true, cases not yet started yield None: this
    saves mutants.py from waiting on every timeout of a hanging mutant."""
    tree, support = os.path.abspath(tree), os.path.abspath(support)
    ready = build_support(support)
    built = {}  # (lab, trace build) -> (ok, output)
    for case in cases:
        if (case.lab, case.trace) not in built:
            ok, output = build(case.lab, tree, support, case.trace)
            built[case.lab, case.trace] = (ok, output) if ready[0] else (False, ready[1])
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
        ok, output = built[case.lab, case.trace]
        if not ok:
            trace = " (TRACE=1)" if case.trace else ""
            return gradelib.not_run(case, "build", f"building lab {case.lab}{trace} failed", output)
        unmet = unmet_requirement(case)
        if unmet:
            return gradelib.not_run(case, "requirement", unmet, "")
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
