"""The grader's checks of order, judged from the hypervisor's event trace.

A lab 03-05 hypervisor built with TRACE=1 prints, at power-off, what each
hart did and when (grader/trace-format.md): the `trace: ` lines. The
console says what happened; the trace also says in which order, on one
clock for every hart. So these checks see what no console line can: a park
loop that polls instead of sleeping, two harts inside one lock, a barrier
left before the last hart came, a vCPU entered before it was started.

Each check is a gradelib Check (TraceCheck) that reads the whole console,
trace lines and all; a trace case's other checks see the console without
them (gradelib.judge, Case(trace=True)). A failure names the first
offending event(s), with their harts and times (the dump's hex `time`
values, so that one can find them in the log), and marks their lines.

Skipped and lost events. A hart's `skipped` (labs 04-05) counts the lock
takings past the first TRACE_LOCK_TAKES of each lock, each left out whole
(wait, acquired and release together): the pairs stay pairs, and the
hart's record stays whole. Its `lost` counts the events after its buffer
filled, all after its last recorded one: a hart that lost events is known
only up to that event. A check that compares harts judges only up to the
horizon, the earliest such last event (and the power-off, after which the
dump stops the recording), and says so when it leaves events out.

grader/trace.py reads the dump (trace.parse: a dict, its events Event
tuples in time order), the same reader that draws the timeline.

Python 3 standard library only.
"""
import collections
import re

import gradelib
import trace as trace_dump

PREFIX = trace_dump.PREFIX
INF = float("inf")


# ---- what the checks share ----

def describe(e):
    """An event as the dump shows it, with its hart and time."""
    args = " ".join(a if isinstance(a, str) else f"{a:x}" for a in e.args)
    return f"{e.name} {args} on hart {e.hart} at {e.time:x}"


class Trace:
    """A parsed dump, read for the checks: events (time order), by_hart
    (each hart's in its order), lost and last (time) per hart, cut (the
    harts whose record may end before the dump), the boot hart (its `boot`
    event's), and horizon: up to when every hart's events are all known
    (see the module's docstring). whole: the dump is whole; if not (cut off,
    or a hart's block missing), nothing is known of every hart at once
    (horizon -1), and a block not closed ends at its last event."""

    def __init__(self, parsed, whole=True):
        self.parsed, self.events, self.whole = parsed, parsed["events"], whole
        self.by_hart = collections.defaultdict(list)
        for e in self.events:
            self.by_hart[e.hart].append(e)
        harts = parsed["per_hart"]
        self.lost = {h: info["lost"] for h, info in harts.items()}
        self.last = {h: evs[-1].time for h, evs in self.by_hart.items()}
        # Whose record ends before the dump: a buffer that filled (it lost
        # events), or a block cut short.
        self.cut = {h for h, info in harts.items()
                    if h in self.by_hart and (info["lost"] or not info["closed"])}
        boot = [e.hart for e in self.events if e.name == "boot"]
        self.boot = boot[0] if boot else None
        ends = [self.last[h] for h in self.cut]
        ends += [e.time for e in self.events if e.name == "poweroff"]
        self.horizon = min(ends, default=INF) if whole else -1

    def known_until(self, hart):
        """Up to when this hart's record is whole (lock takings aside)."""
        return self.last[hart] if hart in self.cut else INF

    def after_horizon(self):
        """A note for a message: the events after the horizon were not judged."""
        later = sum(1 for e in self.events if e.time > self.horizon)
        return (f" (judged up to {self.horizon:x}, the last time every hart's record is whole; "
                f"{later} later events not judged)") if later else ""


