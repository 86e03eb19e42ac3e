"""The grader's cases: what each lab must boot and print.

grade.py and mutants.py take their cases from cases() here, also when they
grade another checkout (--tree), so a student's tree cannot weaken them.
Check kinds and Case are described in gradelib.py.
"""
import copy
import re

import gradelib
import trace_checks
from gradelib import Absent, Case, Count, Custom, ExitStatus, Ordered, matching  # noqa: F401

# Lines of the test guest (common/guest/main.c).
GREETING = r"^guest: hello from hart \d+"
DEVICE_TREE = r"^guest: device tree: \d+ cpus"
ALL_PASSED = r"^guest: all checks passed$"


def cpus_match_smp(lines, case):
    """The guest's device tree lists as many cpus as QEMU was given (-smp)."""
    for line in lines:
        m = re.search(r"^guest: device tree: (\d+) cpus", line)
        if m:
            return int(m.group(1)) == case.smp, f"{case.smp} cpus in the device tree, got {m.group(1)}"
    return False, f"a line 'guest: device tree: {case.smp} cpus'"


def guest_checks():
    """What every boot of the test guest that should succeed must show."""
    return [
        Ordered("greeting", [GREETING]),
        Custom("cpu count", cpus_match_smp),
        Absent("no FAIL lines", r"FAIL"),
        Ordered("all checks passed", [GREETING, DEVICE_TREE, ALL_PASSED]),
    ]


# QEMU 7.2 masks STIP and SEIP out of a VS-mode read of sip, although it
# delivers the interrupt (fixed in QEMU 8.0 by 06d85c24c28f, "target/riscv:
# Fix up masking of vsip/vsie accesses"). The test guest tells the two apart.
SIP_HIDDEN_BY = {"qemu7": "QEMU 7.2's vsip bug"}


def timer_sip(lab):
    """The guest saw its due timer in sip.STIP. Under a hypervisor on a
    platform with the vsip bug, the guest's 'hidden' line is accepted."""
    def judge(lines, case):
        want = "guest: check timer-sip: ok"
        if want in lines:
            return True, ""
        hidden = any(l.startswith("guest: check timer-sip: hidden") for l in lines)
        bug = SIP_HIDDEN_BY.get(gradelib.platform())
        if hidden and lab != "native" and bug:
            return True, ""
        if hidden:
            return False, (f"'{want}': on {gradelib.platform()}, unlike QEMU 7.2, "
                           "a guest sees its pending timer in sip.STIP")
        return False, f"'{want}'"
    return Custom("timer-sip", judge)


# The guest's timer across HSM transitions (smp.c, test_timer_hsm), on
# another hart: a fresh hart_start leaves no timer interrupt from before, and
# a deadline ends a retentive suspend. (The same through stimecmp, when
# offered: GUEST_SSTC_SMP_CHECKS.)
GUEST_TIMER_HSM_CHECKS = ["timer-after-start", "timer-kept-suspend"]
# Natively they are held to no FAIL line, as every check is: OpenSBI keeps
# a due stimecmp across hart_stop and hart_start (which SBI v2.0 allows),
# and both platforms' harts have Sstc, which its set_timer uses, so there
# the guest skips timer-after-start and says why.


def native_cases():
    """The test guest on OpenSBI alone: the reference every lab is held to.
    (The misbehaving guest runs natively with make fuzz-guest LAB=native
    only: see grader/README.md, "The misbehaving guest".)"""
    return [Case(f"native-smp{smp}", "native", smp, guest_checks() + [timer_sip("native")],
                 exit_status=0)
            for smp in (1, 2, 4, 8)]


# The misbehaving guest (common/fuzzguest): seeded random SBI calls, HSM
# starts and stops from every hart, its own exceptions; each seed a binary
# of its own (the Makefile's FUZZ_GUEST_SEEDS), so BOOTARGS stay as built.
FUZZ_GUEST_SEEDS = (1, 2)


def fuzz_guest_cases(lab, smps, seeds=FUZZ_GUEST_SEEDS):
    """One case per SMP and seed: the guest's summary says 0 failures and
    it powered off cleanly."""
    name = "native" if lab == "native" else f"lab{lab}"
    return [Case(f"{name}-fuzzguest-smp{smp}-seed{seed}", lab, smp, [
        Ordered("fuzzguest", [rf"^fuzzguest: seed {seed}: \d+ operations, 0 failures$"]),
        Absent("no fuzzguest failures", r"^fuzzguest: FAIL|hyp: unexpected|panic: "),
    ], guest=f"build/fuzzguest/fuzzguest-seed{seed}.bin", exit_status=0, timeout=20)
        for smp in smps for seed in seeds]


def dtb(name):
    """QEMU's -dtb option for a crafted tree (make support), made from the
    platform's own QEMU tree (the Makefile's DTB_DIR)."""
    return f"-dtb build/{gradelib.platform_dir('dtb')}/{name}.dtb"


# ---------------------------------------------------------------------------
# Lab 1 (labs/01-boot): one hart, one vCPU, the guest's SBI.
# ---------------------------------------------------------------------------
HEX = r"0x[0-9a-f]+"
OPENSBI_BASE = 0x80000000
HOST_FDT_BASE = 0x82200000


