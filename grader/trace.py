#!/usr/bin/env python3
"""The hypervisor's event trace (make labN TRACE=1, labs 03-05), as pictures.

    python3 grader/trace.py LOG [--svg OUT.svg] [--json OUT.json] [--summary]

A hypervisor built with TRACE=1 prints, at power-off, what each hart did and
when (grader/trace-format.md). This reads that dump out of a console log and
draws it: an SVG timeline, one lane per hart, and a Chrome trace-event JSON
file for Perfetto (ui.perfetto.dev) or chrome://tracing, where one can zoom.
With no option it writes both beside the log (LOG without .log, then
.trace.svg and .trace.json).

The library part is for the grader: parse() reads the dump out of console
lines, spans() says what each hart was doing from when to when, to_svg() and
to_chrome() draw it. Importing it starts nothing and reads nothing.

Python 3 standard library only.
"""
import bisect
import collections
import json
import math
import os
import re
import sys
from xml.sax.saxutils import escape as xml_escape

PREFIX = "trace: "
VERSION = 1

# One event, as parse() returns it. args: (arg0, arg1), ints, except the
# words: the lock events' arg0 (the lock's name), exit's arg0 (its cause, such
# as sbi-time), and an unknown event's arguments that are not hex (kept as
# they were printed). line: its console line
# number (1-based), to find it in the log.
Event = collections.namedtuple("Event", "hart time name args line")

# The events of the format (grader/trace-format.md). Any other name is kept
# and drawn as a mark, so that a student's new event does not break this.
KNOWN = {
    "boot", "online", "park", "wake", "ipi-send", "ipi-recv", "lock-wait", "lock-acquired",
    "lock-release", "barrier-arrive", "barrier-leave", "vm-create", "vcpu-add", "release",
    "vcpu-start", "guest-enter", "exit", "resume", "suspend", "suspend-end", "hart-stop",
    "poweroff",
}
LOCK_EVENTS = {"lock-wait", "lock-acquired", "lock-release"}
WORD_ARG0 = LOCK_EVENTS | {"exit"}  # their arg0 is a word, not hex
WORD = re.compile(r"^[A-Za-z0-9_-]+$")
HEX = re.compile(r"^[0-9a-fA-F]+$")
BEGIN = re.compile(r"^begin v(\d+)((?: [a-z]+=\S+)*)$")
HART_END = re.compile(r"^hart (\d+) events (\d+) lost (\d+)$")
END = re.compile(r"^end events=(\d+) lost=(\d+)$")


class TraceError(ValueError):
    """A `trace:` line that is not the format: the dump cannot be trusted.
    line: the console line's number (1-based)."""

    def __init__(self, line, why, text):
        super().__init__(f"line {line}: {why}: {text!r}")
        self.line = line


# ---- reading the dump ----

def parse(lines):
    """The trace dump in console lines (a list of str, or one str), as a
    dict; None if there is no `trace:` line at all. Raises TraceError for a
    `trace:` line that is not the format, with its line number.

    Every line that does not start with "trace: " is someone else's (the
    hypervisor's, the guest's, OpenSBI's) and skipped; "\\r" is dropped.
    A dump with no end line was cut off (QEMU killed): what came is kept,
    complete is False, and its last `trace:` line, if it was cut in the
    middle, is dropped with a warning rather than rejected.

    The dict: version, lab, harts (as the begin line says), timebase (Hz),
    header (every key=value of the begin line), causes (the exit causes
    in the order they first came), events (Event tuples, merged in time order: a stable
    sort, so one hart's events keep their order), per_hart ({hartid:
    {"events": n, "lost": m, "closed": its `hart N events` line came}}),
    lost (their sum), complete (the end line came), end ({"events",
    "lost"} from the end line, or None), warnings (what a reader should
    know: a cut-off dump, lost events, totals that do not add up)."""
    if isinstance(lines, str):
        lines = lines.split("\n")
    found = [(n, line.replace("\r", "").rstrip()) for n, line in enumerate(lines, 1)
             if line.replace("\r", "").startswith(PREFIX)]
    if not found:
        return None
    trace = {"version": None, "lab": None, "harts": None, "timebase": None, "header": {},
             "causes": [], "events": [], "per_hart": {}, "lost": 0, "complete": False,
             "end": None, "warnings": []}
    block = None  # the hart whose block is open: its events came, its closing line not yet
    last_time = {}
    for k, (n, line) in enumerate(found):
        body = line[len(PREFIX):]
        try:
            block = read_line(trace, n, body, block, last_time)
        except TraceError:
            # The last line of a dump that was cut off may be cut too.
            if k == len(found) - 1 and trace["version"] is not None and not trace["complete"]:
                trace["warnings"].append(f"line {n}: cut off in the middle, dropped: {line!r}")
                break
            raise
    finish(trace)
    return trace