def problem_with_dump(parsed, lines, case):
    """Why the dump is not whole: (message, console indexes to mark), or None."""
    if parsed["version"] is None:
        return "a 'trace: begin v1 ...' line", []
    if not parsed["complete"]:
        came = ", ".join(f"hart {h} {info['events']} events"
                         + (f" ({info['lost']} lost)" if info["lost"] else "")
                         + ("" if info["closed"] else " (cut)")
                         for h, info in parsed["per_hart"].items())
        return ("a whole dump, ending in 'trace: end events=N lost=M'; it was cut off"
                + (f" after {came}" if came else "")), []
    begin = next(i for i, l in enumerate(lines) if l.startswith(PREFIX + "begin"))
    if parsed["lab"] != case.lab:
        return f"lab={case.lab} in the begin line, got lab={parsed['lab']}", [begin]
    if not parsed["timebase"]:
        return "timebase=<the time CSR's Hz, not 0> in the begin line", [begin]
    harts = parsed["per_hart"]
    open_ = [h for h, info in harts.items() if not info["closed"]]
    if open_:
        return f"each hart's block closed by 'trace: hart N events n lost m'; hart {open_[0]}'s is not", []
    said = [w for w in parsed["warnings"] if " events said, " in w]
    if said:
        return f"each block's count of its events right; {said[0]}", []
    came = {"events": len(parsed["events"]), "lost": sum(i["lost"] for i in harts.values())}
    if parsed["end"] != came:
        return (f"an end line that adds up: it says {parsed['end']['events']} events, "
                f"{parsed['end']['lost']} lost; the blocks add up to {came['events']}, "
                f"{came['lost']}"), []
    skipped = sum(info.get("skipped", 0) for info in harts.values())
    if parsed.get("skipped", 0) != skipped:
        return (f"an end line that adds up: it says skipped={parsed['skipped']}; the blocks "
                f"add up to {skipped}"), []
    if parsed["harts"] != len(harts):
        return f"harts={parsed['harts']} blocks, as the begin line says; got {len(harts)}", [begin]
    online = online_harts(lines)
    if online is not None and online != set(harts):
        missing, extra = sorted(online - set(harts)), sorted(set(harts) - online)
        what = (f"no block for hart{'s' * (len(missing) > 1)} {', '.join(map(str, missing))}"
                if missing else f"a block for hart {extra[0]}, which the console never saw online")
        return f"a block for each online hart ({sorted(online)}); {what}", [begin]
    empty = [h for h, info in harts.items() if info["events"] == 0]
    if empty:
        return f"events in every hart's block; hart {empty[0]} has none", [begin]
    return None


def online_harts(lines):
    """The harts the console says are online: the boot hart and each
    'hyp: hart N online'. None without the banner."""
    harts = set()
    for line in lines:
        m = re.match(r"^hyp: RISC-V hypervisor lab \d+, booted on hart (\d+)$", line)
        if m:
            harts.add(int(m.group(1)))
        m = re.match(r"^hyp: hart (\d+) online: ", line)
        if m:
            harts.add(int(m.group(1)))
    return harts or None


def load(result):
    """(Trace, why) for the result's console, parsed once per result: why
    is None for a whole dump, else (why it is not whole, console indexes to
    mark); Trace is None if there is nothing to read (no dump, a line out
    of the format), else what came (whole or not)."""
    if "_trace" not in result.__dict__:
        try:
            parsed = trace_dump.parse(result.lines)
        except trace_dump.TraceError as e:
            result._trace = (None, (f"a dump in format v1; {e}", [e.line - 1]))
        else:
            if parsed is None or parsed["version"] is None:
                result._trace = (None, ("a trace dump ('trace: begin v1 ...' and its lines) "
                                        "after the power-off; there is none", []))
            else:
                why = problem_with_dump(parsed, result.lines, result.case)
                result._trace = (Trace(parsed, whole=why is None), why)
    return result._trace


def TraceCheck(name, fn, points=0, partial=False):
    """A check of the trace: fn(trace, case) returns (ok, message, the
    events that prove a failure). It sees the whole console (check.trace).
    If the dump is not whole (trace-dump says why), it fails; with partial,
    fn judges what came first (a per-hart order holds on each hart whose
    events came), so that the failure names a fault it found there."""
    def judge(r):
        trace, why = load(r)
        found = fn(trace, r.case) if trace is not None and (why is None or partial) else None
        if why is not None and (found is None or found[0]):
            message, bad = why
            if fn is not dump_whole:
                message = "a whole trace dump to judge (trace-dump): " + message
            return False, message, gradelib.show(r.lines, bad=bad, tail=not bad)
        ok, message, events = found
        if why is not None:
            message += f" (in the part of the dump that came; trace-dump: {why[0]})"
        bad = [e.line - 1 for e in events]
        return ok, message, ([] if ok else gradelib.show(r.lines, bad=bad, tail=not bad))
    check = gradelib.Check(name, points, judge)
    check.trace = True
    return check


