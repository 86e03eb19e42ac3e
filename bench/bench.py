#!/usr/bin/env python3
"""make bench: lab 05's hypervisor against OpenSBI alone, on this machine.

    python3 bench/bench.py [--linux-runs N] [--no-grader]

Builds what it needs (with make), then boots the bench guest (bench/guest.c)
natively and under lab 05, boots Linux with 4 vCPUs three ways (lab 05,
lab 05 on harts without Sstc, native), reads lab 05's exit counts from
its console at power off, and times the grader (unless --no-grader).
Prints a table of the figures and one of the exits, and writes
build/bench/bench.json and build/bench/bench.svg. bench/README.md says
what each figure means; bench/test_bench.py tests the exit-table parser
and the SVG on the host.

Every QEMU run has a time limit and stdin /dev/null. Python 3 standard
library only.
"""
import argparse
import bisect
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from xml.sax.saxutils import escape as xml_escape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "grader"))
import gradelib  # noqa: E402  (found through the path set just above)
import runner  # noqa: E402

OUT = os.path.join(ROOT, "build", "bench")
GUEST = "build/bench/guest.bin"
GUEST_ELF = os.path.join(ROOT, "build", "bench", "guest.elf")
HYP_ELF = os.path.join(ROOT, "build", "lab5", "hyp.elf")
# make bench exports the toolchain (Makefile).
CROSS_COMPILE = os.environ.get("CROSS_COMPILE", "riscv64-unknown-elf-")
OBJDUMP = CROSS_COMPILE + "objdump"
NM = CROSS_COMPILE + "nm"
ICOUNT = "-icount shift=0"
LINUX = dict(GUEST="build/linux/Image", INITRD="build/linux/initramfs.cpio")
LINUX_SMP = 4
LINUX_INIT = re.compile(rf"^init: {LINUX_SMP} CPUs online")
BENCH_LINE = re.compile(r"^bench: (\S+)((?: [\w-]+=\S+)*)$")
BOOT_TIMEOUT = 120      # s, one QEMU run
GRADE_TIMEOUT = 1800    # s, the whole grader

# What the lead asked for, beside each figure: lab 05 / native at most this.
TARGETS = {"sbi-roundtrip": 0.5, "hart-start": 1.0, "linux-boot": 1.1}


def die(message):
    print(f"bench: error: {message}", file=sys.stderr)
    sys.exit(1)


def make(*args):
    ok, out = runner.make(ROOT, *args)
    if not ok:
        die(f"make {' '.join(args)} failed:\n{out}")
    return out


def qemu_cmd(lab, smp, extra="", **variables):
    """The QEMU command line make would run, for lab 5 or "native"."""
    args = ["qemu-cmd-native" if lab == "native" else "qemu-cmd", f"SMP={smp}",
            f"QEMU_EXTRA={extra}"] + [f"{k}={v}" for k, v in variables.items()]
    if lab != "native":
        args.append(f"LAB={lab}")
    return make(*args).strip()


def boot(cmd, timeout=BOOT_TIMEOUT, on_line=None):
    """Runs the shell command cmd (a QEMU) as the grader runs a boot
    (runner.run_command: its own process group, stdin /dev/null, the group
    killed after timeout seconds or on Ctrl-C); on_line(line, seconds since
    start) sees each console line as it comes. Returns (lines, exit status,
    timed out)."""
    out, status, timed_out = runner.run_command(cmd, timeout, cwd=ROOT, on_line=on_line)
    return gradelib.split_lines(out), status, timed_out


def bench_lines(lines):
    """{"sbi-roundtrip": {"min": 286, ...}, ...} from the bench guest's lines."""
    found = {}
    for line in lines:
        m = BENCH_LINE.match(line)
        if m:
            found[m.group(1)] = {k: int(v, 0) if re.fullmatch(r"(0x)?[0-9a-f]+", v) else v
                                 for k, v in (kv.split("=", 1) for kv in m.group(2).split())}
    return found


def boot_bench(lab, smp, extra="", on_line=None):
    """Boots the bench guest; its parsed lines. Stops on any failure."""
    cmd = qemu_cmd(lab, smp, extra, GUEST=GUEST)
    lines, status, timed_out = boot(cmd, on_line=on_line)
    found = bench_lines(lines)
    what = f"the bench guest ({'lab 05' if lab == 5 else 'native'}, SMP={smp}, '{extra}')"
    if timed_out or status != 0 or found.get("done", {}).get("failures") != 0:
        tail = "\n".join(lines[-15:])
        die(f"{what} failed (status {status}, timed out {timed_out}):\n{tail}")
    return found


# ---- exact instruction counts from QEMU's instruction trace ----

