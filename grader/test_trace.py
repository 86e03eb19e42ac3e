#!/usr/bin/env python3
"""Host tests of grader/trace.py: the trace dump's parser, the spans, the SVG
timeline and the Chrome trace-event JSON, on consoles made up here from
grader/trace-format.md.

    python3 grader/test_trace.py

Runs no QEMU and no make. Prints PASS or FAIL per test, then
"trace-test: N passed, N failed"; exit status 0 when none failed.
Python 3 standard library only.
"""
import contextlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gradelib  # noqa: E402
import trace  # noqa: E402  (this directory's trace.py, not the standard library's)

SVG = "{http://www.w3.org/2000/svg}"
TIMEBASE = 10_000_000  # 10 MHz: a tick is 0.1 us
OPENSBI = ["", "OpenSBI v1.1", "Platform HART Count       : 4", "Boot HART ID              : 0"]


def check(got, want):
    assert got == want, f"got {got!r}, want {want!r}"


def dump(blocks, lab=4, lost=None, end=True, harts=None):
    """A dump's lines as the hypervisor prints them: blocks {hartid: [(time,
    event, arg0, arg1)]}, ints printed in hex, strs as they are."""
    lost = lost or {}
    lines = [f"trace: begin v1 lab={lab} harts={len(blocks) if harts is None else harts} "
             f"timebase={TIMEBASE}"]
    for hart, events in blocks.items():
        for t, name, a0, a1 in events:
            lines.append(f"trace: {hart} {t:x} {name} {hexa(a0)} {hexa(a1)}")
        lines.append(f"trace: hart {hart} events {len(events)} lost {lost.get(hart, 0)}")
    if end:
        total = sum(len(e) for e in blocks.values())
        lines.append(f"trace: end events={total} lost={sum(lost.values())}")
    return lines


def hexa(value):
    return f"{value:x}" if isinstance(value, int) else value


def console(lines, noise_every=3, cr=True):
    """A console around a dump: OpenSBI's banner before it, the hypervisor's
    and the guest's lines between its lines, "\\r" at each line's end (as
    QEMU's console has them)."""
    out = OPENSBI + ["hyp: RISC-V hypervisor lab 04, booted on hart 0", "guest: hello"]
    for i, line in enumerate(lines):
        out.append(line)
        if noise_every and i % noise_every == 1:
            out.append(f"guest: line {i} of the guest, trace: not at the start")
    out.append("hyp: exits by cause        vcpu0")
    return [line + "\r" if cr else line for line in out]


# A small lab 04 run on 2 harts. Hart 0 boots, creates the VM, starts hart
# 1 with an IPI, takes the vm lock (waiting for it a little), runs its vCPU
# with two exits, and powers off. Hart 1 comes online from the firmware,
# parks, is woken by the IPI, adds its vCPU, and runs it.
SMALL = {
    0: [(1000, "boot", 0, 0), (1100, "vm-create", 2, 0), (1200, "ipi-send", 1, 0),
        (1300, "lock-wait", "vm", 0x802500c0), (1340, "lock-acquired", "vm", 0x802500c0),
        (1400, "lock-release", "vm", 0x802500c0), (1500, "release", 2, 0),
        (1600, "guest-enter", 0, 0), (2000, "exit", "sbi-time", 0), (2010, "resume", 0, 0),
        (2500, "exit", "sbi-srst", 0), (2520, "poweroff", 0, 0)],
    1: [(1050, "online", 1, 0), (1060, "park", 0, 0), (1230, "wake", 1, 0),
        (1240, "ipi-recv", 0, 0), (1250, "vcpu-add", 1, 0), (1700, "guest-enter", 1, 0)],
}


def small():
    return trace.parse(console(dump(SMALL)))


def test_parse_header_events_and_counts():
    t = small()
    check((t["version"], t["lab"], t["harts"], t["timebase"]), (1, 4, 2, TIMEBASE))
    check(t["complete"], True)
    check(t["warnings"], [])
    check(len(t["events"]), 18)
    check(t["per_hart"], {0: {"events": 12, "lost": 0, "skipped": 0, "closed": True},
                          1: {"events": 6, "lost": 0, "skipped": 0, "closed": True}})
    check(t["lost"], 0)
    check(t["end"], {"events": 18, "lost": 0})
    check(t["causes"], ["sbi-time", "sbi-srst"])
    # Merged by time: hart 1's online (1050) between hart 0's boot and vm-create.
    check([(e.hart, e.time, e.name) for e in t["events"][:4]],
          [(0, 1000, "boot"), (1, 1050, "online"), (1, 1060, "park"), (0, 1100, "vm-create")])
    lock = next(e for e in t["events"] if e.name == "lock-wait")
    check(lock.args, ("vm", 0x802500c0))
    check(next(e for e in t["events"] if e.name == "exit").args, ("sbi-time", 0))
    check(next(e for e in t["events"] if e.name == "ipi-send").args, (1, 0))