def first(faults):
    """The earliest of [(event, message, [events to mark])] as a check's
    answer, with how many more there are."""
    if not faults:
        return True, "", []
    faults.sort(key=lambda f: (f[0].time, f[0].line))
    e, message, marked = faults[0]
    more = f"; and {len(faults) - 1} more like it" if len(faults) > 1 else ""
    return False, message + more, marked


# ---- the checks ----

def dump_whole(trace, case):
    """trace-dump: load() has found the dump whole (a begin line of v1, a
    closed block per online hart, an end line whose totals add up)."""
    return True, "", []


def parked_wakes(trace, case):
    """parked-wakes-for-ipi: on each hart a park is followed by its wake,
    with an IPI pending (a0 = 1): QEMU's wfi returns only with an interrupt,
    so a wake with a0 = 0, or none, means a park loop that polls instead of
    sleeping. And each ipi-recv on hart H follows an ipi-send to H that no
    earlier ipi-recv on H took (up to the horizon: the sender's record). A
    vcpu-start counts as a send to its hart (a1): lab 05's hart_start sends
    its IPI right after it, untraced."""
    faults = []
    for hart, evs in trace.by_hart.items():
        for i, e in enumerate(evs):
            after = evs[i + 1] if i + 1 < len(evs) else None
            before = evs[i - 1] if i else None
            if e.name == "park" and after is not None and after.name != "wake":
                faults.append((e, f"a wake after each park; {describe(e)} is followed by "
                                  f"{describe(after)}: the hart did not sleep in wfi", [e, after]))
            elif e.name == "wake" and (before is None or before.name != "park"):
                faults.append((e, f"a park before each wake; {describe(e)} follows "
                                  f"{describe(before) if before else 'nothing'}",
                               [x for x in (before, e) if x]))
            elif e.name == "wake" and e.args[0] != 1:
                faults.append((e, f"wake with a0 = 1 (an IPI pending: QEMU's wfi returns only "
                                  f"for an interrupt); {describe(e)}, after {describe(before)}: "
                                  "the park loop polls instead of sleeping in wfi", [before, e]))
    # Sends before receipts of the same tick: the send is recorded before the IPI goes.
    sends = {"ipi-send": 0, "vcpu-start": 1}  # the event, and which arg is the target hart
    unreceived = collections.defaultdict(list)
    for e in sorted(trace.events, key=lambda e: (e.time, e.name not in sends)):
        if e.time > trace.horizon:
            break
        if e.name in sends:
            unreceived[e.args[sends[e.name]]].append(e)
        elif e.name == "ipi-recv":
            if not unreceived[e.hart]:
                faults.append((e, f"each ipi-recv after an ipi-send to its hart not yet "
                                  f"received; {describe(e)} has none before it", [e]))
            else:
                unreceived[e.hart].pop(0)
    return first(faults)


def locks_exclusive(trace, case):
    """locks-exclusive: for each lock (its address), no two harts' [lock-
    acquired, lock-release] intervals overlap in time. A hart's last taking
    with no release holds the lock to the dump, or, if the hart's record may
    end early, at least to its last event. Skipped takings are skipped whole."""
    faults, held = [], collections.defaultdict(list)  # lock address -> [(from, to, acquired, release)]
    for hart, evs in trace.by_hart.items():
        holding = {}
        for e in evs:
            if e.name == "lock-acquired":
                if e.args[1] in holding:
                    faults.append((e, f"a lock-release between two lock-acquired of one lock on "
                                      f"one hart; {describe(holding[e.args[1]])}, then {describe(e)}",
                                   [holding[e.args[1]], e]))
                holding[e.args[1]] = e
            elif e.name == "lock-release":
                got = holding.pop(e.args[1], None)
                if got is None:
                    faults.append((e, f"a lock-acquired before each lock-release on its hart; "
                                      f"{describe(e)} has none", [e]))
                else:
                    held[e.args[1]].append((got.time, e.time, got, e))
        for lock, got in holding.items():
            held[lock].append((got.time, trace.known_until(hart), got, None))
    for lock, spans in held.items():
        spans.sort(key=lambda s: (s[0], s[2].line))
        holder = None
        for span in spans:
            start, end, got, release = span
            if holder is not None and start < holder[1] and got.hart != holder[2].hart:
                until = (f"released at {holder[3].time:x}" if holder[3] is not None
                         else "not released before the dump")
                faults.append((got, f"one hart at a time in each lock; {describe(got)} while hart "
                                    f"{holder[2].hart} held it (acquired at {holder[2].time:x}, "
                                    f"{until})",
                               [x for x in (holder[2], holder[3], got) if x is not None]))
            if holder is None or end > holder[1]:
                holder = span
    return first(faults)