def memory_map_disjoint(lines, case):
    """Guest RAM is 128 MiB at guest-physical 0x80000000, backed by host memory
    that is neither OpenSBI's nor the hypervisor's image."""
    image = ram = None
    for line in lines:
        m = re.search(rf"^hyp: hypervisor image ({HEX})-({HEX})$", line)
        if m:
            image = [int(x, 16) for x in m.groups()]
        m = re.search(rf"^hyp: guest RAM: guest-physical ({HEX})-({HEX}) -> "
                      rf"host-physical ({HEX})-({HEX}) \((\d+) MiB\)$", line)
        if m:
            ram = [int(x, 16) for x in m.groups()[:4]] + [int(m.group(5))]
    if image is None or ram is None:
        return False, "the lines 'hyp: hypervisor image A-B' and 'hyp: guest RAM: ...'"
    gpa, gpa_end, hpa, hpa_end, mib = ram
    if (gpa, gpa_end - gpa) != (0x80000000, 128 << 20):
        return False, f"guest RAM at guest-physical 0x80000000-0x88000000, got {gpa:#x}-{gpa_end:#x}"
    if hpa_end - hpa != gpa_end - gpa or mib << 20 != gpa_end - gpa:
        return False, "host and guest ranges of the same size"
    if not (0x80200000 <= image[0] < image[1] <= HOST_FDT_BASE):
        return False, f"the image inside 0x80200000-{HOST_FDT_BASE:#x}, got {image[0]:#x}-{image[1]:#x}"
    if hpa < image[1] and OPENSBI_BASE < hpa_end:
        return False, (f"guest RAM's host range {hpa:#x}-{hpa_end:#x} clear of firmware and "
                       f"hypervisor {OPENSBI_BASE:#x}-{image[1]:#x}")
    return True, ""


def powered_off_last(lines, case):
    """The guest passed its checks, and the hypervisor's power-off was the
    last thing on the console but its exit table: nothing ran after it."""
    text = [l for l in lines if l.strip()]
    table = gradelib.exit_table(text)
    if table is not None and table[1] == len(text):
        text = text[:table[0]]
    if len(text) < 2 or text[-2:] != ["guest: all checks passed", "hyp: guest powered off"]:
        return False, ("the last two lines 'guest: all checks passed' and 'hyp: guest powered off' "
                       f"(then the exit table), got {text[-2:]}")
    return True, ""


EXIT_CAUSES = gradelib.EXIT_CAUSES


def exits_counted(lines, case):
    """After the power-off, the exit table: one column per vCPU of the VM,
    known causes only, the 'all' row the sum of the others, and the SBI
    calls any run makes counted (Base to probe, SRST to power off)."""
    table = gradelib.exit_table(lines)
    if table is None:
        return False, ("a whole exit table after the power-off: 'hyp: exits by cause vcpu0 ...', "
                       "rows 'hyp:   <cause> <count per vCPU>', the last 'all'")
    start, end, columns, rows = table
    where = list(range(start, end))
    unknown = [c for c in rows if c not in EXIT_CAUSES + ("all",)]
    if unknown:
        return False, f"only the causes {', '.join(EXIT_CAUSES)}; got {unknown}", where
    if columns != [f"vcpu{i}" for i in range(len(columns))]:
        return False, f"columns vcpu0, vcpu1, ... got {columns}", where
    if "all" not in rows:
        return False, "a last row 'all'", where
    sums = [sum(r[i] for c, r in rows.items() if c != "all") for i in range(len(columns))]
    if sums != rows["all"]:
        return False, f"the 'all' row the sum of the causes, {sums}; got {rows['all']}", where
    for cause in ("sbi base", "sbi srst"):
        if sum(rows.get(cause, [0])) < 1:
            return False, f"at least one '{cause}' exit (the guest made that call)", where
    return True, ""


def exit_count(lines, cause):
    """The total of one row of the exit table (0 if the row is absent), or
    None if there is no table."""
    table = gradelib.exit_table(lines)
    return None if table is None else sum(table[3].get(cause, [0]))


def timer_exits(lines, case):
    """With Sstc the guest's timer is its own stimecmp (vstimecmp): no timer
    interrupt reaches the hypervisor. Without it, every deadline the test
    guest sets and waits for comes as our own timer's interrupt."""
    sstc = [i for i, l in enumerate(lines) if l.startswith("hyp: guest timer: ")]
    if not sstc:
        return False, "the line 'hyp: guest timer: Sstc ...' or 'hyp: guest timer: SBI ...'"
    fired = exit_count(lines, "timer interrupt")
    if fired is None:
        return False, "the exit table after the power-off", sstc
    if "Sstc" in lines[sstc[-1]]:
        return fired == 0, f"no 'timer interrupt' exit with Sstc, got {fired}", sstc
    return fired >= 1, f"'timer interrupt' exits without Sstc, got {fired}", sstc


# The test guest's checks of its stimecmp, run when its ISA lists sstc; those
# after the first need another hart (smp.c, test_timer_hsm).
GUEST_SSTC_CHECKS = ["timer-sstc"]
GUEST_SSTC_SMP_CHECKS = ["timer-after-start-sstc", "timer-kept-suspend-sstc"]


