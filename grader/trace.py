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
# words: the lock events' arg0 (the lock's name), exit's arg0 (its cause,
# such as sbi-time), and an unknown event's arguments that are not hex (kept
# as they were printed). line: its console line number (1-based), to find
# it in the log.
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
# skipped: lock takings left out on purpose (labs 04-05; absent in lab 03).
HART_END = re.compile(r"^hart (\d+) events (\d+) lost (\d+)(?: skipped (\d+))?$")
END = re.compile(r"^end events=(\d+) lost=(\d+)(?: skipped=(\d+))?$")


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
    in the order they first came), events (Event tuples, merged in time
    order: a stable sort, so one hart's events keep their order), per_hart ({hartid:
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
             "causes": [], "events": [], "per_hart": {}, "lost": 0, "skipped": 0, "complete": False,
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
        hart, count, lost = (int(g) for g in m.groups()[:3])
        skipped = int(m.group(4) or 0)
        if block is not None and block != hart:
            raise TraceError(n, f"closes hart {hart}'s block, but hart {block}'s is open",
                             PREFIX + body)
        if hart in trace["per_hart"] and trace["per_hart"][hart]["closed"]:
            raise TraceError(n, f"hart {hart}'s block closed twice", PREFIX + body)
        got = trace["per_hart"].setdefault(hart, {"events": 0, "lost": 0, "skipped": 0, "closed": False})
        got["skipped"] = skipped
        if got["events"] != count:
            trace["warnings"].append(f"line {n}: hart {hart}: {count} events said, "
                                     f"{got['events']} came")
        got["lost"], got["closed"] = lost, True
        return None
    m = END.match(body)
    if m:
        if block is not None:
            raise TraceError(n, f"the end line, but hart {block}'s block is open", PREFIX + body)
        trace["end"] = {"events": int(m.group(1)), "lost": int(m.group(2))}
        trace["skipped"] = int(m.group(3) or 0)
        trace["complete"] = True
        return None
    event = read_event(n, body)
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
    trace["per_hart"].setdefault(event.hart, {"events": 0, "lost": 0, "skipped": 0, "closed": False})
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


def read_event(n, body):
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
# inside another (spinning on a lock while suspended), so the open ones make
# a stack and the lane shows its top; but a park inside a suspend is the
# suspend's own wfi, so the lane goes on showing "suspended" (the reason).
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
      the target's first ipi-recv, exit on an IPI-kick or suspend-end at or
      after it; or else its first wake with arg0 = 1) or "hart_start"
      (vcpu-start to the next guest-enter of that vCPU);
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
            if state == "guest":
                del stack[:]  # in the guest, the hart is nothing else
            close(stack, state, lock)  # parked twice: the old one ends
            stack.append((state, label(state, e), lock))
        elif e.name in CLOSES:
            state = CLOSES[e.name]
            close(stack, state, e.args[0] if state == "spinning" else None)
        show(e.time, top(stack))
    show(horizon, None)
    return out


def top(stack):
    """What the lane shows of the open states: (state, label)."""
    if not stack:
        return ("hypervisor", "hypervisor")
    if stack[-1][0] == "parked":
        suspend = next((s for s in reversed(stack) if s[0] == "suspended"), None)
        if suspend:
            return suspend[:2]
    return stack[-1][:2]


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


# How a target takes an IPI. The format names ipi-recv; but an IPI that
# finds its target in the guest makes it exit (lab 05's kick, handled there:
# no ipi-recv follows), and one that finds it waiting for its suspended
# vCPU ends the wait (suspend-end). Without these, such an IPI's arrow
# would go to the next ipi-recv, maybe much later (seen in a lab 05 run).
KICKS = {"IPI-kick"}


def find_arrows(events):
    """The arrows of spans(): (arrows, unmatched)."""
    def first_at(times, t):
        """The first (time, hart) of times (sorted) at or after t, or None."""
        i = bisect.bisect_left(times, (t, -1))
        return times[i] if i < len(times) else None

    recv, wake, enter = {}, {}, {}
    for e in events:
        if (e.name in ("ipi-recv", "suspend-end")
                or (e.name == "exit" and e.args[0] in KICKS)):
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