def test_parse_skips_other_lines_and_cr():
    """The same dump, bare, with "\\r" or with other console lines between,
    parses to the same events; line numbers are the console's."""
    bare = trace.parse(dump(SMALL))
    noisy = trace.parse(console(dump(SMALL), noise_every=1))
    as_text = trace.parse("\r\n".join(console(dump(SMALL), cr=False)))
    strip = [(e.hart, e.time, e.name, e.args) for e in bare["events"]]
    check([(e.hart, e.time, e.name, e.args) for e in noisy["events"]], strip)
    check([(e.hart, e.time, e.name, e.args) for e in as_text["events"]], strip)
    check(bare["events"][0].line, 2)
    lines = console(dump(SMALL), noise_every=1)
    first = noisy["events"][0]
    check(lines[first.line - 1].rstrip("\r"), "trace: 0 3e8 boot 0 0")


def test_no_trace_is_none():
    check(trace.parse(OPENSBI + ["hyp: guest powered off"]), None)
    check(trace.parse([]), None)
    # "trace:" inside a line is not a trace line.
    check(trace.parse(["guest: trace: 0 3e8 boot 0 0"]), None)


def test_states_one_hart():
    """Lab 03 on 1 hart: boot, into the guest, exits, poweroff."""
    t = trace.parse(console(dump({0: [
        (100, "boot", 0, 0), (150, "guest-enter", 0, 0), (300, "exit", "sbi-time", 0),
        (320, "resume", 0, 0), (500, "exit", "timer-interrupt", 0), (505, "resume", 0, 0),
        (900, "exit", "sbi-srst", 0), (930, "poweroff", 0, 0)]}, lab=3)))
    sp = trace.spans(t)
    check((sp["start"], sp["end"]), (100, 930))
    check(sp["states"][0], [
        (100, 150, "hypervisor", "hypervisor"), (150, 300, "guest", "guest (vCPU 0)"),
        (300, 320, "hypervisor", "hypervisor"), (320, 500, "guest", "guest (vCPU 0)"),
        (500, 505, "hypervisor", "hypervisor"), (505, 900, "guest", "guest (vCPU 0)"),
        (900, 930, "hypervisor", "hypervisor")])
    check(sp["arrows"], [])
    check(sp["holds"], {0: []})


def test_states_two_harts():
    sp = trace.spans(small())
    check(sp["states"][0], [
        (1000, 1300, "hypervisor", "hypervisor"), (1300, 1340, "spinning", "spinning on vm"),
        (1340, 1600, "hypervisor", "hypervisor"), (1600, 2000, "guest", "guest (vCPU 0)"),
        (2000, 2010, "hypervisor", "hypervisor"), (2010, 2500, "guest", "guest (vCPU 0)"),
        (2500, 2520, "hypervisor", "hypervisor")])
    # Hart 1: in the firmware until it came online; its vCPU runs to the end.
    check(sp["states"][1], [
        (1000, 1050, "firmware", "firmware (not started yet)"),
        (1050, 1060, "hypervisor", "hypervisor"), (1060, 1230, "parked", "parked"),
        (1230, 1700, "hypervisor", "hypervisor"), (1700, 2520, "guest", "guest (vCPU 1)")])
    check(sp["holds"][0], [(1340, 1400, "vm", 0)])
    check(sp["arrows"], [(0, 1200, 1, 1240, "ipi")])


def test_lock_held_across_a_park():
    """A lock taken, then a park and a wake, then its release: the hold is
    one bar over three states; a second lock taken meanwhile goes to slot 1,
    and one taken after the first's release reuses slot 0."""
    t = trace.parse(dump({2: [
        (10, "boot", 0, 0), (20, "lock-wait", "console", 0x80001000),
        (25, "lock-acquired", "console", 0x80001000), (30, "park", 0, 0), (80, "wake", 0, 0),
        (90, "lock-wait", "vm", 0x80002000), (95, "lock-acquired", "vm", 0x80002000),
        (100, "lock-release", "console", 0x80001000), (110, "lock-wait", "hsm", 0x80003000),
        (110, "lock-acquired", "hsm", 0x80003000), (120, "lock-release", "hsm", 0x80003000),
        (130, "lock-release", "vm", 0x80002000), (140, "poweroff", 0, 0)]}))
    sp = trace.spans(t)
    check(sp["states"][2], [
        (10, 20, "hypervisor", "hypervisor"), (20, 25, "spinning", "spinning on console"),
        (25, 30, "hypervisor", "hypervisor"), (30, 80, "parked", "parked"),
        (80, 90, "hypervisor", "hypervisor"), (90, 95, "spinning", "spinning on vm"),
        (95, 140, "hypervisor", "hypervisor")])
    check(sp["holds"][2], [(25, 100, "console", 0), (95, 130, "vm", 1), (110, 120, "hsm", 0)])


