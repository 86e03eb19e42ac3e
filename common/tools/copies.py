#!/usr/bin/env python3
"""make copies-check: each lab is the lab before it plus its lesson, and the
rest of it is a byte-identical copy. This holds the labs to that.

    python3 common/tools/copies.py              check labs/
    python3 common/tools/copies.py --selftest   prove, on a temporary copy of
                                                labs/, that it catches both
                                                kinds of failure

Every .c, .h and .S file of labs/NN-name/ is compared with the same file of
the lab before it. LESSONS below lists, for each lab, the files its lesson
changes, adds (+) or removes (-); every other one must be identical. A file
that differs and is not listed fails, with the two labs and the first line
that differs: a fix made in one lab is carried into every later lab that has
the file, so that `make diff LAB=n` shows lab n's lesson and nothing else. A
listed file that is in fact identical, or not added or removed as listed,
fails too: the table must stay true. A deliberate change is one edit here.
Closes with 'copies: N passed, N failed' (one per file per lab, and one per
entry that names a file neither lab has); exits 1 if any failed.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCES = (".c", ".h", ".S")

# What each lab's lesson does to the sources of the lab before it (the
# labs' READMEs, section 1). "+f": f is new; "-f": f is gone; "f": f changes.
LESSONS = {
    "02-dtb": {
        "+fdt.c +fdt.h": "a device-tree reader",
        "+platform.c +platform.h": "the harts and memory, from the firmware's tree",
        "+guestdt.c +guestdt.h": "the guest's tree, written at boot",
        "+param.h": "the build's limits: HYP_MAX_HARTS, HART_ISA_MAX, ...",
        "-guest_dtb.S": "lab 01's guest tree, compiled by dtc, is gone",
        "main.c": "platform_init, and guest_dtb_build instead of guest_dtb_load",
        "memlayout.h": "HOST_FDT_MAX, the most of the firmware's tree read",
    },
    "03-secondary": {
        "+hart.c +hart.h": "per-hart state, starting the secondaries, the park loop",
        "entry.S": "secondary_entry, where harts started by HSM arrive",
        "main.c": "hart_start_secondaries, one vCPU per online hart, and hyp_secondary_main",
        "param.h": "HART_STACK_SIZE, HART_ONLINE_TIMEOUT_MS",
        "+trace.c +trace.h": "the per-hart event trace (make lab3 TRACE=1)",
        "vcpu.c vcpu.h vsbi.c machine.c": "trace points: guest entry, exits, power-off, the dump",
    },
    "04-sync": {
        "+spinlock.c +spinlock.h": "the locks, the barrier, interrupts off while locked",
        "+torture.c +torture.h": "every hart hammers each lock",
        "+vm.c +vm.h": "the one VM, and each hart adding its vCPU",
        "vcpu.c vcpu.h": "a lock and a run state per vCPU",
        "hart.c hart.h": "hart_park_until, hart_wait_released, numbered harts",
        "console.c console.h": "whole lines under the console lock",
        "vsbi.c": "the guest's console output through console_write",
        "main.c": "torture, VM, vCPUs, then the guest, on the boot hart and the others",
        "param.h": "TORTURE_MS",
        "trace.c trace.h": "lock, barrier and rendezvous events; a limit per lock",
    },
    "05-hsm": {
        "vsbi.c vsbi.h": "HSM, TIME, IPI and RFENCE for the guest",
        "vcpu.c vcpu.h": "VCPU_SUSPENDED, requests from other harts, interrupts as exits, "
                         "Sstc for the guest",
        "trap.S": "vcpu_leave: hart_stop returns from vcpu_enter",
        "param.h -torture.c -torture.h": "no lock torture: lab 04's grader tortures the same locks",
        "vm.c vm.h": "vm_add_vcpu records the hart that adds the vCPU; vm_all_stopped",
        "platform.c platform.h": "reads /chosen's initrd (QEMU's -initrd); "
                                 "platform_isa_has_ext (sstc)",
        "guestdt.c guestdt.h": "names the initrd in the guest's /chosen",
        "main.c": "guest_initrd_load; hyp_run_vcpu, every hart's last loop",
        "trace.c trace.h": "hart_start, suspend and hart_stop events",
    },
}


def labs_in(labs_dir):
    """The lab directories, NN-name, in order."""
    return sorted(d for d in os.listdir(labs_dir)
                  if re.fullmatch(r"\d\d-.+", d) and os.path.isdir(os.path.join(labs_dir, d)))


def sources(lab_dir):
    return {f for f in os.listdir(lab_dir)
            if f.endswith(SOURCES) and os.path.isfile(os.path.join(lab_dir, f))}


def expected(lessons, lab):
    """{file: "changed" | "added" | "removed"} from lessons[lab]."""
    kinds = {"+": "added", "-": "removed"}
    out = {}
    for names in lessons.get(lab, {}):
        for name in names.split():
            out[name.lstrip("+-")] = kinds.get(name[0], "changed")
    return out


def first_difference(a, b):
    """The first line (from 1) where two files' bytes differ, and its text in each."""
    la, lb = a.splitlines(True), b.splitlines(True)
    n = next((i for i, (x, y) in enumerate(zip(la, lb)) if x != y), min(len(la), len(lb)))

    def show(lines):
        if n >= len(lines):
            return "(the file ends before it)"
        text = lines[n].rstrip(b"\r\n").decode("utf-8", "replace").expandtabs(8)
        return repr(text if len(text) <= 100 else text[:100] + "...")
    return n + 1, show(la), show(lb)