# ---- times, for people ----

def ms(trace, t, start):
    """Ticks of the time CSR since start, in milliseconds."""
    return (t - start) * 1000 / trace["timebase"]


def fmt_ms(value):
    """A time in ms, to the tick (0.1 us at 10 MHz) without a tail of zeros."""
    return f"{value:.4f}".rstrip("0").rstrip(".") if value else "0"


def fmt_duration(trace, ticks):
    """A duration: in us under a millisecond, in ms from there."""
    value = ticks * 1000 / trace["timebase"]
    return f"{fmt_ms(value * 1000)} us" if value < 1 else f"{fmt_ms(value)} ms"


def summary(trace):
    """The one line that says what the trace holds."""
    events = trace["events"]
    length = ms(trace, events[-1].time, events[0].time) if events else 0
    return (f"trace: lab {trace['lab']}, {trace['harts']} harts, {len(events)} events, "
            f"{trace['lost']} lost, {length:.2f} ms")


# ---- the SVG timeline ----

COLOURS = {
    "firmware": "#dcdcdc", "hypervisor": "#f5a55a", "guest": "#6ab04c", "parked": "#a9cce3",
    "spinning": "#e03c31", "suspended": "#c39bd3", "unknown": "url(#unknown)",
}
MEANING = {
    "firmware": "in the firmware (not started yet)", "hypervisor": "in the hypervisor",
    "guest": "running its vCPU (in the guest)", "parked": "parked (asleep in wfi)",
    "spinning": "spinning on a lock", "suspended": "asleep for its suspended vCPU",
    "unknown": "unknown (events lost, or the dump cut off)",
}
ARROW_COLOURS = {"ipi": "#1f5fbf", "hart_start": "#c0168c"}
ARROW_MEANING = {"ipi": "IPI (ipi-send to its receive)",
                 "hart_start": "hart_start (vcpu-start to guest-enter)"}
# A held lock is a dark bar over the lane, one colour per lock name.
LOCK_COLOURS = ["#222222", "#7b3f00", "#0b4f6c", "#5b2c6f", "#1b5e20", "#7a1f1f"]
EXIT_COLOUR = "#444444"
# The events drawn as labelled marks above their lane, with any event this
# does not know (a student's own) and any IPI or vcpu-start with no arrow
# (never received). Exits are ticks under the lane; the other events show
# as states, held locks and arrows.
MARKED = {"boot", "online", "vm-create", "vcpu-add", "release", "hart-stop", "poweroff",
          "barrier-arrive", "barrier-leave"}

PLOT_W = 1100   # px, the time axis
LEFT = 64       # px, room for "hart N"
RIGHT = 24
TOP = 70        # px, the title and the time axis
PITCH = 52      # px from one lane to the next
BAR_Y = 16      # the state bar's top in its lane (marks' labels above it)
BAR_H = 24
HOLD_H = 7      # a held lock's bar; slots 0, 1, 2 fit in the state bar
MIN_PX = 1.0    # narrower spans are pooled per pixel column
MAX_LISTED = 8  # events named in one pooled tooltip