def test_nested_states():
    """A park inside a suspend is the suspend's own wfi: the lane shows
    "suspended" from suspend to suspend-end, whatever parks and wakes come
    between (a park whose wake never came ends with the suspend). A spin
    inside a suspend shows, then the suspend again."""
    t = trace.parse(dump({1: [
        (0, "online", 1, 0), (10, "guest-enter", 1, 0), (20, "exit", "sbi-hsm", 1),
        (30, "suspend", 1, 0), (40, "park", 0, 0), (50, "wake", 0, 0), (50, "park", 0, 0),
        (60, "wake", 1, 0), (62, "lock-wait", "vcpu1", 0x100),
        (64, "lock-acquired", "vcpu1", 0x100), (65, "lock-release", "vcpu1", 0x100),
        (70, "park", 0, 0), (75, "suspend-end", 1, 0), (80, "resume", 1, 0),
        (90, "exit", "sbi-srst", 1), (95, "poweroff", 0, 0)]}))
    check(trace.spans(t)["states"][1], [
        (0, 10, "hypervisor", "hypervisor"), (10, 20, "guest", "guest (vCPU 1)"),
        (20, 30, "hypervisor", "hypervisor"), (30, 62, "suspended", "suspended (vCPU 1)"),
        (62, 64, "spinning", "spinning on vcpu1"), (64, 75, "suspended", "suspended (vCPU 1)"),
        (75, 80, "hypervisor", "hypervisor"), (80, 90, "guest", "guest (vCPU 1)"),
        (90, 95, "hypervisor", "hypervisor")])
    # Parked twice with no wake between: one parked span. Back in the
    # guest, a hart is nothing else: a suspend whose end never came ends
    # there, and does not come back after the next exit.
    t = trace.parse(dump({0: [(0, "boot", 0, 0), (5, "park", 0, 0), (7, "park", 0, 0),
                              (8, "wake", 1, 0), (10, "suspend", 0, 0), (20, "park", 0, 0),
                              (30, "resume", 0, 0), (40, "exit", "sbi-ipi", 0),
                              (50, "poweroff", 0, 0)]}))
    check(trace.spans(t)["states"][0], [
        (0, 5, "hypervisor", "hypervisor"), (5, 8, "parked", "parked"),
        (8, 10, "hypervisor", "hypervisor"), (10, 30, "suspended", "suspended (vCPU 0)"),
        (30, 40, "guest", "guest (vCPU 0)"), (40, 50, "hypervisor", "hypervisor")])


def test_arrows():
    """An IPI goes to the target's first ipi-recv at or after the send (two
    sends before it share it), or else to a wake with arg0 = 1; a send that
    nothing received has no arrow; vcpu-start goes to the vCPU's next
    guest-enter, on whichever hart."""
    t = trace.parse(dump({
        0: [(10, "boot", 0, 0), (20, "ipi-send", 1, 0), (22, "ipi-send", 1, 0),
            (40, "ipi-send", 2, 0), (50, "ipi-send", 3, 0), (60, "vcpu-start", 2, 3),
            (61, "vcpu-start", 5, 3)],
        1: [(5, "ipi-recv", 0, 0), (30, "ipi-recv", 0, 0), (35, "ipi-recv", 0, 0)],
        2: [(41, "wake", 0, 0), (45, "wake", 1, 0)],
        3: [(70, "guest-enter", 2, 0)]}))
    sp = trace.spans(t)
    check(sp["arrows"], [(0, 20, 1, 30, "ipi"), (0, 22, 1, 30, "ipi"), (0, 40, 2, 45, "ipi"),
                         (0, 60, 3, 70, "hart_start")])
    check([(e.name, e.args) for e in sp["unmatched"]], [("ipi-send", (3, 0)),
                                                         ("vcpu-start", (5, 3))])


def test_arrows_to_a_kick_and_a_suspend():
    """Lab 05: an IPI that finds its target in the guest is taken by the
    exit it causes (cause IPI-kick, no ipi-recv), one that finds it waiting
    for its suspended vCPU ends the wait (suspend-end): the arrows go
    there, not to the next ipi-recv, long after."""
    t = trace.parse(dump({
        0: [(10, "boot", 0, 0), (20, "ipi-send", 1, 0), (30, "ipi-send", 2, 0)],
        1: [(5, "guest-enter", 1, 0), (21, "exit", "sbi-time", 1), (22, "resume", 1, 0),
            (25, "exit", "IPI-kick", 1), (26, "resume", 1, 0), (90, "exit", "sbi-hsm", 1),
            (95, "ipi-recv", 0, 0)],
        2: [(5, "suspend", 2, 0), (33, "suspend-end", 2, 0), (96, "ipi-recv", 0, 0)]}))
    check(trace.spans(t)["arrows"], [(0, 20, 1, 25, "ipi"), (0, 30, 2, 33, "ipi")])