def barrier_waits(trace, case):
    """barrier-waits: for each barrier (its address), the arrivals in time
    order form rounds of a1 harts; no hart leaves a round before its last
    barrier-arrive. A hart's barrier-leave belongs to its barrier-arrive
    just before it. Up to the horizon: later arrivals may be unrecorded."""
    faults = []
    arrivals = collections.defaultdict(list)  # barrier -> [(arrive, its leave or None, k)]
    for hart, evs in trace.by_hart.items():
        waiting, count = {}, collections.Counter()
        for e in evs:
            if e.name == "barrier-arrive":
                if e.args[0] in waiting:
                    faults.append((e, f"a barrier-leave after each barrier-arrive; "
                                      f"{describe(waiting[e.args[0]])}, then {describe(e)}",
                                   [waiting[e.args[0]], e]))
                waiting[e.args[0]] = e
            elif e.name == "barrier-leave":
                arrive = waiting.pop(e.args[0], None)
                if arrive is None:
                    faults.append((e, f"a barrier-arrive before each barrier-leave; "
                                      f"{describe(e)} has none", [e]))
                else:
                    arrivals[e.args[0]].append((arrive, e, count[e.args[0]]))
                    count[e.args[0]] += 1
        for barrier, arrive in waiting.items():
            arrivals[barrier].append((arrive, None, count[barrier]))
    cut = False
    for barrier, got in arrivals.items():
        # A tie in time: a hart's earlier arrival first (its k-th is in round k).
        got = sorted((a for a in got if a[0].time <= trace.horizon),
                     key=lambda a: (a[0].time, a[2], a[0].hart))
        cut = cut or len(got) < len(arrivals[barrier])
        k = 0
        while k < len(got):
            n = got[k][0].args[1]
            if not isinstance(n, int) or n < 1:
                faults.append((got[k][0], f"a1 = the harts a barrier waits for; "
                                          f"{describe(got[k][0])}", [got[k][0]]))
                break
            one = got[k:k + n]
            whole = len(one) == n
            last = max(one, key=lambda a: a[0].time)[0]
            for arrive, leave, _ in one:
                if arrive.args[1] != n:
                    faults.append((arrive, f"the same a1 for each hart of a round; "
                                           f"{describe(arrive)} in a round of {n}", [arrive]))
                elif leave is not None and whole and leave.time < last.time:
                    faults.append((leave, f"no barrier-leave before the round's last "
                                          f"barrier-arrive; {describe(leave)} left before "
                                          f"{describe(last)} (round {k // n} of barrier "
                                          f"{barrier:x}, {n} harts)", [arrive, leave, last]))
                elif leave is not None and not whole and leave.time <= trace.horizon:
                    faults.append((leave, f"no barrier-leave before the round's last "
                                          f"barrier-arrive; {describe(leave)} left round "
                                          f"{k // n} of barrier {barrier:x} when {len(one)} of "
                                          f"its {n} harts had arrived", [arrive, leave]))
            k += n
    ok, message, marked = first(faults)
    return ok, message + (trace.after_horizon() if cut and not ok else ""), marked