def read_line(trace, n, body, block, last_time):
    """Takes one `trace:` line (body: without the prefix) into trace.
    Returns the hart whose block is open after it."""
    if trace["complete"]:
        raise TraceError(n, "a trace line after the end line", PREFIX + body)
    m = BEGIN.match(body)
    if m:
        if trace["version"] is not None:
            raise TraceError(n, "a second begin line (one dump per log)", PREFIX + body)
        return read_begin(trace, n, body, m)
    if trace["version"] is None:
        raise TraceError(n, "a trace line before the begin line", PREFIX + body)
    m = HART_END.match(body)
    if m:
        hart, count, lost = (int(g) for g in m.groups())
        if block is not None and block != hart:
            raise TraceError(n, f"closes hart {hart}'s block, but hart {block}'s is open",
                             PREFIX + body)
        if hart in trace["per_hart"] and trace["per_hart"][hart]["closed"]:
            raise TraceError(n, f"hart {hart}'s block closed twice", PREFIX + body)
        got = trace["per_hart"].setdefault(hart, {"events": 0, "lost": 0, "closed": False})
        if got["events"] != count:
            trace["warnings"].append(f"line {n}: hart {hart}: {count} events said, "
                                     f"{got['events']} came")
        got["lost"], got["closed"] = lost, True
        return None
    m = END.match(body)
    if m:
        trace["end"] = {"events": int(m.group(1)), "lost": int(m.group(2))}
        trace["complete"] = True
        return None
    event = read_event(trace, n, body)
    info = trace["per_hart"].get(event.hart)
    if info and info["closed"]:
        raise TraceError(n, f"an event of hart {event.hart} after its block closed",
                         PREFIX + body)
    if block is not None and block != event.hart:
        raise TraceError(n, f"an event of hart {event.hart} inside hart {block}'s block",
                         PREFIX + body)
    if event.time < last_time.get(event.hart, 0):
        raise TraceError(n, f"hart {event.hart}'s time goes back "
                         f"(from {last_time[event.hart]:x})", PREFIX + body)
    last_time[event.hart] = event.time
    trace["per_hart"].setdefault(event.hart, {"events": 0, "lost": 0, "closed": False})
    trace["per_hart"][event.hart]["events"] += 1
    trace["events"].append(event)
    return event.hart


def read_begin(trace, n, body, m):
    version = int(m.group(1))
    if version != VERSION:
        raise TraceError(n, f"format v{version}: this reads v{VERSION}", PREFIX + body)
    header = dict(kv.split("=", 1) for kv in m.group(2).split())
    for key in ("lab", "harts", "timebase"):
        if not header.get(key, "").isdigit():
            raise TraceError(n, f"the begin line needs {key}=<decimal number>", PREFIX + body)
    if int(header["timebase"]) == 0:
        raise TraceError(n, "timebase=0: no way to tell the time", PREFIX + body)
    trace.update(version=version, header=header, lab=int(header["lab"]),
                 harts=int(header["harts"]), timebase=int(header["timebase"]))
    return None


def read_event(trace, n, body):
    """An event line, '<hartid> <time> <event> <arg0> <arg1>', as an Event."""
    fields = body.split()
    if len(fields) != 5:
        raise TraceError(n, "not '<hartid> <time> <event> <arg0> <arg1>', nor begin, "
                         "hart N events, end", PREFIX + body)
    hart, time, name, a0, a1 = fields
    if not hart.isdigit():
        raise TraceError(n, f"hartid {hart!r} is not a decimal number", PREFIX + body)
    if not HEX.match(time):
        raise TraceError(n, f"time {time!r} is not hex", PREFIX + body)
    if not WORD.match(name):
        raise TraceError(n, f"event {name!r} is not a word", PREFIX + body)
    args = []
    for i, a in enumerate((a0, a1)):
        if i == 0 and name in WORD_ARG0:
            if not WORD.match(a):
                what = "cause" if name == "exit" else "lock name"
                raise TraceError(n, f"{what} {a!r} is not a word", PREFIX + body)
            args.append(a)
        elif HEX.match(a):
            args.append(int(a, 16))
        elif name in KNOWN:
            raise TraceError(n, f"arg{i} {a!r} of {name} is not hex", PREFIX + body)
        else:
            args.append(a)  # a student's event: kept as printed
    return Event(int(hart), int(time, 16), name, tuple(args), n)