class Image:
    """What objdump and nm say about one ELF file: each wfi's address, the
    bench guest's two bracketed ecalls, and function names by address."""

    def __init__(self, path, symbols=True, base=0):
        """base: added to every address, for an image linked at 0 that runs
        elsewhere (OpenSBI 1.5's firmware is position independent)."""
        text = subprocess.run([OBJDUMP, "-d", path], capture_output=True, text=True,
                              check=True).stdout
        insns = re.findall(r"^[ \t]*([0-9a-f]+):[ \t]+[0-9a-f]+[ \t]+(\S+)[ \t]*(\S*)", text, re.M)
        insns = [(base + int(a, 16), op, args) for a, op, args in insns]
        self.wfi = {a for a, op, _ in insns if op == "wfi"}
        # rdinstret; ecall; rdinstret [; wfi]: the round trip, or hart_start.
        self.roundtrip_ecall = self.start_ecall = None
        for i in range(1, len(insns) - 2):
            if insns[i][1] == "ecall" and insns[i - 1][1] == insns[i + 1][1] == "rdinstret":
                if insns[i + 2][1] == "wfi":
                    self.start_ecall = insns[i][0]
                else:
                    self.roundtrip_ecall = insns[i][0]
        self.starts, self.names = [], []
        if symbols:
            out = subprocess.run([NM, "-n", path], capture_output=True, text=True,
                                 check=True).stdout
            for addr, kind, name in re.findall(r"^([0-9a-f]+) ([tT]) (\S+)$", out, re.M):
                self.starts.append(int(addr, 16))
                self.names.append(name)
        self.symbols = {n: a for a, n in zip(self.starts, self.names)}

    def name(self, pc):
        i = bisect.bisect_right(self.starts, pc) - 1
        return self.names[i] if i >= 0 else "?"


def opensbi_elf():
    """The ELF file beside the firmware the platform boots (QEMU's -bios)."""
    bios = re.search(r"-bios (\S+)", qemu_cmd("native", 1))
    if not bios:
        die("the native QEMU command has no -bios")
    return re.sub(r"\.bin$", ".elf", bios.group(1))


def firmware_base(path):
    """Where the firmware runs, less where it is linked: OpenSBI 1.1 is
    linked at 0x80000000, OpenSBI 1.5 at 0 (it relocates itself to where
    QEMU loaded it, 0x80000000 on virt)."""
    out = subprocess.run([OBJDUMP, "-h", path], capture_output=True, text=True,
                         check=True).stdout
    vma = re.search(r"^\s*\d+\s+\.text\s+[0-9a-f]+\s+([0-9a-f]+)", out, re.M)
    return 0x80000000 if vma and int(vma.group(1), 16) < 0x80000000 else 0


TRACE_LINE = re.compile(rb"^Trace (\d+): 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/([0-9a-f]+)/")


def trace_mode(flags):
    """The privilege mode in a trace line's TB flags (QEMU's target/riscv
    cpu.h, FIELD(TB_FLAGS, ...), which moves between versions).
    QEMU 7.2: bits 0-1 the privilege level; bit 15 (HLSX) is set in M-mode
    and in HS-mode, never at V=1. QEMU 10: bit 21 VIRT_ENABLED, bits 22-23
    PRIV (read off its traces: M-mode code runs with 0x02c24003)."""
    if os.environ.get("PLATFORM", "qemu7") == "qemu10":
        priv, virt = (flags >> 22) & 3, (flags >> 21) & 1
        return "M" if priv == 3 else ("VS" if virt else "HS") if priv == 1 else "U"
    priv, hlsx = flags & 3, (flags >> 15) & 1
    return "M" if priv == 3 else ("HS" if hlsx else "VS") if priv == 1 else "U"


def read_trace(path):
    """Each hart's executed instructions in order, as (pc, mode) lists."""
    harts = {}
    with open(path, "rb") as f:
        for line in f:
            m = TRACE_LINE.match(line)
            if m:
                harts.setdefault(int(m.group(1)), []).append(
                    (int(m.group(2), 16), trace_mode(int(m.group(3), 16))))
    return harts


# The monitor command for one instruction per translation block, so that the
# trace has a line per instruction: QEMU 8.1 renamed `singlestep`.
ONE_INSN_PER_TB = (b"one-insn-per-tb on" if os.environ.get("PLATFORM", "qemu7") == "qemu10"
                   else b"singlestep on")


def trace_bench(lab):
    """Boots the bench guest at SMP=2 with QEMU's per-instruction trace
    switched on (through the monitor) once the guest says hello, and counts
    the instructions of each SBI round trip and each hart_start."""
    log = os.path.join(OUT, f"trace-{'lab5' if lab == 5 else 'native'}.log")
    sock = os.path.join(OUT, "monitor.sock")
    for path in (log, sock):
        if os.path.exists(path):
            os.remove(path)
    extra = f"-monitor unix:{sock},server=on,wait=off -D {log}"

    def on_line(line, _):
        # The guest sleeps 100 ms after its hello: switch the trace on now.
        if line.startswith("bench: hello"):
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(sock)
                s.sendall(ONE_INSN_PER_TB + b"\nlog exec,nochain\n")
                time.sleep(0.2)  # let the monitor read both before we hang up
    boot_bench(lab, 2, extra, on_line)
    counts = count_trace(read_trace(log), lab)
    for path in (log, sock):
        if os.path.exists(path):
            os.remove(path)
    return counts