def rendezvous_order(trace, case):
    """trace-rendezvous: the boot hart's release comes after every vcpu-add
    (one per vCPU: release's a0 of them) and before any guest-enter."""
    released = [e for e in trace.events if e.name == "release"]
    enters = [e for e in trace.events if e.name == "guest-enter"]
    adds = [e for e in trace.events if e.name == "vcpu-add"]
    if not released:
        if enters:
            return False, f"the boot hart's release before any guest-enter; {describe(enters[0])} " \
                          "and no release", [enters[0]]
        if trace.boot in trace.cut:
            return True, "", []  # its record may end before it: not judged
        return False, "a release event on the boot hart (the rendezvous is over)", []
    release = released[0]
    if len(released) > 1:
        return False, f"one release; {describe(released[1])} after {describe(release)}", released[:2]
    if trace.boot is not None and release.hart != trace.boot:
        return False, f"the release on the boot hart ({trace.boot}); {describe(release)}", [release]
    early = [e for e in enters if e.time < release.time]
    if early:
        return False, f"no guest-enter before the release; {describe(early[0])}, before " \
                      f"{describe(release)}", [early[0], release]
    late = [e for e in adds if e.time > release.time]
    if late:
        return False, f"every vcpu-add before the release; {describe(late[0])}, after " \
                      f"{describe(release)}", [release, late[0]]
    ids = collections.Counter(e.args[0] for e in adds)
    twice = [e for e in adds if ids[e.args[0]] > 1]
    if twice:
        return False, f"one vcpu-add per vCPU; two of vCPU {twice[0].args[0]}: " \
                      f"{describe(twice[0])} and {describe(twice[1])}", twice[:2]
    n = release.args[0]
    if sorted(ids) != list(range(n)) and release.time <= trace.horizon:
        return False, f"a vcpu-add of each vCPU 0..{n - 1} before the release ({describe(release)}" \
                      f"); got vCPUs {sorted(ids)}", [release]
    return True, "", []


def hart_start_order(trace, case):
    """hart-start-order: each guest-enter of a vCPU (but vCPU 0's first, the
    boot) follows a vcpu-start of that vCPU, on any hart, that no earlier
    guest-enter used; and each vcpu-start gets one guest-enter before the
    next vcpu-start of that vCPU or the dump (unless the target hart's
    record may end before)."""
    faults = []

    def known(hart):
        """Up to when the target hart's guest-enter would be recorded."""
        return trace.known_until(hart) if hart in trace.by_hart else -1
    by_vcpu = collections.defaultdict(list)
    for e in trace.events:
        if e.name in ("vcpu-start", "guest-enter"):
            by_vcpu[e.args[0]].append(e)
    for vcpu, evs in by_vcpu.items():
        pending, booted = None, vcpu != 0
        # A start before an enter of the same tick: the start is recorded first.
        for e in sorted(evs, key=lambda e: (e.time, e.name != "vcpu-start")):
            if e.name == "vcpu-start":
                # Unless the target hart's record may end before this start.
                if pending is not None and known(pending.args[1]) >= e.time:
                    faults.append((pending, f"a guest-enter for each vcpu-start; "
                                            f"{describe(pending)} got none before "
                                            f"{describe(e)}", [pending, e]))
                pending = e
            elif pending is not None:
                pending = None
            elif not booted:
                booted = True  # vCPU 0's boot: no hart_start
            elif e.time <= trace.horizon:  # later, its start may be unrecorded
                faults.append((e, f"each guest-enter after a vcpu-start of its vCPU not used "
                                  f"yet; {describe(e)} has none", [e]))
        if pending is not None and known(pending.args[1]) == INF:
            faults.append((pending, f"a guest-enter for each vcpu-start; {describe(pending)} "
                                    "got none before the dump", [pending]))
    return first(faults)


# ---- the checks of each lab ----

def trace_checks(lab):
    """The trace checks of a lab's trace case (labs 3-5)."""
    checks = [TraceCheck("trace-dump", dump_whole),
              TraceCheck("parked-wakes-for-ipi", parked_wakes, partial=True)]
    if lab >= 4:
        checks += [TraceCheck("locks-exclusive", locks_exclusive, partial=True),
                   TraceCheck("barrier-waits", barrier_waits),
                   TraceCheck("trace-rendezvous", rendezvous_order)]
    if lab >= 5:
        checks.append(TraceCheck("hart-start-order", hart_start_order))
    return checks