def test_eight_harts_thousands_of_events():
    t = trace.parse(console(dump(busy(8, 400)), noise_every=50))
    check(len(trace.hart_ids(t)), 8)
    check(len(t["events"]), sum(len(e) for e in busy(8, 400).values()))
    assert len(t["events"]) > 3000, len(t["events"])
    check(t["warnings"], [])
    sp = trace.spans(t)
    for hart, states in sp["states"].items():
        # The lane covers the trace from its first to its last event, no gap.
        check(states[0][0], sp["start"])
        check(states[-1][1], sp["end"])
        for a, b in zip(states, states[1:]):
            check(a[1], b[0])
            assert a[3] != b[3], (hart, a, b)
    assert len(sp["arrows"]) > 50, len(sp["arrows"])


def busy(harts, rounds, seed=18):
    """A made-up lab 05 run: every hart boots or comes online, parks until
    hart 0's IPI, then loops: into its guest, an exit, sometimes a spin on a
    lock (with an IPI to another hart), back. Random but reproducible."""
    rng = random.Random(seed)
    blocks = {h: [] for h in range(harts)}
    blocks[0].append((1000, "boot", 0, 0))
    blocks[0].append((1100, "vm-create", harts, 0))
    for h in range(1, harts):
        blocks[h] += [(1000 + 50 * h, "online", h, 0), (1010 + 50 * h, "park", 0, 0)]
        blocks[0].append((1200 + 10 * h, "ipi-send", h, 0))
        blocks[h] += [(1300 + 10 * h, "wake", 1, 0), (1302 + 10 * h, "ipi-recv", 0, 0)]
    pending = {h: [] for h in range(harts)}  # IPIs sent to h: their times
    for h in range(harts):
        t = max(e[0] for e in blocks[h]) + 10
        blocks[h].append((t, "guest-enter", h, 0))
        for _ in range(rounds):
            t += rng.randint(20, 400)
            blocks[h].append((t, "exit", rng.choice(["sbi-time", "timer-interrupt",
                                                     "sbi-ipi"]), h))
            if rng.random() < 0.3:
                blocks[h] += [(t + 2, "lock-wait", "vm", 0x802500c0),
                              (t + 2 + rng.randint(0, 30), "lock-acquired", "vm", 0x802500c0)]
                t = blocks[h][-1][0] + 5
                target = rng.randrange(harts)
                blocks[h] += [(t, "ipi-send", target, 0), (t + 3, "lock-release", "vm", 0x802500c0)]
                pending[target].append(t)
                t += 3
            t += rng.randint(1, 10)
            blocks[h].append((t, "resume", h, 0))
    # Each hart receives what was sent to it a little later: an ipi-recv
    # between two of its events (order kept by sorting on time).
    for h, sends in pending.items():
        for s in sends:
            blocks[h].append((s + 1, "ipi-recv", 0, 0))
        blocks[h].sort(key=lambda e: e[0])
    end = max(e[0] for events in blocks.values() for e in events) + 10
    blocks[0] += [(end, "exit", "sbi-srst", 0), (end + 5, "poweroff", 0, 0)]
    return blocks



# ---- damaged dumps ----

def test_truncated_dump_keeps_what_came():
    """No end line (QEMU killed in the middle of hart 1's block): the events
    that came are kept, hart 1's lane ends in "unknown" after its last one,
    and the reader is told."""
    lines = dump(SMALL)
    cut = lines.index("trace: 1 4ce wake 1 0")
    t = trace.parse(console(lines[:cut]) + ["qemu-system-riscv64: terminating on signal 15"])
    check(t["complete"], False)
    check(t["end"], None)
    check(len(t["events"]), 12 + 2)
    check(t["per_hart"][1], {"events": 2, "lost": 0, "skipped": 0, "closed": False})
    check(len(t["warnings"]), 1)
    assert "cut off in hart 1's block" in t["warnings"][0], t["warnings"]
    sp = trace.spans(t)
    # Parked at its last event, but after that nothing is known.
    check(sp["states"][1], [(1000, 1050, "firmware", "firmware (not started yet)"),
                            (1050, 1060, "hypervisor", "hypervisor"),
                            (1060, 2520, "unknown", "unknown: the dump was cut off")])
    # The IPI's receive was cut off: no arrow, and the send is listed.
    check(sp["arrows"], [])
    check([e.name for e in sp["unmatched"]], ["ipi-send"])


def test_truncated_in_the_middle_of_a_line():
    """The dump's last line was cut in the middle: dropped, with its line
    number in a warning, the rest kept."""
    lines = dump(SMALL, end=False)[:-1]  # up to hart 1's last event
    lines[-1] = lines[-1][:11]           # "trace: 1 6a"
    t = trace.parse(lines)
    check(len(t["events"]), 12 + 5)
    check(t["complete"], False)
    assert t["warnings"][0].startswith(f"line {len(lines)}: cut off in the middle"), t["warnings"]
    assert "'trace: 1 6a'" in t["warnings"][0], t["warnings"]
    # The same line inside the dump is garbage, not a cut.
    with_end = dump(SMALL)
    with_end[5] = with_end[5][:12]
    try:
        trace.parse(with_end)
    except trace.TraceError as e:
        check(e.line, 6)
    else:
        raise AssertionError("a line cut inside a complete dump was accepted")


