#!/usr/bin/env python3
"""make fuzz-guest: the misbehaving guest (common/fuzzguest) with seed after seed.

Boots lab LAB (or OpenSBI alone, --lab native) at SMP harts with one seed
after another until SECONDS are up, and names every seed that fails with a
command that boots it again. Ends with one line:
    fuzz-guest: N seeds, F failed
and exit status 1 if any failed. A seed travels in the guest binary itself
(--patch, and the Makefile's build/fuzzguest/fuzzguest-seedN.bin), so the
hypervisor is built once: under a lab, BOOTARGS are built into it.

    python3 grader/fuzz_guest.py [--seconds 10] [--lab 5] [--smp 4] [--start SEED]
    python3 grader/fuzz_guest.py --patch SEED IN OUT
"""
import argparse
import os
import re
import struct
import sys
import time

import runner

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAGIC = b"FUZZSEED"  # fuzz_builtin in common/fuzzguest/main.c: the magic, then the seed
SUMMARY = re.compile(r"^fuzzguest: seed (\d+): (\d+) operations, (\d+) failures$")
BOOT_TIMEOUT = 30  # one boot takes a few seconds at SMP 8


def patch(seed, src, dst):
    """Writes src with its built-in seed replaced by seed to dst."""
    with open(src, "rb") as f:
        data = bytearray(f.read())
    at = data.find(MAGIC)
    if at < 0 or data.find(MAGIC, at + 1) >= 0 or at % 8:
        sys.exit(f"fuzz_guest: {src}: not one 8-byte aligned {MAGIC.decode()} in it")
    data[at + 8:at + 16] = struct.pack("<Q", seed)
    tmp = dst + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, dst)


def guest_path(seed):
    return f"build/fuzzguest/fuzzguest-seed{seed}.bin"


def reproducer(lab, smp, seed):
    target = "guest-native" if lab == "native" else f"lab{lab}"
    platform = os.environ.get("PLATFORM", "qemu7")
    where = "" if platform == "qemu7" else f" PLATFORM={platform}"
    return f"make {target} SMP={smp}{where} GUEST={guest_path(seed)}"


def verdict(out, status, timed_out, seed):
    """None if the boot passed, else why not."""
    lines = [l.decode("utf-8", errors="replace").rstrip("\r") for l in out.split(b"\n")]
    summary = [m for m in map(SUMMARY.match, lines) if m]
    if timed_out:
        return f"no end within {BOOT_TIMEOUT} s"
    if not summary:
        last = next((l for l in reversed(lines) if l.strip()), "")
        return f"no summary line (exit status {status}; last line: {last[:120]!r})"
    if int(summary[-1].group(1)) != seed:
        return f"ran seed {summary[-1].group(1)}, not {seed}"
    if int(summary[-1].group(3)) != 0:
        first = next((l for l in lines if l.startswith("fuzzguest: FAIL")), "")
        return f"{summary[-1].group(3)} failures; first: {first[:160]}"
    if status != 0:
        return f"exit status {status}"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--lab", default="5")
    ap.add_argument("--smp", type=int, default=4)
    ap.add_argument("--start", type=int, help="the first seed (default: from the clock)")
    ap.add_argument("--patch", nargs=3, metavar=("SEED", "IN", "OUT"))
    args = ap.parse_args()
    if args.patch:
        patch(int(args.patch[0]), args.patch[1], args.patch[2])
        return 0

    lab = args.lab
    hyp = [] if lab == "native" else [f"build/lab{lab}/hyp.elf"]
    ok, text = runner.make(ROOT, "fuzzguest", *hyp)
    if not ok:
        print(text)
        sys.exit("fuzz-guest: the build failed")
    seed = args.start if args.start is not None else int(time.time()) % 1000000 * 1000
    logs = os.path.join(ROOT, "build", "fuzz-guest")
    os.makedirs(logs, exist_ok=True)
    print(f"fuzz-guest: lab {lab}, SMP {args.smp}, {args.seconds:g} s, seeds from {seed}", flush=True)
    end = time.monotonic() + args.seconds
    seeds = failed = 0
    while time.monotonic() < end:
        guest = guest_path(seed)
        patch(seed, os.path.join(ROOT, "build/fuzzguest/fuzzguest.bin"), os.path.join(ROOT, guest))
        target = "qemu-cmd-native" if lab == "native" else "qemu-cmd"
        ok, cmd = runner.make(ROOT, target, f"LAB={lab}", f"SMP={args.smp}",
                              f"GUEST={os.path.join(ROOT, guest)}", "QEMU_EXTRA=")
        if not ok:
            print(cmd)
            sys.exit("fuzz-guest: make qemu-cmd failed")
        out, status, timed_out = runner.run_command(cmd.strip(), BOOT_TIMEOUT, cwd=ROOT)
        why = verdict(out, status, timed_out, seed)
        seeds += 1
        if why is None:
            os.remove(os.path.join(ROOT, guest))
        else:
            failed += 1
            log = os.path.join(logs, f"lab{lab}-smp{args.smp}-seed{seed}.log")
            with open(log, "wb") as f:
                f.write(out)
            print(f"fuzz-guest: seed {seed} FAILED: {why}\n"
                  f"  again: {reproducer(lab, args.smp, seed)}\n"
                  f"  log:   {os.path.relpath(log, ROOT)}", flush=True)
        seed += 1
    print(f"fuzz-guest: {seeds} seeds, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