def to_svg(trace):
    """The timeline as an SVG document (a str): a lane per hart, time to the
    right from the first event, in ms. States are coloured bars, held locks
    thin dark bars over them, IPIs and hart_start arrows between lanes,
    exits ticks under a lane, other events labelled marks above it. Every
    bar, tick, mark and arrow has a tooltip (<title>). Spans narrower than a
    pixel are pooled, so that thousands of events stay readable, but a state
    that a lane was in is always drawn somewhere in that lane."""
    sp = spans(trace)
    start, end = sp["start"], sp["end"]
    harts = hart_ids(trace)
    scale = PLOT_W / max(end - start, 1)

    def x(t):
        return LEFT + (t - start) * scale

    locks = sorted({lock for holds in sp["holds"].values() for _, _, lock, _ in holds})
    lock_colour = {lock: LOCK_COLOURS[i % len(LOCK_COLOURS)] for i, lock in enumerate(locks)}
    lanes_bottom = TOP + PITCH * len(harts)
    body = time_axis(trace, start, end, lanes_bottom)
    for i, hart in enumerate(harts):
        y = TOP + PITCH * i
        body += lane(trace, hart, y, x, sp, lock_colour)
    lane_y = {hart: TOP + PITCH * i + BAR_Y + BAR_H / 2 for i, hart in enumerate(harts)}
    body += arrows_svg(trace, sp, x, lane_y)
    legend, legend_h = legend_svg(lock_colour, lanes_bottom + 14)
    width, height = LEFT + PLOT_W + RIGHT, lanes_bottom + 14 + legend_h
    heading = f"lab {trace['lab']} trace: " + summary(trace).split(", ", 1)[1]
    notes = [f"time in ms from the first event (time = 0x{start:x}, "
             f"timebase {trace['timebase']} Hz)"]
    if not trace["complete"]:
        notes.append(f"cut off: no end line, {len(harts)} of {trace['harts']} harts came")
    if trace["lost"]:
        notes.append(f"{trace['lost']} events lost (a buffer was full)")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
           f'viewBox="0 0 {width} {height:.0f}" font-family="sans-serif" font-size="11">',
           "<defs>",
           '<pattern id="unknown" width="6" height="6" patternUnits="userSpaceOnUse" '
           'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
           '<line x1="0" y1="0" x2="0" y2="6" stroke="#999999" stroke-width="2"/></pattern>']
    for kind, colour in ARROW_COLOURS.items():
        out.append(f'<marker id="head-{kind}" viewBox="0 0 8 8" refX="8" refY="4" '
                   f'markerWidth="7" markerHeight="7" orient="auto">'
                   f'<path d="M0,0 L8,4 L0,8 z" fill="{colour}"/></marker>')
    out += ["</defs>",
            f'<rect width="{width}" height="{height:.0f}" fill="#ffffff"/>',
            text(10, 20, heading, size=15, weight="bold"),
            text(10, 36, "; ".join(notes))]
    out += body + legend + ["</svg>"]
    return "\n".join(out) + "\n"


def text(x, y, what, anchor=None, size=None, weight=None, fill=None, cls=None):
    """An SVG text element; what is escaped."""
    attrs = f'x="{x:.1f}" y="{y:.1f}"'
    for name, value in (("text-anchor", anchor), ("font-size", size), ("font-weight", weight),
                        ("fill", fill), ("class", cls)):
        if value is not None:
            attrs += f' {name}="{value}"'
    return f"<text {attrs}>{xml_escape(str(what))}</text>"


def title(what):
    return f"<title>{xml_escape(what)}</title>"


def time_axis(trace, start, end, bottom):
    """Ticks at round times (1, 2 or 5 times a power of ten ms), with grid
    lines down through the lanes."""
    length = ms(trace, end, start)
    step = nice_step(length / 10) if length > 0 else 1
    out = ['<g class="axis">',
           f'<line x1="{LEFT}" y1="{TOP - 8}" x2="{LEFT + PLOT_W}" y2="{TOP - 8}" '
           'stroke="#000000"/>']
    k = 0
    while k * step <= length * (1 + 1e-9):
        t = k * step
        px = LEFT + PLOT_W * (t / length if length > 0 else 0)
        out.append(f'<line x1="{px:.1f}" y1="{TOP - 12}" x2="{px:.1f}" y2="{bottom:.1f}" '
                   'stroke="#e6e6e6"/>')
        out.append(text(px, TOP - 15, f"{t:.10g}", anchor="middle", size=10))
        k += 1
    out.append(text(LEFT + PLOT_W + 6, TOP - 5, "ms", size=10))
    out.append("</g>")
    return out


def nice_step(rough):
    """The smallest of 1, 2, 5 times a power of ten that is at least rough."""
    power = 10 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= rough * (1 - 1e-9))