def guest_sstc(lines, case):
    """The guest is told about Sstc exactly when the hypervisor gives it one,
    and then its stimecmp works: the test guest checks it (timer-sstc), and
    with another hart across hart_stop and hart_start and through a
    retentive suspend."""
    sstc = [i for i, l in enumerate(lines) if l.startswith("hyp: guest timer: Sstc")]
    told = [i for i, l in enumerate(lines)
            if re.match(r"^hyp: guest device tree: .*isa rv64\S*_sstc\b", l)]
    if bool(sstc) != bool(told):
        return False, ("'sstc' in the guest's ISA exactly when 'hyp: guest timer: Sstc' says so",
                       sstc + told)
    names = GUEST_SSTC_CHECKS + (GUEST_SSTC_SMP_CHECKS if case.smp > 1 else [])
    missing = [n for n in names if f"guest: check {n}: ok" not in lines]
    if sstc and missing:
        return False, f"'guest: check {missing[0]}: ok' (the guest's stimecmp works)", sstc
    return True, ""


def linux_timer_exits(lines, case):
    """Linux takes Sstc when its device tree offers it: then neither its
    set_timer calls nor our timer's interrupts ever reach the hypervisor."""
    sstc = any(l.startswith("hyp: guest timer: Sstc") for l in lines)
    calls, fired = exit_count(lines, "sbi time"), exit_count(lines, "timer interrupt")
    if calls is None:
        return False, "the exit table after the power-off"
    if sstc:
        return calls == 0 and fired == 0, (f"no 'sbi time' and no 'timer interrupt' exit with "
                                           f"Sstc, got {calls} and {fired}")
    return calls > 0 and fired > 0, (f"'sbi time' and 'timer interrupt' exits without Sstc, "
                                     f"got {calls} and {fired}")


def lab_guest_checks(lab, cpus):
    """A normal boot of the test guest on lab `lab`, whose device tree
    should list `cpus` cpus. Labs 1-4 offer no HSM; lab 5 offers it all."""
    if lab < 5:
        sbi = [r"^guest: extensions: base srst dbcn legacy-putchar$",
               r"^guest: no HSM extension: running on one hart$"]
    else:
        sbi = [r"^guest: extensions: base time ipi rfence hsm srst dbcn legacy-putchar$"]
    return [
        Ordered("boots", [rf"^hyp: RISC-V hypervisor lab {lab:02d}, booted on hart \d+$",
                          r"^hyp: running in HS-mode with the H extension$",
                          r"^hyp: starting vCPU 0 on hart \d+ at guest-physical 0x80200000$",
                          r"^guest: hello from hart 0, device tree at 0x87e00000$"]),
        Ordered("sbi-base", [rf"^guest: SBI spec 2\.0, implementation 0x4c414253 version 0x{lab}$"]
                + sbi),
        Ordered("sbi-errors", [rf"^guest: check {name}: ok$" for name in (
            "unknown-extension", "unknown-base-function", "probe-absent", "probe-base",
            "srst-reserved-type", "dbcn-write", "dbcn-bad-address", "dbcn-zero-bytes")]),
        Ordered("device-tree", [rf"^guest: device tree: {cpus} cpus, memory 0x80000000-0x88000000$"]),
        # The guest's own exceptions reach the guest (hedeleg), not us.
        Ordered("guest-exceptions", [r"^guest: check misaligned-amo: ok$",
                                     r"^guest: check misaligned-lr: ok$"]),
        Custom("memory-map", memory_map_disjoint),
        Ordered("memory-test", [r"^guest: check memory-pattern: ok$",
                                r"^guest: memory test: \d+ pages written and read back$"]),
        Absent("no-errors", r"FAIL|panic|unexpected|error"),
        Custom("poweroff", powered_off_last),
        Custom("exits", exits_counted, points=0),
    ]


def lab_fault_cases(lab):
    """What every lab must do with a guest that misbehaves, a CPU without H,
    and a payload that is not the test guest."""
    return [
        Case(f"lab{lab}-isolation", lab, 1, [
            Ordered("isolation", [r"^guest: reading outside my RAM at 0x88000000$",
                                  r"^hyp: guest fault: load at guest-physical 0x88000000, "
                                  r"guest pc 0x802[0-9a-f]{5}: not guest RAM$",
                                  r"^hyp: stopping the machine$"]),
            Absent("guest stopped", r"^guest: check isolation"),
        ], guest="build/guest/guest-oob.bin", exit_status=1, timeout=10),
        Case(f"lab{lab}-no-h", lab, 1, [
            Ordered("no-h", [r"^hyp: error: hart \d+ cannot run a hypervisor: no H extension"]),
            Absent("no guest without H", r"^guest:"),
        ], qemu_extra="-cpu rv64,h=false", exit_status=1, timeout=10),
        Case(f"lab{lab}-payload", lab, 1, [
            Ordered("payload", [r"^hello: a payload that is not the test guest$",
                                r"^hello: a1 points at a device tree$",
                                r"^hyp: guest powered off$"]),
        ], guest="build/payloads/hello.bin", exit_status=0, timeout=10),
    ]


def lab1_cases():
    # Lab 1 must not depend on the other harts: the same checks at any SMP.
    return [Case(f"lab1-smp{smp}", 1, smp, lab_guest_checks(1, 1), exit_status=0, timeout=10)
            for smp in (1, 2, 4, 8)] + lab_fault_cases(1) + fuzz_guest_cases(1, (1,), seeds=(1,))