def test_buffer_overflow():
    """Hart 1's buffer was full: 37 events lost. Its lane ends in "unknown"
    after its last recorded event; the totals add up; a warning says so."""
    t = trace.parse(console(dump(SMALL, lost={1: 37})))
    check(t["lost"], 37)
    check(t["per_hart"][1], {"events": 6, "lost": 37, "skipped": 0, "closed": True})
    check(t["complete"], True)
    assert any("hart 1 lost 37 events" in w for w in t["warnings"]), t["warnings"]
    check(trace.spans(t)["states"][1][-2:], [
        (1230, 1700, "hypervisor", "hypervisor"),
        (1700, 2520, "unknown", "unknown: 37 events lost (buffer full)")])
    svg = trace.to_svg(t)
    root = ET.fromstring(svg)
    assert "37 lost" in svg_texts(root)[0], svg_texts(root)[0]
    check(len(spans_of(root, "hart-1", "unknown")), 1)


def test_skipped_lock_takings_are_no_gap():
    """Labs 04-05 leave out lock takings past their limit: counted as
    skipped, not lost. The hart's lane stays known to the end, with no
    "unknown" span and no warning about a full buffer."""
    lines = [line.replace("events 6 lost 0", "events 6 lost 0 skipped 412")
             for line in dump(SMALL)]
    lines = [line + " skipped=412" if line.startswith("trace: end ") else line
             for line in lines]
    t = trace.parse(console(lines))
    check(t["per_hart"][1]["skipped"], 412)
    check(t["skipped"], 412)
    check(t["lost"], 0)
    assert not any("lost" in w for w in t["warnings"]), t["warnings"]
    assert all(state != "unknown" for _, _, state, _ in trace.spans(t)["states"][1])


def test_unknown_event_is_a_mark():
    """A student's own event (not in the format) is kept with its arguments
    and drawn as a labelled mark; its text is escaped in the SVG."""
    blocks = {0: sorted(SMALL[0] + [(2200, "my-event", 0x2a, "<b>&")])}
    t = trace.parse(dump(blocks))
    e = next(e for e in t["events"] if e.name == "my-event")
    check(e.args, (0x2a, "<b>&"))
    root = ET.fromstring(trace.to_svg(t))
    marks = [m.find(SVG + "title").text for m in root.iter(SVG + "path")
             if m.get("class") == "mark"]
    assert any("my-event 0x2a <b>&" in m for m in marks), marks
    assert "my-event" in svg_texts(root), svg_texts(root)
    chrome = trace.to_chrome(t)
    # With the IPI to hart 1, which is not in this trace: never received.
    check([x["name"] for x in chrome["traceEvents"] if x["ph"] == "i" and x["cat"] == "mark"],
          ["boot", "vm-create", "ipi-send", "release", "my-event", "poweroff"])


def garbage(replace_at, line):
    lines = console(dump(SMALL))
    i = next(i for i, l in enumerate(lines) if l.startswith(replace_at))
    lines[i] = line
    try:
        trace.parse(lines)
    except trace.TraceError as e:
        return i + 1, e
    raise AssertionError(f"accepted {line!r}")


def test_garbage_is_rejected_with_its_line_number():
    cases = [
        ("trace: 0 3e8 boot", "trace: 0 zz boot 0 0", "time 'zz' is not hex"),
        ("trace: 0 3e8 boot", "trace: 0 3e8 boot 0", "not '<hartid> <time> <event>"),
        ("trace: 0 3e8 boot", "trace: x 3e8 boot 0 0", "hartid 'x' is not a decimal"),
        ("trace: 0 3e8 boot", "trace: 0 3e8 boot 0 0x1", "arg1 '0x1' of boot is not hex"),
        ("trace: 0 514 lock-wait", "trace: 0 514 lock-wait v<m 802500c0", "lock name 'v<m'"),
        ("trace: 0 7d0 exit", "trace: 0 7d0 exit sbi(time) 0", "cause 'sbi(time)'"),
        ("trace: 0 3e8 boot", "trace: 0 3e9 boot 0 0\rtrace: 1 3 x 0 0", "not '<hartid>"),
        ("trace: begin", "trace: begin v2 lab=4 harts=2 timebase=10000000", "format v2"),
        ("trace: begin", "trace: begin v1 lab=4 harts=2", "needs timebase="),
        ("trace: hart 0", "trace: hart 1 events 12 lost 0", "closes hart 1's block, but hart 0"),
        ("trace: 1 41a online", "trace: 0 41a online 1 0", "an event of hart 0 after its block"),
        ("trace: 0 4b0 ipi-send", "trace: 0 3 ipi-send 1 0", "hart 0's time goes back"),
        ("trace: hart 1", "trace: end events=18 lost=0", "the end line, but hart 1's block"),
    ]
    for at, line, why in cases:
        n, e = garbage(at, line)
        check(e.line, n)
        assert str(e).startswith(f"line {n}: "), str(e)
        assert why in str(e), (why, str(e))
    # Before the begin line, and after the end line.
    try:
        trace.parse(["trace: 0 3e8 boot 0 0"] + dump(SMALL))
    except trace.TraceError as e:
        check((e.line, "before the begin line" in str(e)), (1, True))
    else:
        raise AssertionError("a trace line before begin was accepted")
    try:
        trace.parse(dump(SMALL) + ["hyp: done", "trace: 0 3e8 boot 0 0"])
    except trace.TraceError as e:
        check((e.line, "after the end line" in str(e)), (len(dump(SMALL)) + 2, True))
    else:
        raise AssertionError("a trace line after end was accepted")