def check(labs_dir, lessons):
    """Every source file of every lab against the lab before it. Returns
    (passed, [failure message])."""
    labs = labs_in(labs_dir)
    passed, failures = 0, []
    # A lab LESSONS names but labs_dir lacks is not looked for: the handout of
    # assignment N holds labs 01 to N only. (A misspelt lab is caught all the
    # same: the lab meant has changes nothing lists.)
    for prev, lab in zip(labs, labs[1:]):
        want = expected(lessons, lab)
        old, new = sources(os.path.join(labs_dir, prev)), sources(os.path.join(labs_dir, lab))
        where = f"(LESSONS['{lab}'] in common/tools/copies.py)"
        for f in sorted(old | new):
            a_path, b_path = os.path.join(labs_dir, prev, f), os.path.join(labs_dir, lab, f)
            listed = want.pop(f, None)
            if f in old and f in new:
                with open(a_path, "rb") as fa, open(b_path, "rb") as fb:
                    a, b = fa.read(), fb.read()
                got = "changed" if a != b else "identical"
            else:
                got = "added" if f in new else "removed"
            if got == (listed or "identical"):
                passed += 1
                continue
            if got == "changed":
                line, x, y = first_difference(a, b)
                failures.append(
                    f"labs/{lab}/{f} differs from labs/{prev}/{f}, and its lesson does not "
                    f"list it {where}\n"
                    f"    first difference, line {line}:\n"
                    f"      {prev}: {x}\n"
                    f"      {lab}: {y}\n"
                    f"    a copy stays identical: carry the change into every lab that has "
                    f"{f}, or list it as {lab}'s lesson")
            elif got == "identical":
                failures.append(f"labs/{lab}/{f} is listed as {listed} by its lesson {where}, "
                                f"but it is identical to labs/{prev}/{f}: take it off the list")
            else:
                spelled = {"added": "+" + f, "removed": "-" + f, "changed": f}
                failures.append(f"{f} is {got} in labs/{lab} (from labs/{prev}), but its lesson "
                                f"lists it as {listed or 'a copy'} {where}: list it as "
                                f"'{spelled[got]}'")
        for f, kind in sorted(want.items()):
            failures.append(f"{f} is listed as {kind} in {lab}'s lesson {where}, but neither "
                            f"labs/{prev} nor labs/{lab} has it")
    return passed, failures