def pooled(items, x):
    """The rectangles to draw for one row of spans, items (start, end, key,
    label) in time order: a span at least MIN_PX wide is drawn as itself;
    narrower ones are pooled per column of MIN_PX, and the pool is drawn in
    the key that filled most of its time (pools in a row with the same key
    make one rectangle). A key that some span had but no rectangle shows
    then gets its longest span drawn at least MIN_PX wide, on top: a lane
    never hides a state it was in. Returns [{"x0", "x1", "key", "items"}]."""
    out, pool = [], None

    def flush():
        if not pool:
            return
        time = collections.Counter()
        for s, e, key, _ in pool["items"]:
            time[key] += e - s
        key = time.most_common(1)[0][0]  # on a tie, the first
        x1 = max(pool["x1"], pool["x0"] + MIN_PX)
        last = out[-1] if out else None
        if last and last["pooled"] and last["key"] == key and last["x1"] >= pool["x0"] - MIN_PX:
            last["x1"], last["items"] = max(last["x1"], x1), last["items"] + pool["items"]
        else:
            out.append({"x0": pool["x0"], "x1": x1, "key": key, "items": pool["items"],
                        "pooled": True})

    for item in items:
        x0, x1 = x(item[0]), x(item[1])
        if x1 - x0 >= MIN_PX:
            flush()
            pool = None
            out.append({"x0": x0, "x1": x1, "key": item[2], "items": [item], "pooled": False})
            continue
        column = int(x0 // MIN_PX)
        if pool and pool["column"] != column:
            flush()
            pool = None
        if pool is None:
            pool = {"column": column, "x0": x0, "x1": x1, "items": []}
        pool["x1"] = max(pool["x1"], x1)
        pool["items"].append(item)
    flush()
    drawn = {r["key"] for r in out}
    for key in dict.fromkeys(item[2] for item in items):
        if key not in drawn:
            longest = max((i for i in items if i[2] == key), key=lambda i: i[1] - i[0])
            x0 = x(longest[0])
            out.append({"x0": x0, "x1": max(x(longest[1]), x0 + MIN_PX), "key": key,
                        "items": [longest], "pooled": False})
    return out


def rect_title(trace, hart, rect, start):
    """A rectangle's tooltip: its span (what, how long, from when), or for a
    pool, its time range and how its time was shared."""
    items = rect["items"]
    if len(items) == 1:
        s, e, _, what = items[0]
        return (f"hart {hart}: {what}, {fmt_duration(trace, e - s)} "
                f"from {fmt_ms(ms(trace, s, start))} ms")
    time = collections.Counter()
    for s, e, _, what in items:
        time[what] += e - s
    total = sum(time.values()) or 1
    shares = ", ".join(f"{what} {100 * t / total:.0f}%" for what, t in time.most_common())
    return (f"hart {hart}: {len(items)} short spans, {fmt_ms(ms(trace, items[0][0], start))}"
            f"-{fmt_ms(ms(trace, items[-1][1], start))} ms: {shares}")


def lane(trace, hart, y, x, sp, lock_colour):
    """One hart's lane, y its top: its label, its states, the locks it held,
    its exits and its other events."""
    bar = y + BAR_Y
    return ([f'<g class="lane" id="hart-{hart}">',
             text(8, bar + BAR_H / 2 + 4, f"hart {hart}", weight="bold", cls="lane-label")]
            + state_bars(trace, hart, bar, x, sp)
            + hold_bars(trace, hart, bar, x, sp, lock_colour)
            + exit_ticks(trace, hart, bar, x, sp["start"])
            + marks(trace, hart, bar, x, sp)
            + ["</g>"])


def state_bars(trace, hart, bar, x, sp):
    """The states, coloured; a span wide enough for its label gets it
    written in (but not the hypervisor's and the firmware's, the ground)."""
    out = []
    for r in pooled(sp["states"][hart], x):
        w = r["x1"] - r["x0"]
        out.append(f'<rect class="span {r["key"]}" x="{r["x0"]:.2f}" y="{bar}" width="{w:.2f}" '
                   f'height="{BAR_H}" fill="{COLOURS[r["key"]]}">'
                   f'{title(rect_title(trace, hart, r, sp["start"]))}</rect>')
        what = r["items"][0][3]
        if (len(r["items"]) == 1 and r["key"] not in ("hypervisor", "firmware")
                and w > 6 * len(what) + 6):
            out.append(text(r["x0"] + 3, bar + BAR_H - 5, what, size=10))
    return out


def hold_bars(trace, hart, bar, x, sp, lock_colour):
    """The locks held: a thin bar each over the states, one row per slot
    (a lock taken while holding another goes below it)."""
    out = []
    holds = sp["holds"][hart]
    for slot in sorted({h[3] for h in holds}):
        row = [(s, e, lock, f"holds {lock}") for s, e, lock, k in holds if k == slot]
        y = bar + 1 + min(slot, 2) * (HOLD_H + 1)
        for r in pooled(row, x):
            w = r["x1"] - r["x0"]
            out.append(f'<rect class="hold" x="{r["x0"]:.2f}" y="{y}" width="{w:.2f}" '
                       f'height="{HOLD_H}" fill="{lock_colour[r["key"]]}">'
                       f'{title(rect_title(trace, hart, r, sp["start"]))}</rect>')
            if w > 5 * len(r["key"]) + 4:
                out.append(text(r["x0"] + 2, y + HOLD_H - 1, r["key"], size=7, fill="#ffffff"))
    return out


def exit_ticks(trace, hart, bar, x, start):
    """A tick under the lane per exit; exits in the same pixel column share
    one, whose tooltip counts them by cause."""
    out = []
    exits = [e for e in trace["events"] if e.hart == hart and e.name == "exit"]
    for column in by_column(exits, x):
        px, at = x(column[0].time), fmt_ms(ms(trace, column[0].time, start))
        causes = collections.Counter(e.args[0] for e in column)
        listed = ", ".join(f"{c} x{n}" if n > 1 else c for c, n in causes.most_common())
        what = f"exit ({listed})" if len(column) == 1 else f"{len(column)} exits ({listed})"
        out.append(f'<line class="exit" x1="{px:.2f}" y1="{bar + BAR_H + 1}" x2="{px:.2f}" '
                   f'y2="{bar + BAR_H + 7}" stroke="{EXIT_COLOUR}">'
                   f'{title(f"hart {hart}: {what} at {at} ms")}</line>')
    return out


def marks(trace, hart, bar, x, sp):
    """A labelled mark above the lane for each event in MARKED, each event
    this does not know, and each IPI or vcpu-start that nothing received.
    Marks in the same pixel column share one; a label that would run into
    the one before it is left out (the mark and its tooltip stay)."""
    out = []
    unmatched = set(sp["unmatched"])
    events = [e for e in trace["events"] if e.hart == hart and
              (e.name in MARKED or e.name not in KNOWN or e in unmatched)]
    label_end = 0
    for column in by_column(events, x):
        px, at = x(column[0].time), fmt_ms(ms(trace, column[0].time, sp["start"]))
        said = [describe(e) for e in column]
        if len(said) > MAX_LISTED:
            said[MAX_LISTED:] = [f"and {len(said) - MAX_LISTED} more"]
        out.append(f'<path class="mark" d="M{px - 3.5:.2f},{bar - 7} L{px + 3.5:.2f},{bar - 7} '
                   f'L{px:.2f},{bar} z" fill="#000000">'
                   f'{title(f"hart {hart} at {at} ms: " + "; ".join(said))}</path>')
        name = column[0].name + (f" +{len(column) - 1}" if len(column) > 1 else "")
        width = 5.5 * len(name)
        lx = min(px - 3, LEFT + PLOT_W + RIGHT - 2 - width)  # the last ones end at the edge
        if lx >= label_end:
            out.append(text(lx, bar - 9, name, size=9, cls="mark-label"))
            label_end = lx + width + 4
    return out


def by_column(events, x):
    """Events (in time order) grouped per pixel column."""
    groups = []
    for e in events:
        column = int(x(e.time))
        if groups and groups[-1][0] == column:
            groups[-1][1].append(e)
        else:
            groups.append((column, [e]))
    return [g for _, g in groups]


def describe(e):
    """An event in words, for a mark's tooltip (an ipi-send or vcpu-start
    has a mark only when nothing received it)."""
    a0, a1 = e.args
    if e.name == "ipi-send":
        return f"ipi-send to hart {a0}: no receive on it in the trace"
    if e.name == "vcpu-start":
        return f"vcpu-start of vCPU {a0} (hart {a1}): it never entered the guest in the trace"
    said = {
        "online": f"online (index {a0})", "vm-create": f"vm-create ({a0} vCPUs)",
        "vcpu-add": f"vcpu-add (vCPU {a0})", "release": f"release ({a0} vCPUs)",
        "hart-stop": f"hart-stop (vCPU {a0})",
        "barrier-arrive": f"barrier-arrive (barrier {hexa(a0)}, for {a1} harts)",
        "barrier-leave": f"barrier-leave (barrier {hexa(a0)})",
    }
    if e.name in said:
        return said[e.name]
    if e.name in KNOWN:
        return e.name
    return f"{e.name} {hexa(a0)} {hexa(a1)}"


def hexa(value):
    return f"0x{value:x}" if isinstance(value, int) else str(value)


def arrows_svg(trace, sp, x, lane_y):
    """The IPIs and hart_starts, from the sender's lane to the receiver's."""
    # Many arrows cross many lanes: the more there are, the fainter each.
    opacity = 0.9 if len(sp["arrows"]) <= 50 else 0.5 if len(sp["arrows"]) <= 200 else 0.3
    out = [f'<g class="arrows" opacity="{opacity}">']
    names = {"ipi": "IPI", "hart_start": "hart_start"}
    for src, t0, dst, t1, kind in sp["arrows"]:
        x0, y0, x1, y1 = x(t0), lane_y[src], x(t1), lane_y[dst]
        if src == dst:  # to itself: a loop over the lane
            d = f"M{x0:.2f},{y0} C{x0:.2f},{y0 - 22} {x1:.2f},{y0 - 22} {x1:.2f},{y1}"
        else:
            d = f"M{x0:.2f},{y0} L{x1:.2f},{y1}"
        tip = (f"{names[kind]}: hart {src} at {fmt_ms(ms(trace, t0, sp['start']))} ms to hart "
               f"{dst}, {fmt_duration(trace, t1 - t0)} later")
        out.append(f'<path class="arrow {kind}" d="{d}" fill="none" '
                   f'stroke="{ARROW_COLOURS[kind]}" stroke-width="1.2" '
                   f'marker-end="url(#head-{kind})">{title(tip)}</path>')
    out.append("</g>")
    return out


def legend_svg(lock_colour, y0):
    """The legend: each state's colour, then locks, arrows, ticks, marks.
    Returns (elements, height)."""
    items = [("rect", s, COLOURS[s], MEANING[s]) for s in STATES]
    items += [("hold", lock, colour, f"holds {lock}") for lock, colour in lock_colour.items()]
    items += [("arrow", k, ARROW_COLOURS[k], ARROW_MEANING[k]) for k in ARROW_COLOURS]
    items += [("tick", "exit", EXIT_COLOUR, "exit (a tick under the lane)"),
              ("mark", "mark", "#000000", "other event (vm-create, release, ...)")]
    out = ['<g class="legend">', text(10, y0 + 12, "legend", weight="bold")]
    lx, ly = 70, y0 + 12
    for kind, key, colour, what in items:
        width = 22 + 6 * len(what) + 18
        if lx + width > LEFT + PLOT_W + RIGHT:
            lx, ly = 70, ly + 18
        if kind == "rect":
            out.append(f'<rect x="{lx}" y="{ly - 10}" width="16" height="12" fill="{colour}" '
                       'stroke="#888888" stroke-width="0.5"/>')
        elif kind == "hold":
            out.append(f'<rect x="{lx}" y="{ly - 7}" width="16" height="{HOLD_H}" '
                       f'fill="{colour}"/>')
        elif kind == "arrow":
            out.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 16}" y2="{ly - 4}" '
                       f'stroke="{colour}" stroke-width="1.2" '
                       f'marker-end="url(#head-{key})"/>')
        elif kind == "tick":
            out.append(f'<line x1="{lx + 8}" y1="{ly - 10}" x2="{lx + 8}" y2="{ly + 2}" '
                       f'stroke="{colour}"/>')
        else:
            out.append(f'<path d="M{lx + 4},{ly - 10} L{lx + 12},{ly - 10} L{lx + 8},{ly - 2} z" '
                       f'fill="{colour}"/>')
        out.append(text(lx + 22, ly, what, cls="legend-item"))
        lx += width
    out.append("</g>")
    return out, ly - y0 + 14