def test_counts_that_do_not_add_up_are_warned():
    lines = dump(SMALL)
    lines[lines.index("trace: hart 1 events 6 lost 0")] = "trace: hart 1 events 7 lost 0"
    lines[-1] = "trace: end events=19 lost=0"
    t = trace.parse(lines)
    check(t["complete"], True)
    check(t["warnings"], [f"line {len(lines) - 1}: hart 1: 7 events said, 6 came",
                          "the end line says 19 events, 0 lost; the blocks add up to 18, 0"])


# ---- the SVG ----

def svg_texts(root):
    """Every text element's text, and the title's (the first line) first."""
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


def lanes(root):
    return [g for g in root.iter(SVG + "g") if g.get("class") == "lane"]


def spans_of(root, lane_id, state=None):
    lane = next(g for g in lanes(root) if g.get("id") == lane_id)
    return [r for r in lane.iter(SVG + "rect") if (r.get("class") or "").startswith("span")
            and (state is None or r.get("class") == f"span {state}")]


def test_svg_small():
    t = small()
    document = trace.to_svg(t)
    root = ET.fromstring(document)
    check(root.tag, SVG + "svg")
    texts = svg_texts(root)
    check(texts[0], "lab 4 trace: 2 harts, 18 events, 0 lost, 0.15 ms")
    check([g.get("id") for g in lanes(root)], ["hart-0", "hart-1"])
    check([next(g.iter(SVG + "text")).text for g in lanes(root)], ["hart 0", "hart 1"])
    # Every span drawn as itself (all are wider than a pixel), with a tooltip
    # saying what, how long, from when.
    sp = trace.spans(t)
    for hart in (0, 1):
        rects = spans_of(root, f"hart-{hart}")
        check(len(rects), len(sp["states"][hart]))
        for r, (s, e, state, what) in zip(rects, sp["states"][hart]):
            check(r.get("class"), f"span {state}")
            tip = r.find(SVG + "title").text
            assert tip.startswith(f"hart {hart}: {what}, "), tip
    check(spans_of(root, "hart-0", "spinning")[0].find(SVG + "title").text,
          "hart 0: spinning on vm, 4 us from 0.03 ms")
    holds = [r for r in root.iter(SVG + "rect") if r.get("class") == "hold"]
    check([h.find(SVG + "title").text for h in holds], ["hart 0: holds vm, 6 us from 0.034 ms"])
    arrows = [p for p in root.iter(SVG + "path") if (p.get("class") or "").startswith("arrow")]
    check([(a.get("class"), a.find(SVG + "title").text) for a in arrows],
          [("arrow ipi", "IPI: hart 0 at 0.02 ms to hart 1, 4 us later")])
    exits = [x.find(SVG + "title").text for x in root.iter(SVG + "line")
             if x.get("class") == "exit"]
    check(exits, ["hart 0: exit (sbi-time) at 0.1 ms", "hart 0: exit (sbi-srst) at 0.15 ms"])
    labels = [t.text for t in root.iter(SVG + "text") if t.get("class") == "mark-label"]
    check(labels, ["boot", "vm-create", "release", "poweroff", "online", "vcpu-add"])
    legend = next(g for g in root.iter(SVG + "g") if g.get("class") == "legend")
    items = [t.text for t in legend.iter(SVG + "text") if t.get("class") == "legend-item"]
    for state in trace.STATES:
        assert trace.MEANING[state] in items, (state, items)
    assert "holds vm" in items and trace.ARROW_MEANING["hart_start"] in items, items