# ---------------------------------------------------------------------------
# Lab 2 (labs/02-dtb): the harts come from the device tree.
# ---------------------------------------------------------------------------
def hart_table(lines):
    """The boot hart and the hypervisor's table: {hart id: use}."""
    boot, table = None, {}
    for line in lines:
        m = re.search(r"^hyp: RISC-V hypervisor lab \d+, booted on hart (\d+)$", line)
        if m:
            boot = int(m.group(1))
        m = re.search(r"^hyp:   hart (\d+) +(\(boot\))? +(.*)$", line)
        if m:
            table[int(m.group(1))] = (m.group(3), m.group(2) is not None)
    return boot, table


def expect_harts(want):
    """A check that the table lists exactly the harts in `want` ({id: use
    word}), with the boot hart marked once and used."""
    def check(lines, case):
        boot, table = hart_table(lines)
        got = {h: use.split()[0] if use else "" for h, (use, _) in table.items()}
        wanted = want(case) if callable(want) else want
        if got != wanted:
            return False, f"harts {wanted}, got {got}"
        marked = [h for h, (_, is_boot) in table.items() if is_boot]
        if marked != [boot] or got.get(boot) != "used":
            return False, f"the boot hart ({boot}) marked (boot) once and used, got {marked}"
        return True, ""
    return check


def guest_dtb_line(n):
    """The hypervisor built the guest a tree of n vCPUs whose ISA has no 'h',
    and no supervisor, hypervisor or vendor extension (s..., h..., x...):
    none of them works in VS-mode without the hypervisor's help. The one
    exception: sstc, when the hypervisor says it gives the guest Sstc (lab 5,
    henvcfg.STCE; guest_sstc checks that it works)."""
    def check(lines, case):
        sstc = any(l.startswith("hyp: guest timer: Sstc") for l in lines)
        for line in lines:
            m = re.search(r"^hyp: guest device tree: (\d+) vCPUs, isa (rv64\S*), \d+ bytes", line)
            if m:
                if int(m.group(1)) != n:
                    return False, f"{n} vCPUs, got {m.group(1)}"
                # The single letters end at '_' or a multi-letter name (z, s, x).
                isa = m.group(2)[4:]
                end = re.search(r"[_zsx]|$", isa).start()
                letters, names = isa[:end], isa[end:].split("_")
                if "h" in letters:
                    return False, f"an ISA without 'h', got {m.group(2)}"
                privileged = [e for e in names if e[:1] in ("s", "h", "x")
                              and not (sstc and e == "sstc")]
                if privileged:
                    return False, f"an ISA without {', '.join(privileged)}, got {m.group(2)}"
                return True, ""
        return False, "a line 'hyp: guest device tree: N vCPUs, isa ...'"
    return check


def lab2_cases():
    cases = []
    for smp in (1, 2, 4, 8):
        cases.append(Case(f"lab2-smp{smp}", 2, smp, lab_guest_checks(2, smp) + [
            Custom("hart-table", expect_harts(lambda c: {h: "used" for h in range(c.smp)})),
            Custom("guest-dtb", guest_dtb_line(smp)),
        ], exit_status=0, timeout=10))
    # More cpus than HYP_MAX_HARTS (8): the first ones, boot hart always in.
    cases.append(Case("lab2-smp12", 2, 12, [
        Ordered("over-limit", [r"^hyp: using 8 of 12 cpus \(this build's limit: HYP_MAX_HARTS = 8\)$",
                               r"^guest: device tree: 8 cpus"]),
        Custom("guest-dtb", guest_dtb_line(8)),
        Count("eight used", r"^hyp:   hart \d+ +(\(boot\))? +used$", 8),
        Ordered("poweroff", [r"^guest: all checks passed$", r"^hyp: guest powered off$"]),
    ], exit_status=0, timeout=20))
    cases.append(Case("lab2-cpu1-disabled", 2, 4, [
        Custom("disabled-cpu", expect_harts({0: "used", 1: "disabled", 2: "used", 3: "used"})),
        Ordered("device-tree", [r"^guest: device tree: 3 cpus"]),
        Custom("guest-dtb", guest_dtb_line(3)),
    ], qemu_extra=dtb("cpu1-disabled"), exit_status=0, timeout=10))

    def no_h_hart2(lines, case):
        """Hart 2's tree entry has no 'h'. If it booted (a lottery), the
        hypervisor must refuse to run; otherwise it leaves hart 2 out."""
        boot, table = hart_table(lines)
        if boot == 2:
            ok = any(re.search(r"^hyp: error: .*boot hart is not a usable cpu", l) for l in lines)
            return ok, "the boot hart (2) refused: no H in its riscv,isa"
        return expect_harts({0: "used", 1: "used", 2: "no", 3: "used"})(lines, case)
    cases.append(Case("lab2-cpu2-no-h", 2, 4, [Custom("no-h-cpu", no_h_hart2)],
                      qemu_extra=dtb("cpu2-no-h"), timeout=10))
    for name, why in (("no-memory", "no /memory node with a reg"),
                      ("cpu3-no-reg", "a cpu node has no valid reg")):
        cases.append(Case(f"lab2-{name}", 2, 4, [
            Ordered(f"bad-tree-{name}", [rf"^hyp: error: the firmware's device tree at {HEX}: {re.escape(why)}$"]),
            Absent("no guest on a bad tree", r"^guest:"),
        ], qemu_extra=dtb(name), exit_status=1, timeout=10))
    return cases + lab_fault_cases(2) + fuzz_guest_cases(2, (1,), seeds=(1,))