def count_trace(harts, lab):
    """From a trace: the instructions of each round trip and each hart_start,
    and the function profile of the median ones."""
    guest = Image(GUEST_ELF)
    hyp = Image(HYP_ELF) if lab == 5 else None
    firmware = opensbi_elf()
    sbi = Image(firmware, symbols=False, base=firmware_base(firmware))
    guest_mode = "VS" if lab == 5 else "HS"  # natively the guest is the S-mode payload

    def where(pc, mode):
        if mode == "M":
            return "OpenSBI"
        if mode == guest_mode:
            return "guest"
        return hyp.name(pc)

    def is_wfi(pc, mode):
        image = sbi if mode == "M" else guest if mode == guest_mode else hyp
        return pc in image.wfi

    def path(insns, i):
        """From the guest's ecall at insns[i] to its next guest instruction."""
        j = i + 1
        while j < len(insns) and insns[j][1] != guest_mode:
            j += 1
        return [where(pc, mode) for pc, mode in insns[i:j]]

    roundtrips, starts = [], []
    entry = guest.symbols["bench_secondary_entry"]
    for hart, insns in harts.items():
        for i, (pc, mode) in enumerate(insns):
            if mode != guest_mode:
                continue
            if pc == guest.roundtrip_ecall:
                roundtrips.append(path(insns, i))
            elif pc == guest.start_ecall:
                starts.append(("caller", hart, path(insns, i)))
            elif pc == entry:
                # The target: from just after its last wfi to here.
                j = i - 1
                while j >= 0 and not is_wfi(*insns[j]):
                    j -= 1
                # None: its wfi came before the trace began (the first start).
                starts.append(("target", hart, [where(p, m) for p, m in insns[j + 1:i]]
                               if j >= 0 else None))
    callers = [p for kind, _, p in starts if kind == "caller"]
    targets = [p for kind, _, p in starts if kind == "target"]
    if not roundtrips or len(callers) != len(targets):
        die(f"the trace is incomplete: {len(roundtrips)} round trips, "
            f"{len(callers)} hart_start calls, {len(targets)} targets")
    # The i-th call started the i-th target: both harts keep their order.
    pairs = [(c, t) for c, t in zip(callers, targets) if t is not None]
    if not pairs:
        die("the trace holds no whole hart_start")
    callers, targets = [c for c, _ in pairs], [t for _, t in pairs]
    # The starter executes 2 more instructions before it sleeps: rdinstret, wfi.
    totals = sorted(len(c) + 2 + len(t) for c, t in zip(callers, targets))
    return {
        "roundtrip": summary([len(p) for p in roundtrips]),
        "roundtrip_profile": profile(median_path(roundtrips)),
        "start_total": summary(totals),
        "start_caller": summary([len(p) for p in callers]),
        "start_caller_profile": profile(median_path(callers)),
        "start_target": summary([len(p) for p in targets]),
        "start_target_profile": profile(median_path(targets)),
    }