def true_lessons(labs_dir):
    """The table that is true of labs_dir, one entry per file."""
    table = {}
    labs = labs_in(labs_dir)
    for prev, lab in zip(labs, labs[1:]):
        old, new = sources(os.path.join(labs_dir, prev)), sources(os.path.join(labs_dir, lab))
        table[lab] = {}
        for f in sorted(old | new):
            if f not in old or f not in new:
                table[lab][("+" if f in new else "-") + f] = ""
            else:
                with open(os.path.join(labs_dir, prev, f), "rb") as fa, \
                        open(os.path.join(labs_dir, lab, f), "rb") as fb:
                    if fa.read() != fb.read():
                        table[lab][f] = ""
    return table


def selftest():
    """Both kinds of failure, and the ones around them, on a temporary copy
    of labs/ (sources only) and edited copies of the table that is true of
    it (not LESSONS: this tests the check, not the labs): each must fail with
    a message that names what it should, and the unedited copy must pass."""
    labs_dir = os.path.join(ROOT, "labs")
    labs = labs_in(labs_dir)
    last, before_last = labs[-1], labs[-2]
    truth = true_lessons(labs_dir)
    lesson = expected(truth, last)
    changed = sorted(f for f, k in lesson.items() if k == "changed")[0]
    common = sorted(sources(os.path.join(labs_dir, last)) & sources(os.path.join(labs_dir, before_last))
                    - set(lesson))[0]
    passed = failed = 0

    def case(what, edit, lessons, *want):
        """Runs edit(tmp) on a fresh copy, then check(): want is the phrases
        its one message must hold ('' for none: the copy must pass)."""
        nonlocal passed, failed
        with tempfile.TemporaryDirectory(prefix="copies-selftest-") as tmp:
            for lab in labs:
                os.makedirs(os.path.join(tmp, lab))
                for f in sources(os.path.join(labs_dir, lab)):
                    shutil.copyfile(os.path.join(labs_dir, lab, f), os.path.join(tmp, lab, f))
            edit(tmp)
            _, failures = check(tmp, lessons)
        ok = not failures if want == ("",) else (
            len(failures) == 1 and all(w in failures[0] for w in want))
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {what}: want {'no failure' if want == ('',) else want}, got:")
            for msg in failures or ["(no failure)"]:
                print("    " + msg.replace("\n", "\n    "))

    # A line in the middle of the last lab's copy of a common file, edited.
    with open(os.path.join(labs_dir, last, common), "rb") as f:
        middle = len(f.read().split(b"\n")) // 2

    def drift(tmp):
        path = os.path.join(tmp, last, common)
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
        lines[middle] += b" /* drift */"
        with open(path, "wb") as f:
            f.write(b"\n".join(lines))

    def revert(tmp):
        """The last lab's lesson taken out of one file it lists."""
        shutil.copyfile(os.path.join(tmp, before_last, changed), os.path.join(tmp, last, changed))

    def add(tmp):
        open(os.path.join(tmp, last, "extra.c"), "w").close()

    def extra_entry(name):
        lessons = {lab: dict(files) for lab, files in truth.items()}
        lessons[last][name] = "an entry that is not true"
        return lessons

    case("the copy as it is", lambda tmp: None, truth, "")
    case(f"{last}/{common} drifts", drift, truth,
         f"labs/{last}/{common} differs from labs/{before_last}/{common}", "does not list it",
         f"first difference, line {middle + 1}:")
    case(f"{last}/{changed} reverted: a stale entry", revert, truth,
         f"labs/{last}/{changed} is listed as changed", "identical", "take it off the list")
    case(f"{common} listed but identical: a stale entry", lambda tmp: None, extra_entry(common),
         f"labs/{last}/{common} is listed as changed", "identical")
    case("a new file not listed", add, truth, f"extra.c is added in labs/{last}", "'+extra.c'")
    case("an entry for no file", lambda tmp: None, extra_entry("+nowhere.c"),
         "nowhere.c is listed as added", "neither")
    case("the last lab left out, as in a handout", lambda tmp: shutil.rmtree(os.path.join(tmp, last)),
         truth, "")
    print(f"copies selftest: {passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--selftest", action="store_true",
                    help="prove the check on a temporary copy of labs/")
    args = ap.parse_args()
    if args.selftest:
        return selftest()
    passed, failures = check(os.path.join(ROOT, "labs"), LESSONS)
    for msg in failures:
        print(f"FAIL {msg}")
    print(f"copies: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