# ---------------------------------------------------------------------------
# Lab 3 (labs/03-secondary): every hart comes online, parks, and sees IPIs.
# ---------------------------------------------------------------------------
def secondaries_online(expected_ids):
    """Each secondary (every hart in expected_ids but the boot hart) comes
    online exactly once, in the firmware's HSM state started."""
    def check(lines, case):
        boot, _ = hart_table(lines)
        want = sorted(set(expected_ids(case)) - {boot})
        seen = {}
        for line in lines:
            m = re.search(r"^hyp: hart (\d+) online: entered (\d+) times?, stack top "
                          rf"{HEX}, HSM state (.+)$", line)
            if m:
                seen.setdefault(int(m.group(1)), []).append((int(m.group(2)), m.group(3)))
        if sorted(seen) != want:
            missing = [h for h in want if h not in seen]
            count = matching(lines, r"^hyp: \d+ of \d+ harts online$")
            if missing:
                harts = ", ".join(map(str, missing))
                return False, (f"hart{'s' if len(missing) > 1 else ''} {harts} did not come "
                               f"online (boot hart {boot})"), count
            return False, f"harts {want} online (boot hart {boot}), got {sorted(seen)}", count
        for hart, events in seen.items():
            if events != [(1, "started")]:
                return False, f"hart {hart} online once, entered once, HSM started; got {events}"
        return True, ""
    return check


def ipis_seen(expected_ids):
    """Each parked hart wakes once for its own IPI, then once for the broadcast."""
    def check(lines, case):
        boot, _ = hart_table(lines)
        want = sorted(set(expected_ids(case)) - {boot})
        woken = [int(m.group(1)) for m in
                 (re.search(r"^hyp: IPI to hart (\d+): woken, 1 wake-up$", l) for l in lines) if m]
        if sorted(woken) != want:
            return False, f"one 'IPI to hart N: woken, 1 wake-up' for each of {want}, got {woken}"
        n = len(want)
        if f"hyp: IPI to all {n} parked harts: {n} woken" not in lines:
            return False, f"the line 'hyp: IPI to all {n} parked harts: {n} woken'"
        return True, ""
    return check


def lab3_checks(smp):
    every_hart = lambda c: range(c.smp)  # noqa: E731
    return lab_guest_checks(3, smp) + [
        Custom("hart-table", expect_harts(lambda c: {h: "used" for h in range(c.smp)})),
        Custom("guest-dtb", guest_dtb_line(smp)),
        Custom("secondaries-online", secondaries_online(every_hart)),
        Ordered("all-online", [rf"^hyp: {smp} of {smp} harts online$"]),
        Custom("ipis", ipis_seen(every_hart)),
    ]


def trace_case(lab, smp, checks, timeout):
    """The lab's trace build (TRACE=1) with the test guest: the normal
    checks, on the console without the dump, and the trace checks
    (trace_checks.py), which judge the order of what the harts did. The
    dump of a few thousand lines goes through the SBI console: a second or so."""
    return Case(f"lab{lab}-trace-smp{smp}", lab, smp, checks + trace_checks.trace_checks(lab),
                exit_status=0, timeout=timeout, trace=True)


def lab3_cases():
    cases = [Case(f"lab3-smp{smp}", 3, smp, lab3_checks(smp), exit_status=0, timeout=10)
             for smp in (1, 2, 4, 8)]
    cases.append(trace_case(3, 4, lab3_checks(4), timeout=15))
    # Hart 9 is in the device tree but not in QEMU: it never comes, is named,
    # and the others carry on; the guest gets a vCPU per hart that came.
    cases.append(Case("lab3-missing-hart", 3, 4, [
        Ordered("missing-hart", [r"^hyp: error: hart 9 did not come online within \d+ ms$",
                                 r"^hyp: 4 of 5 harts online$"]),
        Custom("others-online", secondaries_online(lambda c: range(4))),
        Custom("others-ipis", ipis_seen(lambda c: range(4))),
        Custom("guest-dtb", guest_dtb_line(4)),
        Ordered("poweroff", [r"^guest: device tree: 4 cpus", r"^guest: all checks passed$",
                             r"^hyp: guest powered off$"]),
    ], qemu_extra=dtb("extra-cpu9"), exit_status=0, timeout=15))
    return cases + lab_fault_cases(3) + fuzz_guest_cases(3, (1,), seeds=(1,))


# ---------------------------------------------------------------------------
# Lab 4 (labs/04-sync): locks, a torture test, and the VM rendezvous.
# ---------------------------------------------------------------------------
def vcpus_once(lines, case):
    """Every vCPU 0..smp-1 is created exactly once, each by its own hart, the
    boot hart's being vCPU 0."""
    boot, _ = hart_table(lines)
    made = [tuple(map(int, m.groups())) for m in
            (re.search(r"^hyp: hart (\d+): vCPU (\d+) created, powered off$", l) for l in lines) if m]
    harts = sorted(h for h, _ in made)
    vcpus = sorted(v for _, v in made)
    if vcpus != list(range(case.smp)) or harts != list(range(case.smp)):
        return False, f"vCPUs 0..{case.smp - 1} created once each by harts 0..{case.smp - 1}, got {made}"
    if (boot, 0) not in made:
        return False, f"vCPU 0 on the boot hart ({boot}), got {made}"
    return True, ""