def finish(trace):
    """After the last line: the merge by time, the totals, the warnings."""
    trace["events"].sort(key=lambda e: e.time)
    for e in trace["events"]:
        if e.name == "exit" and e.args[0] not in trace["causes"]:
            trace["causes"].append(e.args[0])
    per_hart = trace["per_hart"]
    trace["lost"] = sum(h["lost"] for h in per_hart.values())
    if not trace["complete"]:
        open_harts = [h for h, info in per_hart.items() if not info["closed"]]
        where = f" in hart {open_harts[0]}'s block" if open_harts else ""
        trace["warnings"].append(f"the dump was cut off{where} (no 'trace: end' line): "
                                 f"{len(per_hart)} of {trace['harts']} harts, "
                                 "drawn as far as it goes")
    else:
        said, came = trace["end"], {"events": len(trace["events"]), "lost": trace["lost"]}
        if said != came:
            trace["warnings"].append(f"the end line says {said['events']} events, "
                                     f"{said['lost']} lost; the blocks add up to "
                                     f"{came['events']}, {came['lost']}")
        if len(per_hart) != trace["harts"]:
            trace["warnings"].append(f"begin says {trace['harts']} harts, "
                                     f"{len(per_hart)} blocks came")
    for hart, info in sorted(per_hart.items()):
        if info["lost"]:
            trace["warnings"].append(f"hart {hart} lost {info['lost']} events (its buffer was "
                                     "full): drawn up to its last recorded one")


def hart_ids(trace):
    return sorted(trace["per_hart"])


# ---- what each hart was doing ----

# The states of a hart's lane (grader/trace-format.md, "What each hart is
# doing"), and "unknown": after the last recorded event of a hart whose
# buffer was full or whose block was cut off, there is no telling.
STATES = ("firmware", "hypervisor", "guest", "parked", "spinning", "suspended", "unknown")

# The events that open a state, and those that close one. A state may open
# inside another (parked while suspended: the hart's wfi loop runs inside
# the suspend), so the open ones make a stack and the lane shows its top.
OPENS = {"park": "parked", "lock-wait": "spinning", "guest-enter": "guest",
         "resume": "guest", "suspend": "suspended"}
CLOSES = {"wake": "parked", "lock-acquired": "spinning", "exit": "guest",
          "hart-stop": "guest", "poweroff": "guest", "suspend-end": "suspended"}


def spans(trace):
    """What each hart was doing, from when to when, in `time` ticks:

    states: {hartid: [(start, end, state, label)]}, one hart's spans
      following each other from the trace's first event to its last, the
      state one of STATES and the label what a reader sees ("spinning on
      vm", "guest (vCPU 2)"); spans of no length are left out, and two
      spans in a row with the same label are one;
    holds: {hartid: [(start, end, lock, slot)]}, the locks held (from
      lock-acquired to lock-release), drawn over the states; slot: 0 for
      the first lock held, 1 for one taken while holding another, ...;
    arrows: [(from_hart, t0, to_hart, t1, kind)], kind "ipi" (ipi-send to
      the target's first ipi-recv at or after it, or else its first wake
      with arg0 = 1) or "hart_start" (vcpu-start to the next guest-enter of
      that vCPU);
    unmatched: the ipi-send and vcpu-start events with no arrow (no receive
      in the trace: a lost IPI, or the target's events were lost);
    start, end: the first and the last event's time."""
    events = trace["events"]
    start = events[0].time if events else 0
    end = events[-1].time if events else 0
    by_hart = {h: [] for h in hart_ids(trace)}
    for e in events:
        by_hart[e.hart].append(e)
    states, holds = {}, {}
    for hart, evs in by_hart.items():
        info = trace["per_hart"][hart]
        if info["closed"] and not info["lost"]:
            horizon, unknown = end, None
        else:
            horizon = evs[-1].time if evs else start
            unknown = (f"unknown: {info['lost']} events lost (buffer full)" if info["lost"]
                       else "unknown: the dump was cut off")
        states[hart] = hart_states(evs, start, horizon)
        if unknown and horizon < end:
            states[hart].append((horizon, end, "unknown", unknown))
        holds[hart] = hart_holds(evs, horizon)
    arrows, unmatched = find_arrows(events)
    return {"states": states, "holds": holds, "arrows": arrows, "unmatched": unmatched,
            "start": start, "end": end}