def test_svg_passes_xmllint():
    xmllint = shutil.which("xmllint")
    if not xmllint:
        print("    (xmllint not installed: checked with xml.etree only)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        for name, blocks in (("small", SMALL), ("busy", busy(8, 100))):
            path = os.path.join(tmp, name + ".svg")
            with open(path, "w") as f:
                f.write(trace.to_svg(trace.parse(dump(blocks))))
            r = subprocess.run([xmllint, "--noout", path], capture_output=True, text=True)
            check((r.returncode, r.stderr), (0, ""))


def test_svg_eight_harts_stays_readable():
    """Thousands of events on 8 harts: 8 lanes, short spans pooled so that a
    lane has at most about a rectangle per pixel, yet every state a lane was
    in shows in it, and every rectangle has a tooltip. Then about 4 times as many
    events: 3 spans and more per pixel in every lane."""
    for rounds, spans_at_least in ((400, 8 * 1000), (1500, 8 * 3 * trace.PLOT_W)):
        t = trace.parse(dump(busy(8, rounds)))
        sp = trace.spans(t)
        spans_total = sum(len(s) for s in sp["states"].values())
        assert spans_total > spans_at_least, (spans_total, spans_at_least)
        root = ET.fromstring(trace.to_svg(t))
        check(len(lanes(root)), 8)
        check_lanes(root, sp)


def check_lanes(root, sp):
    rects = [r for r in root.iter(SVG + "rect") if (r.get("class") or "").startswith("span")]
    assert len(rects) < sum(len(s) for s in sp["states"].values()), len(rects)
    for r in root.iter(SVG + "rect"):
        if r.get("class"):
            assert r.find(SVG + "title") is not None, r.attrib
    for hart in range(8):
        had = {s[2] for s in sp["states"][hart]}
        drawn = spans_of(root, f"hart-{hart}")
        check({r.get("class").split()[1] for r in drawn}, had)
        assert len(drawn) <= trace.PLOT_W / trace.MIN_PX + len(trace.STATES), len(drawn)
        for r in drawn:
            x, w = float(r.get("x")), float(r.get("width"))
            assert w >= trace.MIN_PX - 1e-6 and trace.LEFT - 1e-6 <= x, r.attrib
            assert x + w <= trace.LEFT + trace.PLOT_W + trace.MIN_PX + 1e-6, r.attrib


def test_svg_keeps_a_state_too_short_to_see():
    """A 0.1 us spin in a 10 ms trace is far less than a pixel: it is drawn
    anyway, at least a pixel wide."""
    t = trace.parse(dump({0: [
        (0, "boot", 0, 0), (10, "guest-enter", 0, 0), (50000, "exit", "sbi-ipi", 0),
        (50001, "lock-wait", "vm", 0x100), (50002, "lock-acquired", "vm", 0x100),
        (50003, "lock-release", "vm", 0x100), (50010, "resume", 0, 0),
        (100000, "exit", "sbi-srst", 0), (100005, "poweroff", 0, 0)]}))
    root = ET.fromstring(trace.to_svg(t))
    spin = spans_of(root, "hart-0", "spinning")
    check(len(spin), 1)
    check(spin[0].find(SVG + "title").text, "hart 0: spinning on vm, 0.1 us from 5.0001 ms")
    check(float(spin[0].get("width")), trace.MIN_PX)


# ---- the Chrome trace-event JSON ----

def check_chrome(doc, harts):
    """What Perfetto and chrome://tracing need of the object form."""
    check(sorted(doc), ["displayTimeUnit", "otherData", "traceEvents"])
    check(doc["displayTimeUnit"], "ms")
    events = doc["traceEvents"]
    for e in events:
        for key in ("ph", "pid", "tid", "name"):
            assert key in e, (key, e)
        if e["ph"] != "M":
            assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
    names = {(e["tid"], e["args"]["name"]) for e in events
             if e["ph"] == "M" and e["name"] == "thread_name"}
    for hart in harts:
        assert (hart, f"hart {hart}") in names, (hart, names)
    by_tid = {}
    for e in events:
        if e["ph"] == "X":
            assert e["dur"] >= 0 and e["cat"] in ("state", "lock"), e
            by_tid.setdefault(e["tid"], []).append(e)
    for tid, xs in by_tid.items():
        for a, b in zip(xs, xs[1:]):
            # In time order, and nested properly: one ends before the next begins.
            assert a["ts"] <= b["ts"], (a, b)
            assert round(a["ts"] + a["dur"], 3) <= b["ts"], (a, b)
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    ends = {e["id"]: e for e in events if e["ph"] == "f"}
    check(sorted(starts), sorted(ends))
    for n, f in ends.items():
        check((f["bp"], f["cat"], f["name"]), ("e", starts[n]["cat"], starts[n]["name"]))
        assert f["ts"] >= starts[n]["ts"], (starts[n], f)
    check(json.loads(json.dumps(doc)), doc)
    return events


def test_chrome_small():
    t = small()
    doc = trace.to_chrome(t)
    events = check_chrome(doc, [0, 1])
    check([e["args"]["name"] for e in events if e["name"] == "process_name"], ["lab 4"])
    xs = [(e["tid"], e["name"], e["ts"], e["dur"]) for e in events if e["ph"] == "X"]
    # Hart 0's spin: 1300-1340 ticks, 30-34 us from the first event.
    assert (0, "spinning", 30.0, 4.0) in xs, xs
    assert (1, "guest", 70.0, 82.0) in xs, xs
    holds = [e for e in events if e["ph"] == "X" and e["cat"] == "lock"]
    check([(e["tid"], e["name"], e["ts"], e["dur"]) for e in holds],
          [(trace.HOLD_TID, "vm", 34.0, 6.0)])
    check([(e["ph"], e["tid"], e["ts"]) for e in events if e["ph"] in "sf"],
          [("s", 0, 20.0), ("f", 1, 24.0)])
    check([e["name"] for e in events if e["ph"] == "i" and e["cat"] == "exit"],
          ["exit sbi-time", "exit sbi-srst"])
    check(doc["otherData"]["events"], 18)
    check(doc["otherData"]["lab"], 4)


def test_chrome_eight_harts_and_a_lock_across_a_park():
    blocks = busy(8, 200)
    blocks[3] = [(e[0], e[1], e[2], e[3]) for e in blocks[3]]
    t = trace.parse(dump(blocks))
    events = check_chrome(trace.to_chrome(t), range(8))
    flows = [e for e in events if e["ph"] == "s"]
    check(len(flows), len(trace.spans(t)["arrows"]))
    # The lock held across a park (test_lock_held_across_a_park) is on the
    # locks' thread, nested properly there and in the hart's own.
    t = trace.parse(dump({2: [
        (10, "boot", 0, 0), (25, "lock-acquired", "console", 1), (30, "park", 0, 0),
        (80, "wake", 0, 0), (95, "lock-acquired", "vm", 2), (100, "lock-release", "console", 1),
        (130, "lock-release", "vm", 2), (140, "poweroff", 0, 0)]}))
    events = check_chrome(trace.to_chrome(t), [2])
    holds = [(e["tid"], e["name"]) for e in events if e["ph"] == "X" and e["cat"] == "lock"]
    check(holds, [(trace.HOLD_TID + 2, "console"), (2 * trace.HOLD_TID + 2, "vm")])


# ---- the command line ----

def run_cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = trace.main(list(args))
    return status, out.getvalue(), err.getvalue()


def test_cli():
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "lab4-smp2.log")
        with open(log, "w") as f:
            f.write("\n".join(console(dump(SMALL))) + "\n")
        status, out, err = run_cli(log)
        check((status, err), (0, ""))
        svg = os.path.join(tmp, "lab4-smp2.trace.svg")
        js = os.path.join(tmp, "lab4-smp2.trace.json")
        check(out.splitlines(), ["trace: lab 4, 2 harts, 18 events, 0 lost, 0.15 ms",
                                 f"trace: wrote {svg}", f"trace: wrote {js}"])
        ET.parse(svg)
        check_chrome(json.load(open(js)), [0, 1])
        # Only what is asked for; --summary prints the table per hart.
        other = os.path.join(tmp, "out", "t.svg")
        status, out, _ = run_cli(log, "--svg", other, "--summary")
        check(status, 0)
        lines = out.splitlines()
        check(lines[-1], f"trace: wrote {other}")
        check(lines[1].split()[:6], ["hart", "events", "lost", "exits", "IPIs", "sent"])
        check(lines[2].split()[:6], ["0", "12", "0", "2", "1", "0"])
        # Cut off: a warning, not a failure.
        with open(log, "w") as f:
            f.write("\n".join(console(dump(SMALL, lost={1: 3}, end=False))) + "\n")
        status, out, err = run_cli(log, "--json", js)
        check(status, 0)
        warnings = [l for l in out.splitlines() if l.startswith("trace: warning: ")]
        check(len(warnings), 2)
        # No trace: a clear message and status 1.
        with open(log, "w") as f:
            f.write("\n".join(OPENSBI + ["hyp: guest powered off"]) + "\n")
        status, out, err = run_cli(log)
        check((status, out), (1, ""))
        check(err, f"trace: no trace in {log}: build with make labN TRACE=1 (labs 03-05)\n")
        # Garbage: the line number, status 1.
        with open(log, "w") as f:
            f.write("\n".join(dump(SMALL)[:3] + ["trace: 0 zz boot 0 0"]
                              + dump(SMALL)[3:]) + "\n")
        status, out, err = run_cli(log)
        check(status, 1)
        assert err.startswith(f"trace: error: {log}: line 4: time 'zz' is not hex"), err


def test_import_starts_nothing():
    """The grader imports the library: no subprocess, no argparse at load."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import trace; "
            "print(trace.__file__, 'subprocess' in sys.modules, 'argparse' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code, HERE], capture_output=True, text=True)
    check(r.stdout.split(), [os.path.join(HERE, "trace.py"), "False", "False"])

if __name__ == "__main__":
    sys.exit(gradelib.run_selftests(globals(), "trace-test"))