def rendezvous(lines, case):
    """The VM exists before any vCPU is added; the boot hart says all are in
    only after the last one, and starts vCPU 0 only after that."""
    n = case.smp

    def first(pattern):
        return next((i for i, l in enumerate(lines) if re.search(pattern, l)), None)
    created = first(rf"^hyp: VM created for {n} vCPUs$")
    adds = [i for i, l in enumerate(lines) if re.search(r"^hyp: hart \d+: vCPU \d+ created", l)]
    all_in = first(rf"^hyp: all {n} of {n} vCPUs in: the VM may run$")
    start = first(r"^hyp: starting vCPU 0 on hart")
    if None in (created, all_in, start) or not adds:
        return False, (f"'VM created for {n} vCPUs', the vCPUs added, 'all {n} of {n} vCPUs in', "
                       "then 'starting vCPU 0', in that order")
    if not created < min(adds) <= max(adds) < all_in < start:
        return False, "VM created < every vCPU added < all in < vCPU 0 started"
    return True, ""


def torture_exact(lines, case):
    """Both locks: the shared counter equals the sum of the harts' counts."""
    seen = []
    for line in lines:
        m = re.search(r"^hyp: lock torture, (test-and-set lock|ticket lock): (\d+) harts for \d+ ms: "
                      r"counter (\d+), sum of the harts' counts (\d+) ", line)
        if m:
            seen.append(m.group(1))
            if int(m.group(2)) != case.smp or m.group(3) != m.group(4) or m.group(3) == "0":
                return False, f"{case.smp} harts and counter == sum > 0, got: {line}"
    if seen != ["test-and-set lock", "ticket lock"]:
        return False, "a torture line for the test-and-set lock, then one for the ticket lock"
    return True, ""


def whole_lines(lines, case):
    """After the hypervisor's banner, every line is one whole message: it
    starts with 'hyp: ', 'guest: ' or 'panic: ', and says so only once."""
    start = next((i for i, l in enumerate(lines) if l.startswith("hyp: RISC-V hypervisor")), None)
    if start is None:
        return False, "the hypervisor's banner"
    for line in lines[start:]:
        if not re.match(r"^(hyp|guest|panic): ", line) or len(re.findall(r"(hyp|guest|panic): ", line)) > 1:
            return False, f"whole lines, got {line!r}"
    return True, ""


def lab4_checks(smp, lab=4):
    every_hart = lambda c: range(c.smp)  # noqa: E731
    return lab_guest_checks(lab, smp) + [
        Custom("hart-table", expect_harts(lambda c: {h: "used" for h in range(c.smp)})),
        Custom("guest-dtb", guest_dtb_line(smp)),
        Custom("secondaries-online", secondaries_online(every_hart)),
        Custom("ipis", ipis_seen(every_hart)),
        Custom("torture", torture_exact),
        Custom("vcpus-once", vcpus_once),
        Custom("rendezvous", rendezvous),
        Custom("whole-lines", whole_lines),
    ]


def lab4_cases():
    cases = [Case(f"lab4-smp{smp}", 4, smp, lab4_checks(smp), exit_status=0, timeout=15)
             for smp in (1, 2, 4, 8)]
    # Real parallelism, named: each hart in its own host thread.
    cases += [Case(f"lab4-mttcg-smp{smp}", 4, smp, lab4_checks(smp), exit_status=0, timeout=15,
                   qemu_extra="-accel tcg,thread=multi") for smp in (2, 8)]
    cases += [trace_case(4, smp, lab4_checks(smp), timeout=20) for smp in (4, 8)]
    # Hart 9 never comes and is listed first: the others still form vCPUs 0..3.
    cases.append(Case("lab4-missing-hart", 4, 4, [
        Ordered("missing-hart", [r"^hyp: error: hart 9 did not come online within \d+ ms$",
                                 r"^hyp: 4 of 5 harts online$"]),
        Custom("torture", torture_exact),
        Custom("vcpus-once", vcpus_once),
        Custom("rendezvous", rendezvous),
        Ordered("poweroff", [r"^guest: device tree: 4 cpus", r"^guest: all checks passed$",
                             r"^hyp: guest powered off$"]),
    ], qemu_extra=dtb("extra-cpu9-first"), exit_status=0, timeout=15))
    return cases + lab_fault_cases(4) + fuzz_guest_cases(4, (1,), seeds=(1,))


# ---------------------------------------------------------------------------
# Lab 5 (labs/05-hsm): the guest starts its own vCPUs; Linux with 4 vCPUs.
# ---------------------------------------------------------------------------
def guest_checks_ok(name, checks):
    """Each named check of the test guest printed 'ok'."""
    return Ordered(name, [rf"^guest: check {c}: ok$" for c in checks])


def guest_harts_up(lines, case):
    """Each vCPU but vCPU 0 says once that it is up, and all are counted."""
    up = sorted(int(m.group(1)) for m in
                (re.search(r"^guest: hart (\d+) is up$", l) for l in lines) if m)
    if up != list(range(1, case.smp)):
        return False, f"'guest: hart N is up' once for N = 1..{case.smp - 1}, got {up}"
    if f"guest: {case.smp} of {case.smp} harts up" not in lines:
        return False, f"'guest: {case.smp} of {case.smp} harts up'"
    return True, ""