def hart_states(events, start, horizon):
    """One hart's (start, end, state, label) spans, from start (the trace's
    first event: before its own first event the hart was in the firmware)
    to horizon (the last time its record covers)."""
    out = []
    now, shown = start, ("firmware", "firmware (not started yet)")
    stack = []  # the open states: (state, label, lock name or None)

    def show(t, top):
        nonlocal now, shown
        if top == shown:
            return
        if t > now:
            if out and out[-1][3] == shown[1] and out[-1][1] == now:
                out[-1] = (out[-1][0], t) + shown  # the same label again: one span
            else:
                out.append((now, t) + shown)
        now, shown = t, top

    for e in events:
        if e.name in OPENS:
            state = OPENS[e.name]
            lock = e.args[0] if state == "spinning" else None
            close(stack, state, lock)  # parked twice, resume without exit: the old one ends
            stack.append((state, label(state, e), lock))
        elif e.name in CLOSES:
            state = CLOSES[e.name]
            close(stack, state, e.args[0] if state == "spinning" else None)
        show(e.time, stack[-1][:2] if stack else ("hypervisor", "hypervisor"))
    show(horizon, None)
    return out


def close(stack, state, lock):
    """Closes the innermost open state of that kind (and any opened inside
    it whose end never came); no such state open: nothing happens."""
    for i in range(len(stack) - 1, -1, -1):
        if stack[i][0] == state and (lock is None or stack[i][2] == lock):
            del stack[i:]
            return


def label(state, e):
    if state == "spinning":
        return f"spinning on {e.args[0]}"
    if state in ("guest", "suspended"):
        return f"{state} (vCPU {e.args[0]})"
    return state


def hart_holds(events, horizon):
    """One hart's held locks: (start, end, lock, slot). A lock still held
    at the end is drawn to horizon."""
    held, out = {}, []  # held: lock name -> (since, slot)
    for e in events:
        if e.name not in ("lock-acquired", "lock-release"):
            continue
        lock = e.args[0]
        if lock in held:  # released, or taken again without a release (a bug): ends here
            since, slot = held.pop(lock)
            out.append((since, e.time, lock, slot))
        if e.name == "lock-acquired":
            busy = {slot for _, slot in held.values()}
            held[lock] = (e.time, min(s for s in range(len(busy) + 1) if s not in busy))
    out += [(since, max(since, horizon), lock, slot) for lock, (since, slot) in held.items()]
    return sorted(out)


def find_arrows(events):
    """The arrows of spans(): (arrows, unmatched)."""
    def first_at(times, t):
        """The first (time, hart) of times (sorted) at or after t, or None."""
        i = bisect.bisect_left(times, (t, -1))
        return times[i] if i < len(times) else None

    recv, wake, enter = {}, {}, {}
    for e in events:
        if e.name == "ipi-recv":
            recv.setdefault(e.hart, []).append((e.time, e.hart))
        elif e.name == "wake" and e.args[0] == 1:
            wake.setdefault(e.hart, []).append((e.time, e.hart))
        elif e.name == "guest-enter":
            enter.setdefault(e.args[0], []).append((e.time, e.hart))
    for times in (*recv.values(), *wake.values(), *enter.values()):
        times.sort()
    arrows, unmatched = [], []
    for e in events:
        if e.name == "ipi-send":
            target = e.args[0]
            to = (first_at(recv.get(target, []), e.time)
                  or first_at(wake.get(target, []), e.time))
            kind = "ipi"
        elif e.name == "vcpu-start":
            to, kind = first_at(enter.get(e.args[0], []), e.time), "hart_start"
        else:
            continue
        if to:
            arrows.append((e.hart, e.time, to[1], to[0], kind))
        else:
            unmatched.append(e)
    return arrows, unmatched