# ---- the Chrome trace-event JSON (Perfetto, chrome://tracing) ----

PID = 1
HOLD_TID = 1000  # a hart's held locks go on threads of their own: HOLD_TID * (slot + 1) + hart


def to_chrome(trace):
    """The timeline in Chrome's trace-event format (the JSON object form),
    for ui.perfetto.dev or chrome://tracing: one thread per hart ("hart N")
    in one process ("lab N"), an "X" event per span (name: the state; its
    label, such as "guest (vCPU 2)", in args), an "i" event per exit and
    mark, and a flow ("s" then "f") per arrow. A lock held across other
    states would not nest in the hart's thread, so held locks go on threads
    of their own ("hart N locks"). Times: microseconds from the first event,
    to the nanosecond."""
    sp = spans(trace)
    start = sp["start"]

    def us(t):
        # Nanoseconds first, so that one span's end and the next's start are
        # the same number in the file.
        return ((t - start) * 10 ** 9 // trace["timebase"]) / 1000

    events = [{"ph": "M", "pid": PID, "tid": 0, "name": "process_name",
               "args": {"name": f"lab {trace['lab']}"}}]
    for hart in hart_ids(trace):
        events.append({"ph": "M", "pid": PID, "tid": hart, "name": "thread_name",
                       "args": {"name": f"hart {hart}"}})
        events.append({"ph": "M", "pid": PID, "tid": hart, "name": "thread_sort_index",
                       "args": {"sort_index": 10 * hart}})
        for s, e, state, what in sp["states"][hart]:
            events.append({"ph": "X", "pid": PID, "tid": hart, "name": state, "cat": "state",
                           "ts": us(s), "dur": round(us(e) - us(s), 3),
                           "args": {"label": what}})
        for slot in sorted({h[3] for h in sp["holds"][hart]}):
            tid = HOLD_TID * (slot + 1) + hart
            events.append({"ph": "M", "pid": PID, "tid": tid, "name": "thread_name",
                           "args": {"name": f"hart {hart} locks" + (f" ({slot + 1})"
                                                                    if slot else "")}})
            events.append({"ph": "M", "pid": PID, "tid": tid, "name": "thread_sort_index",
                           "args": {"sort_index": 10 * hart + 1 + slot}})
            for s, e, lock, _ in [h for h in sp["holds"][hart] if h[3] == slot]:
                events.append({"ph": "X", "pid": PID, "tid": tid, "name": lock, "cat": "lock",
                               "ts": us(s), "dur": round(us(e) - us(s), 3),
                               "args": {"label": f"hart {hart} holds {lock}"}})
    unmatched = set(sp["unmatched"])
    for e in trace["events"]:
        if e.name == "exit":
            name, cat = f"exit {e.args[0]}", "exit"
        elif e.name in MARKED or e.name not in KNOWN or e in unmatched:
            name, cat = e.name, "mark"
        else:
            continue
        events.append({"ph": "i", "s": "t", "pid": PID, "tid": e.hart, "name": name, "cat": cat,
                       "ts": us(e.time), "args": {"event": describe(e),
                                                  "line": e.line}})
    for n, (src, t0, dst, t1, kind) in enumerate(sp["arrows"], 1):
        events.append({"ph": "s", "id": n, "pid": PID, "tid": src, "name": kind, "cat": kind,
                       "ts": us(t0)})
        events.append({"ph": "f", "bp": "e", "id": n, "pid": PID, "tid": dst, "name": kind,
                       "cat": kind, "ts": us(t1)})
    return {"traceEvents": events, "displayTimeUnit": "ms",
            "otherData": {"lab": trace["lab"], "harts": trace["harts"],
                          "timebase": trace["timebase"], "events": len(trace["events"]),
                          "lost": trace["lost"], "complete": trace["complete"],
                          "first_time": f"0x{start:x}", "format": f"v{trace['version']}",
                          "made_by": "grader/trace.py"}}


# ---- the command line ----

def per_hart_table(trace):
    """What --summary prints: per hart, its events, lost ones, exits, IPIs
    sent and received (ipi-send and ipi-recv events), and the time in each
    state (ms and share of the trace)."""
    sp = spans(trace)
    total = max(sp["end"] - sp["start"], 1)
    rows = [("hart", "events", "lost", "exits", "IPIs sent", "IPIs received",
             "time in each state")]
    for hart in hart_ids(trace):
        info = trace["per_hart"][hart]
        time = collections.Counter()
        for s, e, state, _ in sp["states"][hart]:
            time[state] += e - s
        states = ", ".join(f"{state} {fmt_ms(ms(trace, t, 0))} ms ({100 * t / total:.0f}%)"
                           for state, t in time.most_common())
        count = collections.Counter(e.name for e in trace["events"] if e.hart == hart)
        rows.append((str(hart), str(info["events"]), str(info["lost"]), str(count["exit"]),
                     str(count["ipi-send"]), str(count["ipi-recv"]), states))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) + "  " + r[-1]
                     for r in rows)