def lab5_checks(smp):
    # Lab 5 runs lab 4's locks without torturing them again (its main.c).
    checks = [c for c in lab4_checks(smp, lab=5) if c.name != "torture"]
    checks += [
        guest_checks_ok("hsm-errors", ["hsm-start-bad-hart", "hsm-status-bad-hart",
                                       "hsm-start-running", "hsm-status-self"]
                        + (["hsm-status-stopped", "hsm-start-bad-address",
                            "hsm-start-odd-address", "hsm-suspend-odd-address",
                            "hsm-suspend-reserved-type"] if smp > 1 else [])),
        guest_checks_ok("hsm-start-stop", ["hsm-start-stop"]),
        Custom("guest-harts-up", guest_harts_up),
        guest_checks_ok("guest-timer", ["timer"]),
        timer_sip(5),
        Custom("guest-sstc", guest_sstc),
        Custom("timer-exits", timer_exits),
        guest_checks_ok("guest-rfence", ["rfence-fence-i", "rfence-sfence-vma",
                                         "rfence-sfence-vma-asid", "rfence-bad-hart"]),
    ]
    if smp > 1:
        checks += [
            guest_checks_ok("guest-ipi", ["hsm-start-pending", "hsm-status-started", "ipi",
                                          "ipi-broadcast", "ipi-bad-hart"]),
            guest_checks_ok("guest-suspend", ["hsm-status-suspended", "hsm-start-suspended",
                                              "hsm-suspend-retentive", "hsm-suspend-type-32bit",
                                              "hsm-suspend-non-retentive"]),
            guest_checks_ok("guest-timer-hsm", GUEST_TIMER_HSM_CHECKS),
        ]
    return checks


LINUX = dict(guest="build/linux/Image", initrd="build/linux/initramfs.cpio")
STALL = 10


def linux_checks(smp, lab=5):
    checks = [
        Ordered("linux-boots", [r"Linux version 6\.1", r"smp: Bringing up secondary CPUs",
                                rf"smp: Brought up 1 node, {smp} CPUs?$"]),
        Ordered("linux-init", [rf"^init: {smp} CPUs online$"]),
        Absent("no-kernel-panic", r"Kernel panic|Oops|BUG:|hyp: unexpected|panic: "),
    ]
    if lab != "native":
        checks += [Custom("exits", exits_counted), Custom("timer-exits", linux_timer_exits)]
    return checks


def lab5_cases():
    cases = [Case(f"lab5-smp{smp}", 5, smp, lab5_checks(smp), exit_status=0, timeout=20)
             for smp in (1, 2, 4, 8)]
    cases.append(Case("lab5-mttcg-smp8", 5, 8, lab5_checks(8), exit_status=0, timeout=20,
                      qemu_extra="-accel tcg,thread=multi"))
    cases.append(trace_case(5, 4, lab5_checks(4), timeout=25))
    # Linux 6.1, unmodified, with 1, 2, 4 and 8 vCPUs; and natively, the reference.
    # Linux needs hart_start, the timer and IPIs: without them it would wait
    # out its timeout silently, so it boots only when the test guest found
    # them working.
    needs = ("lab5-smp4", ["hsm-start-stop", "guest-harts-up", "guest-timer", "guest-ipi"])
    # A Linux that falls silent for STALL seconds (it boots in about one)
    # has stalled: the grader asks QEMU where the vCPUs wait, and stops.
    cases += [Case(f"lab5-linux-smp{smp}", 5, smp, linux_checks(smp), exit_status=0,
                   timeout=90, requires=needs, stall=STALL, **LINUX) for smp in (1, 2, 4, 8)]
    # Without Sstc (QEMU's harts lack it) the guest's timer goes through SBI
    # and our own timer: the other way the lab must work.
    nosstc = "-cpu rv64,sstc=false"
    cases.append(Case("lab5-nosstc-smp4", 5, 4, lab5_checks(4), exit_status=0, timeout=20,
                      qemu_extra=nosstc))
    cases.append(Case("lab5-linux-nosstc-smp4", 5, 4, linux_checks(4), exit_status=0,
                      timeout=90, requires=needs, stall=STALL, qemu_extra=nosstc, **LINUX))
    cases.append(Case("native-linux-smp4", "native", 4, linux_checks(4, "native"), exit_status=0,
                      timeout=90, stall=STALL, **LINUX))
    # A guest that stops its only running vCPU: nothing can start one again,
    # so the hypervisor ends the machine at once, with status 1.
    cases.append(Case("lab5-stop-all", 5, 2, [
        Ordered("all-stopped", [r"^stop-all: hart_stop on the only running hart$",
                                r"^hyp: every vCPU is stopped \(hart_stop\) and none can start "
                                r"another: stopping the machine$"]),
    ], guest="build/payloads/stop-all.bin", exit_status=1, timeout=10))
    return cases + lab_fault_cases(5) + fuzz_guest_cases(5, (1, 2, 4, 8))


