"""The grader's cases: what each lab must boot and print.

grade.py and mutants.py take their cases from cases() here, also when they
grade another checkout (--tree), so a student's tree cannot weaken them.
Check kinds and Case are described in gradelib.py.
"""
import re

from gradelib import Absent, Case, Count, Custom, ExitStatus, Ordered  # noqa: F401

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


def native_cases():
    """The test guest on OpenSBI alone: the reference every lab is held to."""
    return [Case(f"native-smp{smp}", "native", smp, guest_checks(), exit_status=0)
            for smp in (1, 4)]


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
    last thing on the console: nothing ran after it."""
    text = [l for l in lines if l.strip()]
    if len(text) < 2 or text[-2:] != ["guest: all checks passed", "hyp: guest powered off"]:
        return False, ("the last two lines 'guest: all checks passed' and 'hyp: guest powered off', "
                       f"got {text[-2:]}")
    return True, ""


def lab1_guest_checks():
    """A normal boot of the test guest on lab 1."""
    return [
        Ordered("boots", [r"^hyp: RISC-V hypervisor lab 01, booted on hart \d+$",
                          r"^hyp: running in HS-mode with the H extension$",
                          r"^hyp: starting vCPU 0 on hart \d+ at guest-physical 0x80200000$",
                          r"^guest: hello from hart 0, device tree at 0x87e00000$"]),
        Ordered("sbi-base", [r"^guest: SBI spec 2\.0, implementation 0x4c414253 version 0x1$",
                             r"^guest: extensions: base srst dbcn legacy-putchar$",
                             r"^guest: no HSM extension: running on one hart$"]),
        Ordered("sbi-errors", [rf"^guest: check {name}: ok$" for name in (
            "unknown-extension", "unknown-base-function", "probe-absent", "probe-base",
            "srst-reserved-type", "dbcn-write", "dbcn-bad-address")]),
        Ordered("device-tree", [r"^guest: device tree: 1 cpus, memory 0x80000000-0x88000000$"]),
        Custom("memory-map", memory_map_disjoint),
        Ordered("memory-test", [r"^guest: check memory-pattern: ok$",
                                r"^guest: memory test: \d+ pages written and read back$"]),
        Absent("no-errors", r"FAIL|panic|unexpected|error"),
        Custom("poweroff", powered_off_last),
    ]


def lab1_cases():
    # Lab 1 must not depend on the other harts: the same checks at SMP=1 and 4.
    cases = [Case(f"lab1-smp{smp}", 1, smp, lab1_guest_checks(), exit_status=0, timeout=10)
             for smp in (1, 4)]
    cases.append(Case("lab1-isolation", 1, 1, [
        Ordered("isolation", [r"^guest: reading outside my RAM at 0x88000000$",
                              r"^hyp: guest fault: load at guest-physical 0x88000000, "
                              r"guest pc 0x802[0-9a-f]{5}: not guest RAM$",
                              r"^hyp: stopping the machine$"]),
        Absent("guest stopped", r"^guest: check isolation"),
    ], guest="build/guest/guest-oob.bin", exit_status=1, timeout=10))
    cases.append(Case("lab1-no-h", 1, 1, [
        Ordered("no-h", [r"^hyp: error: hart \d+ cannot run a hypervisor: no H extension"]),
        Absent("no guest without H", r"^guest:"),
    ], qemu_extra="-cpu rv64,h=false", exit_status=1, timeout=10))
    cases.append(Case("lab1-payload", 1, 1, [
        Ordered("payload", [r"^hello: a payload that is not the test guest$",
                            r"^hello: a1 points at a device tree$",
                            r"^hyp: guest powered off$"]),
    ], guest="build/payloads/hello.bin", exit_status=0, timeout=10))
    return cases


def cases():
    return native_cases() + lab1_cases()