def median_path(paths):
    return sorted(paths, key=len)[len(paths) // 2]


def profile(path):
    """[(where, instructions)] in the order the path first reaches each."""
    counts = {}
    for name in path:
        counts[name] = counts.get(name, 0) + 1
    return list(counts.items())


def summary(values):
    values = sorted(values)
    return {"min": values[0], "median": values[len(values) // 2], "max": values[-1],
            "n": len(values)}


# ---- Linux: the hypervisor's exits by cause ----

# When the guest powers off, lab 05 prints a table of its exits (traps from
# the guest into the hypervisor) by cause, one column per vCPU and, with
# more than one vCPU, a total:
#
#   hyp: exits by cause        vcpu0    vcpu1    total
#   hyp:   sbi time              812      640     1452
#   hyp:   all                   812      640     1452
#
# Only causes that happened have a row; the last row is always "all".
EXIT_HEADER = re.compile(r"^hyp: exits by cause((?: +\S+)+) *$")
EXIT_ROW = re.compile(r"^hyp:   (\S.*?) *$")
# The causes the hypervisor prints today, in the order the bench shows them
# (a cause not listed there comes after them, in the order first seen). The
# parser does not use this list.
EXIT_CAUSES = gradelib.EXIT_CAUSES


def exit_columns(header):
    """The column names of a table's header line, or None if the line is not
    one: vcpu0, vcpu1, ... and, with more than one, total."""
    m = EXIT_HEADER.match(header)
    if not m:
        return None
    columns = m.group(1).split()
    vcpus = columns[:-1] if len(columns) > 1 else columns
    if vcpus != [f"vcpu{i}" for i in range(len(vcpus))] or \
            (len(columns) > 1 and columns[-1] != "total"):
        return None
    return columns


def exit_row(line, ncolumns):
    """(cause, [counts]) from a row with ncolumns counts, or None."""
    m = EXIT_ROW.match(line)
    if not m:
        return None
    words = m.group(1).split()
    if len(words) <= ncolumns or not all(w.isdigit() for w in words[-ncolumns:]):
        return None
    return " ".join(words[:-ncolumns]), [int(w) for w in words[-ncolumns:]]


def parse_exits(lines):
    """The last complete exit table in a console's lines, or None when there
    is none. A table is complete once its "all" row has come; one cut off
    before it (QEMU killed, output lost) counts as none, so that a partial
    table never enters a median. Lines that are not rows of the table
    (Linux's, or the hypervisor's other lines) may come between its rows.

    Returns {"columns": ["vcpu0", ..., "total"],
             "total": {cause: exits, ..., "all": exits},  (the total column,
                      or the only column with one vCPU; in the table's order)
             "per_vcpu": {cause: [exits of vcpu0, vcpu1, ...]},
             "consistent": whether each total is its row's sum and "all"
                           each column's sum}."""
    found, columns, rows = None, None, None
    for line in lines:
        header = exit_columns(line)
        if header is not None:
            columns, rows = header, []
            continue
        if columns is None:
            continue
        row = exit_row(line, len(columns))
        if row is None:
            continue
        rows.append(row)
        if row[0] == "all":
            found = exit_table(columns, rows)
            columns = rows = None
    return found


def exit_table(columns, rows):
    nvcpus = len(columns) - 1 if len(columns) > 1 else 1
    table_ = {"columns": columns, "total": {}, "per_vcpu": {}}
    for cause, counts in rows:
        table_["total"][cause] = counts[-1]
        table_["per_vcpu"][cause] = counts[:nvcpus]
    sums = [sum(c[i] for cause, c in rows if cause != "all") for i in range(len(columns))]
    table_["consistent"] = (all(sum(c[:nvcpus]) == c[-1] for _, c in rows)
                            and rows[-1][1] == sums)
    return table_


def exit_medians(tables):
    """{cause: median over the boots of its total} over the boots whose table
    was found (a cause missing from a boot's table: 0 there), or None when
    no boot printed one. In EXIT_CAUSES's order, then any other cause, then
    "all"."""
    tables = [t for t in tables if t is not None]
    if not tables:
        return None
    causes = order_causes(c for t in tables for c in t["total"])
    return {c: statistics.median(t["total"].get(c, 0) for t in tables) for c in causes}


def order_causes(causes):
    seen = []
    for c in causes:
        if c not in seen:
            seen.append(c)
    known = [c for c in EXIT_CAUSES if c in seen]
    return known + [c for c in seen if c not in EXIT_CAUSES and c != "all"] + \
        (["all"] if "all" in seen else [])


# ---- Linux and the grader: wall time ----

# The ways Linux boots, in the order each round boots them: (key, lab,
# QEMU_EXTRA, name). Without Sstc, lab 05's harts have no stimecmp.
NOSSTC = "-cpu rv64,sstc=false"
LINUX_WAYS = [("sstc", 5, "", "lab 05 (Sstc)"),
              ("nosstc", 5, NOSSTC, "lab 05 (no Sstc)"),
              ("native", "native", "", "native")]
GUEST_ISA = re.compile(r"^hyp: guest device tree: .*\bisa (\S+?),? ")


def linux_boot(lab, extra="", name=None):
    """Seconds from starting QEMU to Linux's init line, and the console's
    lines. QEMU runs on to its exit (init powers off): lab 05 prints its
    exit table after the init line."""
    cmd = qemu_cmd(lab, LINUX_SMP, extra, **LINUX)
    seen = []
    lines, status, timed_out = boot(cmd, on_line=lambda line, t: seen.append(t)
                                    if LINUX_INIT.match(line) else None)
    if not seen or status != 0:
        tail = "\n".join(lines[-10:])
        die(f"Linux ({name or ('lab 05' if lab == 5 else 'native')}) did not reach init "
            f"(status {status}, timed out {timed_out}):\n{tail}")
    return seen[0], lines


def harts_isa(lab, extra):
    """Whether QEMU takes QEMU_EXTRA=extra on the Linux command line of lab
    (5 or "native"), and the harts' ISA string then: with -machine dumpdtb,
    QEMU writes the machine's device tree and exits before running anything.
    Returns (the ISA string, "") or (None, what QEMU said)."""
    path = os.path.join(OUT, "probe.dtb")
    if os.path.exists(path):
        os.remove(path)
    cmd = qemu_cmd(lab, LINUX_SMP, extra, **LINUX) + f" -machine dumpdtb={path}"
    out, status, timed_out = runner.run_command(cmd, 30, cwd=ROOT)
    if status != 0 or timed_out or not os.path.exists(path):
        said = [line for line in gradelib.split_lines(out) if line.strip()]
        return None, (said[-1] if said else f"status {status}, timed out {timed_out}")
    with open(path, "rb") as f:
        isas = re.findall(rb"rv64[a-z0-9_]+", f.read())
    os.remove(path)
    # The longest: QEMU 10 also has riscv,isa-base = "rv64i".
    return (max(isas, key=len).decode() if isas else ""), ""


def has_sstc(isa):
    return isa is not None and "sstc" in isa.split("_")[1:]


def with_sstc(isa):
    return "with Sstc" if has_sstc(isa) else "without Sstc"


def linux_bench(runs):
    """Boots Linux runs times each way (LINUX_WAYS), a round at a time, so
    that load on the host falls on every way. A way that QEMU does not
    take (its -cpu option) is skipped with a note. Returns {"seconds": {way:
    [s, ...]}, "exits": {way: [table or None, ...]} (lab 05's ways),
    "exit_status": {way: ["table", "none", "cut off", ...]}, "harts_isa",
    "guest_isa": {way: ISA string}, "skipped": {way: why}}."""
    ways, result = [], {"seconds": {}, "exits": {}, "exit_status": {}, "harts_isa": {},
                        "guest_isa": {}, "skipped": {}}
    for key, lab, extra, name in LINUX_WAYS:
        isa, said = harts_isa(lab, extra)
        result["harts_isa"][key] = isa
        if isa is None:
            why = f"QEMU does not accept QEMU_EXTRA='{extra}': {said}"
        elif key == "nosstc" and has_sstc(isa):
            why = f"QEMU_EXTRA='{extra}' left sstc in the harts' ISA ({isa})"
        else:
            why = None
        if why:
            print(f"bench: note: {why}; Linux, {name} skipped", flush=True)
            result["skipped"][key] = why
            continue
        if key == "sstc" and not has_sstc(isa):
            print(f"bench: note: the harts have no Sstc on this platform ({isa})", flush=True)
        ways.append((key, lab, extra, name))
        result["seconds"][key] = []
        if lab == 5:
            result["exits"][key], result["exit_status"][key] = [], []
    print(f"bench: Linux, SMP={LINUX_SMP}, {plural(runs, 'boot')} each way "
          f"({', '.join(name for _, _, _, name in ways)})", flush=True)
    for _ in range(runs):
        for key, lab, extra, name in ways:
            seconds, lines = linux_boot(lab, extra, name)
            result["seconds"][key].append(seconds)
            for line in lines:
                m = GUEST_ISA.match(line)
                if m:
                    result["guest_isa"].setdefault(key, m.group(1))
            if lab != 5:
                continue
            table_ = parse_exits(lines)
            result["exits"][key].append(table_)
            result["exit_status"][key].append(
                "table" if table_ else
                "cut off" if any(exit_columns(line) for line in lines) else "none")
    return result


def exit_report(linux):
    """The second table: each cause's exits per Linux boot (median), lab 05
    with Sstc against lab 05 without; and the lines that go with it."""
    ways = [(key, name) for key, lab, _, name in LINUX_WAYS if lab == 5]
    medians = {key: exit_medians(linux["exits"].get(key, [])) for key, _ in ways}
    out = []
    for key, name in ways:
        status = linux["exit_status"].get(key)
        if key in linux["skipped"]:
            out.append(f"  {name}: not booted ({linux['skipped'][key]})")
        elif status and "table" not in status:
            if "cut off" in status:
                out.append(f"exit counts: cut off before the 'all' row ({name}, "
                           f"{status.count('cut off')} of {len(status)} boots, none whole)")
            else:
                out.append(f"exit counts: not printed by this hypervisor ({name}, "
                           f"{plural(len(status), 'boot')})")
        elif status and status.count("table") < len(status):
            out.append(f"  {name}: a whole table in {status.count('table')} of {len(status)} "
                       f"boots; the median is of those")
        if status and any(t is not None and not t["consistent"]
                          for t in linux["exits"][key]):
            out.append(f"  {name}: a table's totals are not the sums of its columns "
                       "(bench.json has the raw tables)")
    found = [key for key, _ in ways if medians[key]]
    if found:
        causes = order_causes(c for key in found for c in medians[key])
        rows = [("cause",) + tuple(name for _, name in ways)]
        for cause in causes:
            rows.append((cause,) + tuple(fmt_exits(medians[key].get(cause, 0))
                                         if medians[key] else "-" for key, _ in ways))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [r[0].ljust(widths[0]) + "".join("  " + c.rjust(w) for c, w in
                                                  zip(r[1:], widths[1:])) for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        out = [f"exits by cause, Linux to power off, SMP={LINUX_SMP} "
               "(exits per boot, median over the boots):"] + lines + \
            ["  native: none, OpenSBI alone has no hypervisor"] + out
    return "\n".join(out), medians


def exit_note(linux, key):
    """Why a lab 05 way has no exit counts, in a few words (the SVG's)."""
    status = linux["exit_status"].get(key)
    if key in linux["skipped"]:
        return "not booted"
    if status and "table" not in status:
        return "table cut off" if "cut off" in status else "not printed"
    return None


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def fmt_exits(value):
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def grade_time():
    """The grader's wall time, every lab already built; and its last line."""
    start = time.monotonic()
    out, status, timed_out = runner.run_command([sys.executable, "grader/grade.py"],
                                                GRADE_TIMEOUT, cwd=ROOT, env=runner.make_env())
    seconds = time.monotonic() - start
    tally = [line for line in gradelib.split_lines(out) if line.startswith("grade: ")]
    if timed_out:
        die(f"the grader timed out after {GRADE_TIMEOUT} s")
    return seconds, tally[-1] if tally else f"grade.py exited with status {status}"


# ---- the report ----

def figure(name, label, unit, lab5, native, note, target=None):
    ratio = lab5 / native if native and lab5 is not None else None
    status = None
    if target is not None and ratio is not None:
        status = "met" if ratio <= target else "missed"
    return {"name": name, "label": label, "unit": unit, "lab5": lab5, "native": native,
            "ratio": ratio, "target_ratio": target, "status": status, "note": note}


def fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def table(figures):
    rows = [("figure", "unit", "lab 05", "native", "ratio", "target", "status")]
    for f in figures:
        target = f"<= {f['target_ratio']}x native" if f["target_ratio"] is not None else "-"
        rows.append((f["label"], f["unit"], fmt(f["lab5"]), fmt(f["native"]), fmt(f["ratio"]),
                     target, f["status"] or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, r in enumerate(rows):
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def svg(figures, exits=None):
    """A bar chart, one panel per figure with its own scale: lab 05 beside
    native, and a dashed line at the target. With exits ([(name, {cause:
    median} or None, note)], lab 05's ways), a second row: a bar per way
    with its exits stacked by cause, native's 0 beside them, and a legend."""
    panel_w, panel_h, top, bar_w = 230, 220, 40, 50
    width = panel_w * len(figures) + 20
    # Room below the bars for the longest caption (see the loop's end).
    lines = max(len(f["label"].split(", ")) + 1 + bool(f["status"]) for f in figures)
    height = top + panel_h + 32 + 13 * lines
    body = []
    for i, f in enumerate(figures):
        x0 = 20 + i * panel_w
        values = [v for v in (f["lab5"], f["native"]) if v is not None]
        limit = max(values + ([f["native"] * f["target_ratio"]]
                              if f["target_ratio"] is not None and f["native"] else []))
        scale = (panel_h - 20) / limit if limit else 0
        base = top + panel_h
        body.append(f'<line x1="{x0}" y1="{base}" x2="{x0 + 2 * bar_w + 40}" y2="{base}" '
                    'stroke="black"/>')
        first = "lab 05" if f["native"] is not None else "all labs"
        for k, (value, colour, who) in enumerate(((f["lab5"], "#2b5d9c", first),
                                                  (f["native"], "#9cc3e6", "native"))):
            if value is None:
                continue
            x, h = x0 + 10 + k * (bar_w + 20), value * scale
            body.append(f'<rect x="{x}" y="{base - h:.1f}" width="{bar_w}" height="{h:.1f}" '
                        f'fill="{colour}"/>')
            body.append(text(x + bar_w / 2, base - h - 4, fmt(value), anchor="middle"))
            body.append(text(x + bar_w / 2, base + 14, who, anchor="middle"))
        if f["target_ratio"] is not None and f["native"]:
            y = base - f["native"] * f["target_ratio"] * scale
            body.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + 2 * bar_w + 40}" y2="{y:.1f}" '
                        'stroke="red" stroke-dasharray="4,3"/>')
        caption = f["label"].split(", ") + [f"({f['unit']})"]
        if f["status"]:
            caption.append(f"target {f['target_ratio']}x: {f['status']}")
        for n, line in enumerate(caption):
            body.append(text(x0 + bar_w + 20, base + 32 + 13 * n, line, anchor="middle"))
    if exits is not None:
        panel, panel_width, panel_height = exits_panel(exits, height + 10)
        body += panel
        width, height = max(width, panel_width), height + 10 + panel_height
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           'font-family="sans-serif" font-size="11">',
           text(10, 18, "make bench: lab 05 (dark) against OpenSBI alone (light)", size=14)]
    out += body
    out.append("</svg>")
    return "\n".join(out) + "\n"


def text(x, y, what, anchor=None, size=None, weight=None):
    """An SVG text element; what is escaped."""
    attrs = f'x="{x:g}" y="{y:.1f}"' if isinstance(y, float) else f'x="{x:g}" y="{y}"'
    if anchor:
        attrs += f' text-anchor="{anchor}"'
    if size:
        attrs += f' font-size="{size}"'
    if weight:
        attrs += f' font-weight="{weight}"'
    return f"<text {attrs}>{xml_escape(str(what))}</text>"


# Each cause's colour in the exits panel: the timer's causes warm, the IPIs'
# blue and yellow; a cause not listed takes the next of EXTRA_COLOURS.
CAUSE_COLOURS = {
    "sbi base": "#8c8c8c", "sbi legacy": "#b07aa1", "sbi dbcn": "#bab0ac", "sbi srst": "#555555",
    "sbi time": "#f28e2b", "sbi ipi": "#4e79a7", "sbi rfence": "#76b7b2", "sbi hsm": "#59a14f",
    "sbi other": "#9c755f", "timer interrupt": "#e15759", "IPI (kick)": "#edc948",
    "guest page fault": "#ff9da7", "virtual instruction": "#17becf", "other": "#d3d3d3",
}
EXTRA_COLOURS = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f"]


def exits_panel(exits, y0):
    """The SVG elements of the exits panel, from y0 down; and its width and
    height. exits: [(name, {cause: median, ..., "all": median} or None,
    note when None)]."""
    bar_w, gap, chart_h, top = 80, 60, 220, 40
    causes = order_causes(c for _, m, _ in exits if m for c in m)
    stack = [c for c in causes if c != "all"]
    extra = iter(EXTRA_COLOURS * (len(stack) // len(EXTRA_COLOURS) + 1))
    colour = {c: CAUSE_COLOURS.get(c) or next(extra) for c in stack}
    limit = max([m["all"] if "all" in m else sum(m.values()) for _, m, _ in exits if m] + [0])
    scale = (chart_h - 20) / limit if limit else 0
    base = y0 + top + chart_h
    x0 = 20
    bars = exits + [(None, None, None)]  # native
    chart_right = x0 + 10 + len(bars) * (bar_w + gap)
    out = [text(x0, y0 + 16, f"Exits by cause, Linux to power off, SMP={LINUX_SMP}: "
                "exits per boot, each cause's median over the boots (lab 05 only; "
                "native has no hypervisor)", size=13),
           f'<line x1="{x0}" y1="{base}" x2="{chart_right}" y2="{base}" stroke="black"/>']
    for k, (name, medians, note) in enumerate(bars):
        x = x0 + 10 + k * (bar_w + gap)
        cx = x + bar_w / 2
        if medians:
            y = float(base)
            for cause in stack:
                h = medians.get(cause, 0) * scale
                if h <= 0:
                    continue
                y -= h
                out.append(f'<rect x="{x}" y="{y:.1f}" width="{bar_w}" height="{h:.1f}" '
                           f'fill="{colour[cause]}"><title>{xml_escape(name)}, '
                           f'{xml_escape(cause)}: {fmt_exits(medians[cause])}</title></rect>')
            total = medians.get("all", sum(medians.values()))
            out.append(text(cx, y - 4, f"all {fmt_exits(total)}", anchor="middle"))
        else:
            out.append(text(cx, base - 4, "0" if name is None else "no table", anchor="middle"))
        label = (["native: 0 (no hypervisor)"] if name is None else
                 [name] + ([note] if not medians and note else []))
        for n, line in enumerate(label):
            out.append(text(cx, base + 14 + 13 * n, line, anchor="middle"))
    # The legend: each cause's colour and its median each way.
    lx = chart_right + 20
    names = [name for name, _, _ in exits]
    out.append(text(lx, y0 + top + 8, "cause: " + " / ".join(names), weight="bold"))
    for n, cause in enumerate(stack + (["all"] if "all" in causes else [])):
        y = y0 + top + 26 + 16 * n
        if cause != "all":
            out.append(f'<rect x="{lx}" y="{y - 10}" width="12" height="12" '
                       f'fill="{colour[cause]}"/>')
        values = " / ".join(fmt_exits(m.get(cause, 0)) if m else "-" for _, m, _ in exits)
        out.append(text(lx + 18, y, f"{cause}: {values}"))
    if not stack:
        out.append(text(lx, y0 + top + 26, "exit counts: not printed by this hypervisor"))
    rows = len(stack) + 1 + 2
    height = max(top + chart_h + 14 + 13 * 2 + 10, top + 26 + 16 * rows)
    return out, lx + 360, height


def main():
    runner.end_runs_on_signals()
    ap = argparse.ArgumentParser(description="Time lab 05 against OpenSBI alone.")
    ap.add_argument("--linux-runs", type=int, default=5, help="Linux boots each way (median)")
    ap.add_argument("--no-grader", action="store_true",
                    help="leave out the grader's figure (it takes minutes on 2 cores)")
    args = ap.parse_args()
    if args.linux_runs < 1:
        ap.error("--linux-runs must be at least 1")
    os.makedirs(OUT, exist_ok=True)
    began = time.monotonic()

    print("bench: building (every lab, the test guest, the bench guest, Linux)", flush=True)
    build_start = time.monotonic()
    for lab in lab_numbers():
        make("build", f"LAB={lab}")
    make("build-native", GUEST)
    build_seconds = time.monotonic() - build_start

    print("bench: SBI round trip under -icount, SMP=1", flush=True)
    rt = {lab: boot_bench(lab, 1, ICOUNT)["sbi-roundtrip"] for lab in (5, "native")}
    print("bench: hart_start natively under -icount, SMP=2", flush=True)
    native_icount = boot_bench("native", 2, ICOUNT)
    print("bench: hart_start in time ticks, parallel harts (MTTCG), SMP=2", flush=True)
    ticks = {lab: boot_bench(lab, 2)["hart-start-ticks"] for lab in (5, "native")}
    print("bench: instruction traces, SMP=2", flush=True)
    traced = {lab: trace_bench(lab) for lab in (5, "native")}

    linux = linux_bench(args.linux_runs)

    if args.no_grader:
        print("bench: the grader: left out (--no-grader)", flush=True)
        grade_seconds, grade_tally = None, None
    else:
        print("bench: the grader (python3 grader/grade.py)", flush=True)
        grade_seconds, grade_tally = grade_time()

    lmed = {key: statistics.median(v) for key, v in linux["seconds"].items()}
    exits_text, exits_median = exit_report(linux)
    figures = [
        figure("sbi-roundtrip", "SBI round trip, min", "instructions", rt[5]["min"],
               rt["native"]["min"], "-icount shift=0, SMP=1, base get_spec_version, "
               f"{rt[5]['n']} calls, instret bracket subtracted", TARGETS["sbi-roundtrip"]),
        figure("sbi-roundtrip-median", "SBI round trip, median", "instructions",
               rt[5]["median"], rt["native"]["median"], "as above"),
        figure("hart-start", "hart_start to 1st instr, median", "instructions",
               traced[5]["start_total"]["median"], traced["native"]["start_total"]["median"],
               "SMP=2, per-instruction trace: caller's ecall to its wfi + target's "
               "instructions after its wfi", TARGETS["hart-start"]),
        figure("hart-start-ticks", "hart_start to 1st instr, parallel", "time ticks (100 ns)",
               ticks[5]["median"], ticks["native"]["median"],
               "SMP=2, MTTCG, host time, median of 21"),
        figure("linux-boot", f"Linux to init, SMP={LINUX_SMP}, median", "s", lmed.get("sstc"),
               lmed["native"],
               f"wall time from QEMU start, {plural(args.linux_runs, 'boot')} each",
               TARGETS["linux-boot"]),
        figure("linux-boot-nosstc", f"Linux to init, SMP={LINUX_SMP}, no Sstc, median", "s",
               lmed.get("nosstc"), lmed["native"],
               f"as above, lab 05 with QEMU_EXTRA='{NOSSTC}' (native with Sstc)"
               if "nosstc" not in linux["skipped"] else
               f"not booted: {linux['skipped']['nosstc']}"),
    ]
    if grade_seconds is not None:
        figures.append(figure("grader", "grader matrix", "s", grade_seconds, None,
                              f"python3 grader/grade.py, labs built; {grade_tally}"))

    report = {
        "figures": figures,
        "sbi_roundtrip_icount": rt,
        "hart_start_icount_native": native_icount["hart-start-instret"],
        "hart_start_caller_icount_native": native_icount["hart-start-caller-instret"],
        "hart_start_ticks": ticks,
        "traces": traced,
        "linux_seconds": linux["seconds"],
        "linux_exits": linux["exits"],
        "linux_exits_median": exits_median,
        "linux_exit_status": linux["exit_status"],
        "linux_harts_isa": linux["harts_isa"],
        "linux_guest_isa": linux["guest_isa"],
        "linux_skipped": linux["skipped"],
        "grader": {"seconds": grade_seconds, "tally": grade_tally, "skipped": args.no_grader,
                   "build_seconds_excluded": build_seconds},
        "host": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
    }
    with open(os.path.join(OUT, "bench.json"), "w") as f:
        json.dump(report, f, indent=1, default=str)
    with open(os.path.join(OUT, "bench.svg"), "w") as f:
        f.write(svg([x for x in figures if x["name"] != "sbi-roundtrip-median"
                     and (x["lab5"], x["native"]) != (None, None)],
                    [(name, exits_median[key], exit_note(linux, key))
                     for key, lab, _, name in LINUX_WAYS if lab == 5]))

    print()
    print(table(figures))
    print()
    for f in figures:
        print(f"  {f['label']}: {f['note']}")
    if grade_seconds is None:
        print("  grader matrix: left out (--no-grader)")
    for key, _, _, name in LINUX_WAYS:
        if linux["harts_isa"].get(key) is not None and key in linux["seconds"]:
            told = linux["guest_isa"].get(key)
            line = f"  Linux, {name}: harts {with_sstc(linux['harts_isa'][key])}"
            if told:  # lab 05 says what ISA it gives the guest
                line += f"; guest told {with_sstc(told)} ({told})"
            print(line)
    print()
    print(exits_text)
    print()
    print(f"  hart_start natively under -icount (cross-check of the trace): median "
          f"{native_icount['hart-start-instret']['median']} instructions")
    print()
    print("where the instructions go (the median traced path; OpenSBI has no symbols):")
    for key, what in (("roundtrip_profile", "SBI round trip"),
                      ("start_caller_profile", "hart_start, caller"),
                      ("start_target_profile", "hart_start, target")):
        for lab in (5, "native"):
            steps = ", ".join(f"{name} {n}" for name, n in traced[lab][key])
            print(f"  {what}, {'lab 05' if lab == 5 else 'native'}: {steps}")
    print()
    print(f"  build time (excluded above): {build_seconds:.1f} s; "
          f"host: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}")
    print(f"bench: wrote build/bench/bench.json and build/bench/bench.svg "
          f"in {time.monotonic() - began:.0f} s")
    return 0


def lab_numbers():
    """The lab numbers, from the directories under labs/."""
    return sorted(int(d[1]) for d in os.listdir(os.path.join(ROOT, "labs"))
                  if re.fullmatch(r"0\d-.*", d))


if __name__ == "__main__":
    sys.exit(main())