# ---------------------------------------------------------------------------
# Points for the lesson. A check earns its points only where it judges what
# the student writes in that lab: the checks of LESSON[lab] (the ones the
# untouched handout of the lab fails), in the lab's cases with more than one
# hart in labs 2-4 (with one hart they have nothing new to do), and not
# in the fault cases (isolation, no-h, payload: lab 1's machinery, which no
# handout stubs) nor in the trace cases (their normal checks are an smp
# case's again, on the trace build; the trace checks are not in LESSON).
# Every other check is infrastructure: still run and shown, worth 0 points.
# `python3 grader/handout.py --check` proves that the untouched handout of
# each lab scores at most 10% of its points, and the solution all of them.
# ---------------------------------------------------------------------------
LESSON = {
    1: {"sbi-base", "sbi-errors", "no-errors", "poweroff", "exit status 0"},
    2: {"device-tree", "guest-dtb", "over-limit", "eight used"},
    3: {"device-tree", "guest-dtb", "secondaries-online", "all-online", "ipis",
        "missing-hart", "others-online", "others-ipis"},
    4: {"boots", "sbi-base", "sbi-errors", "device-tree", "memory-map", "memory-test",
        "no-errors", "poweroff", "guest-dtb", "torture", "vcpus-once", "rendezvous",
        "exit status 0"},
    5: {"no-errors", "poweroff", "hsm-errors", "hsm-start-stop", "guest-harts-up",
        "guest-timer", "timer-sip", "guest-ipi", "guest-suspend", "linux-boots",
        "linux-init"},
}


def lesson_points(case):
    """The case with 0 points on each check that is not its lab's lesson."""
    if case.lab == "native":
        return case
    # The fault cases, and the misbehaving guest: infrastructure, every lab's.
    fault = case.name.endswith(("-isolation", "-no-h", "-payload", "-stop-all")) or \
        "-fuzzguest-" in case.name
    one_hart = case.smp == 1 and case.lab in (2, 3, 4)
    lesson = LESSON[case.lab] if not one_hart and not fault and not case.trace else set()
    for i, check in enumerate(case.checks):
        if check.name not in lesson:
            case.checks[i] = copy.copy(check)
            case.checks[i].points = 0
    return case


# ---------------------------------------------------------------------------
# What each check needs. When a check fails because another failed first (no
# hart came online, so the guest saw one cpu), the report shows the first
# one, the cause, and lists the others on one line. A panic, an error or a
# guest's FAIL line (no-errors and its kin) is evidence everything needs: it
# says more than any check it breaks. A timeout and QEMU's exit status need
# every other check: they are the cause only when nothing else says more.
# Only the report uses this; every check still runs and scores on its own.
# ---------------------------------------------------------------------------
EVIDENCE = ("no-errors", "no FAIL lines", "no-kernel-panic")
NEEDS = {
    "greeting": ["boots"],
    "cpu count": ["device-tree"],
    "all checks passed": ["boots"],
    "sbi-base": ["boots"],
    "sbi-errors": ["boots"],
    "device-tree": ["boots", "guest-dtb"],
    "memory-test": ["boots"],
    "guest-exceptions": ["boots"],
    "poweroff": ["boots", "guest-dtb", "rendezvous"],
    "boots": ["rendezvous"],
    # Labs 3-5: the other harts come online, then everything that uses them.
    "secondaries-online": ["hart-table"],
    "all-online": ["secondaries-online"],
    "ipis": ["secondaries-online"],
    "guest-dtb": ["hart-table", "secondaries-online", "others-online"],
    "missing-hart": ["others-online"],
    "others-online": ["hart-table"],
    "others-ipis": ["others-online"],
    "torture": ["secondaries-online"],
    "vcpus-once": ["secondaries-online", "torture"],
    "rendezvous": ["vcpus-once"],
    # Lab 5: the guest's own harts.
    "hsm-errors": ["boots"],
    "hsm-start-stop": ["boots"],
    "guest-harts-up": ["hsm-start-stop"],
    "guest-timer": ["boots"],
    "timer-sip": ["guest-timer"],
    "guest-rfence": ["guest-harts-up"],
    "guest-ipi": ["guest-harts-up"],
    "guest-suspend": ["guest-harts-up", "guest-ipi", "guest-timer"],
    "linux-init": ["linux-boots"],
    # Every lab: the exit table printed at power-off.
    "exits": ["poweroff", "linux-init"],
    "guest-sstc": ["guest-timer"],
    "guest-timer-hsm": ["guest-harts-up", "guest-timer", "guest-suspend"],
    "timer-exits": ["exits", "guest-timer"],
    # The trace cases (trace_checks.py): the dump comes at power-off; the
    # order of what the harts did matters once they do it at all.
    "trace-dump": ["poweroff"],
    "parked-wakes-for-ipi": ["trace-dump", "secondaries-online", "ipis"],
    "locks-exclusive": ["trace-dump", "torture"],
    "barrier-waits": ["trace-dump", "secondaries-online"],
    "trace-rendezvous": ["trace-dump", "vcpus-once", "rendezvous"],
    "hart-start-order": ["trace-dump", "hsm-start-stop", "guest-harts-up"],
    # The fault cases.
    "guest stopped": ["isolation"],
    "no guest without H": ["no-h"],
}


def with_needs(case):
    """The case with each check's needs (NEEDS, EVIDENCE, and every check
    for the exit status), kept to the checks the case has."""
    names = [c.name for c in case.checks]
    for i, check in enumerate(case.checks):
        if check.name.startswith("exit status"):
            needs = [n for n in names if n != check.name]
        elif check.name in EVIDENCE:
            needs = []
        else:
            needs = [n for n in names if n in EVIDENCE or n in NEEDS.get(check.name, ())]
        case.checks[i] = copy.copy(check)
        case.checks[i].needs = tuple(needs)
    return case


def cases():
    return [with_needs(lesson_points(c)) for c in native_cases() + lab1_cases() + lab2_cases()
            + lab3_cases() + lab4_cases() + lab5_cases()]