def main(argv=None):
    import argparse  # here, not at the top: the grader imports this module
    ap = argparse.ArgumentParser(
        description="Draw the trace dump (make labN TRACE=1) of a console log: an SVG "
        "timeline and a Chrome trace-event JSON file (ui.perfetto.dev). With no option, "
        "writes both beside the log.")
    ap.add_argument("log", metavar="LOG", help="a console log (build/grade/<case>.log)")
    ap.add_argument("--svg", metavar="OUT.svg", help="write the timeline here")
    ap.add_argument("--json", metavar="OUT.json", help="write the Chrome trace-event JSON here")
    ap.add_argument("--summary", action="store_true",
                    help="print a table per hart: events, exits, IPIs, time in each state")
    args = ap.parse_args(argv)
    try:
        with open(args.log, "rb") as f:
            lines = f.read().decode("utf-8", errors="replace").split("\n")
    except OSError as e:
        print(f"trace: error: {args.log}: {e.strerror}", file=sys.stderr)
        return 1
    try:
        trace = parse(lines)
    except TraceError as e:
        print(f"trace: error: {args.log}: {e}", file=sys.stderr)
        return 1
    if trace is None:
        print(f"trace: no trace in {args.log}: build with make labN TRACE=1 (labs 03-05)",
              file=sys.stderr)
        return 1
    if not (args.svg or args.json or args.summary):
        stem = args.log[:-4] if args.log.endswith(".log") else args.log
        args.svg, args.json = stem + ".trace.svg", stem + ".trace.json"
    print(summary(trace))
    for warning in trace["warnings"]:
        print(f"trace: warning: {warning}")
    if args.summary:
        print(per_hart_table(trace))
    if args.svg:
        write(args.svg, to_svg(trace))
    if args.json:
        write(args.json, json.dumps(to_chrome(trace), separators=(",", ":")) + "\n")
    return 0


def write(path, content):
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(content)
    print(f"trace: wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
