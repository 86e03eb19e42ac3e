#!/usr/bin/env python3
"""Checks that the timelines the READMEs of labs 03-05 show are up to date.

    python3 grader/figures.py [--selftest]

`make trace-figures` boots labs 03, 04 and 05 with TRACE=1 at SMP=4 and
commits each lab's timeline as labs/0N-*/timeline.svg (drawn by
grader/trace.py). A figure is a picture of code that goes on changing; this
says when it no longer matches. For each of those labs:

- link: the README shows the figure (a link to `timeline.svg`);
- xml: the figure is well-formed XML, an <svg> document;
- lab: it was drawn from this lab (its title says "lab N trace:");
- events: every event it names is in the lab's trace.c (the names table,
  `[TRACE_...] = "name"`): the marks above the lanes, their tooltips and
  the exit ticks; and so is the event behind each kind of bar and arrow
  it draws (a parked span comes from a park, a spin from a lock-wait, a
  held lock from a lock-acquired, an IPI arrow from an ipi-send, ...).
  The legend is the tool's, the same for every lab, so the events it
  names as examples need only be in some lab's table;
- locks: every lock it names (held, spun on, in the legend) is still made
  by the lab's code (SPINLOCK_INIT or TICKETLOCK_INIT, spaces as '-', as
  trace.c prints them);
- causes: every exit cause of its ticks is in the lab's exit table
  (`[EXIT_...] = "name"`, spaces as '-', parentheses dropped).

A figure that names nothing at all fails too: trace.py would then have
changed how it writes names, and this check would see none. So renaming an
event or a lock fails here until `make trace-figures` draws the figures
again. --selftest draws doctored figures with grader/trace.py and checks
that each is caught. Closes with 'figures: N passed, N failed'. Python 3
standard library only.
"""
import glob
import os
import re
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABS = (3, 4, 5)  # the labs with a trace (make labN TRACE=1)
FIGURE = "timeline.svg"
SVG = "{http://www.w3.org/2000/svg}"

LINK = re.compile(r"\]\((?:\./)?" + re.escape(FIGURE) + r"\)")
HEADING = re.compile(r"^lab (\d+) trace:")
EVENT_NAME = re.compile(r'\[TRACE_[A-Z0-9_]+\]\s*=\s*"([^"]+)"')
LOCK_NAME = re.compile(r'\b(?:SPINLOCK_INIT|TICKETLOCK_INIT)\("([^"]*)"\)')
CAUSE_NAME = re.compile(r'\[EXIT_[A-Z0-9_]+\]\s*=\s*"([^"]+)"')
WORD = r"([A-Za-z0-9_-]+)"
# What trace.py writes (grader/trace.py: marks(), exit_ticks(), hold_bars(),
# label(), legend_svg()).
HOLDS = re.compile(r"\bholds " + WORD)
SPINNING = re.compile(r"\bspinning on " + WORD)
EXITS = re.compile(r"\bexits? \(([^)]*)\) at ")
MORE = re.compile(r"^and \d+ more$")
OTHER_EVENTS = re.compile(r"^other event \(([^)]*)\)$")
HYPHENATED = re.compile(r"\b[a-z]+(?:-[a-z]+)+\b")
# The event that opens each state a lane draws (trace.py's OPENS) and that
# starts each kind of arrow: a figure that draws one was made from it.
STATE_EVENTS = {"parked": "park", "spinning": "lock-wait", "guest": "guest-enter",
                "suspended": "suspend", "hold": "lock-acquired"}
ARROW_EVENTS = {"ipi": "ipi-send", "hart_start": "vcpu-start"}


def word(name):
    """A name as trace.c prints it: spaces become '-', parentheses go."""
    return name.replace(" ", "-").replace("(", "").replace(")", "")


def lab_dir(root, n):
    found = sorted(glob.glob(os.path.join(root, "labs", f"0{n}-*")))
    return found[0] if found else None


def sources(directory):
    """The text of the lab's .c and .h files."""
    text = []
    for name in sorted(os.listdir(directory)):
        if name.endswith((".c", ".h")):
            with open(os.path.join(directory, name), errors="replace") as f:
                text.append(f.read())
    return "\n".join(text)


def code_names(directory):
    """What the lab's code can put in a trace: {"events", "locks", "causes"}."""
    with open(os.path.join(directory, "trace.c"), errors="replace") as f:
        events = set(EVENT_NAME.findall(f.read()))
    code = sources(directory)
    return {"events": events,
            "locks": {word(n) for n in LOCK_NAME.findall(code)},
            "causes": {word(n) for n in CAUSE_NAME.findall(code)}}


def texts(element):
    """The text of element and of everything inside it."""
    return "".join(element.itertext())


def figure_names(svg):
    """What a figure names (an ElementTree root drawn by grader/trace.py):
    {"lab": the title's lab number or None, "events", "legend_events",
    "locks", "causes"}."""
    found = {"lab": None, "events": set(), "legend_events": set(), "locks": set(),
             "causes": set()}
    for t in svg.iter(SVG + "text"):
        m = HEADING.match(texts(t))
        if m:
            found["lab"] = int(m.group(1))
            break
    for lane in svg.iter(SVG + "g"):
        cls = lane.get("class")
        if cls == "lane":
            lane_names(lane, found)
        elif cls == "arrows":
            for arrow in lane.iter(SVG + "path"):
                kind = (arrow.get("class") or "").split()[1:]
                found["events"].update(ARROW_EVENTS[k] for k in kind if k in ARROW_EVENTS)
        elif cls == "legend":
            for t in lane.iter(SVG + "text"):
                if t.get("class") == "legend-item":
                    legend_names(texts(t), found)
    return found


def lane_names(lane, found):
    """A lane's marks, exit ticks, held locks and spins."""
    for element in lane.iter():
        cls = (element.get("class") or "").split()
        tip = element.find(SVG + "title")
        tip = texts(tip) if tip is not None else ""
        found["events"].update(STATE_EVENTS[c] for c in cls if c in STATE_EVENTS)
        if "mark-label" in cls:
            # "vcpu-add" or "barrier-arrive +2" (more marks in that pixel)
            found["events"].add(texts(element).split(" +")[0])
        elif "mark" in cls:
            # "hart 1 at 2.5 ms: online (index 1); vcpu-add (vCPU 1); and 3 more"
            for said in tip.split(": ", 1)[-1].split("; "):
                if not MORE.match(said):
                    found["events"].add(said.split(" ")[0])
        elif "exit" in cls:
            # "hart 0: 3 exits (sbi-legacy x2, sbi-base) at 1.2 ms"
            found["events"].add("exit")
            for m in EXITS.finditer(tip):
                found["causes"].update(c.strip().split(" x")[0] for c in m.group(1).split(","))
        for what in (tip, element.text or ""):
            found["locks"].update(HOLDS.findall(what))
            found["locks"].update(SPINNING.findall(what))


def legend_names(item, found):
    """A legend entry: "holds vm" names a lock; "other event (vm-create,
    release, ...)" and "IPI (ipi-send to its receive)" name events."""
    m = HOLDS.match(item)
    if m:
        found["locks"].add(m.group(1))
        return
    m = OTHER_EVENTS.match(item)
    if m:
        found["legend_events"].update(e.strip() for e in m.group(1).split(",")
                                      if e.strip() not in ("", "..."))
    found["legend_events"].update(HYPHENATED.findall(item))


def check_lab(directory, n, course_events):
    """The checks of one lab: [(check, problem or None)]. course_events:
    every event of every lab's table (the legend's examples need only be
    one of these)."""
    results = []
    rel = os.path.relpath(directory, ROOT) if directory.startswith(ROOT) else directory
    readme = os.path.join(directory, "README.md")
    try:
        with open(readme) as f:
            linked = bool(LINK.search(f.read()))
        results.append(("link", None if linked else
                        f"{rel}/README.md does not show {FIGURE} (no ![...]({FIGURE}))"))
    except OSError as e:
        results.append(("link", f"{rel}/README.md: {e.strerror}"))
    path = os.path.join(directory, FIGURE)
    try:
        svg = ET.parse(path).getroot()
        if svg.tag != SVG + "svg":
            raise ET.ParseError(f"the root element is <{svg.tag}>, not an SVG <svg>")
    except (OSError, ET.ParseError) as e:
        why = e.strerror if isinstance(e, OSError) else str(e)
        results.append(("xml", f"{rel}/{FIGURE}: {why}: run make trace-figures"))
        return results
    results.append(("xml", None))
    shown = figure_names(svg)
    results.append(("lab", None if shown["lab"] == n else
                    f"{rel}/{FIGURE}: drawn from " +
                    (f"lab {shown['lab']}" if shown["lab"] is not None else "no lab (no title)") +
                    f", not lab {n}: run make trace-figures"))
    code = code_names(directory)
    for check, names, known, where in (
            ("events", shown["events"], code["events"], f"{rel}/trace.c's names table"),
            ("events", shown["legend_events"], course_events, "any lab's trace.c"),
            ("locks", shown["locks"], code["locks"], f"{rel}'s SPINLOCK_INIT/TICKETLOCK_INIT"),
            ("causes", shown["causes"], code["causes"], f"{rel}'s exit table")):
        gone = sorted(names - known)
        problem = (f"{rel}/{FIGURE} names {', '.join(repr(g) for g in gone)}, not in {where}: "
                   "renamed? run make trace-figures" if gone else None)
        results.append((check, problem))
    if not shown["events"]:
        results.append(("events", f"{rel}/{FIGURE}: found no event names in it (has "
                        "grader/trace.py changed how it writes them?)"))
    return results


def course_events(root):
    events = set()
    for n in LABS:
        d = lab_dir(root, n)
        if d and os.path.exists(os.path.join(d, "trace.c")):
            events |= code_names(d)["events"]
    return events


def check(root):
    """Every lab's checks: (passed, failed), the failures printed."""
    passed = failed = 0
    everything = course_events(root)
    for n in LABS:
        d = lab_dir(root, n)
        results = check_lab(d, n, everything) if d else [("lab", f"no labs/0{n}-* directory")]
        for name, problem in results:
            if problem:
                print(f"figures: FAIL lab {n} {name}: {problem}")
                failed += 1
            else:
                passed += 1
    return passed, failed


# ---- the self-test ----

# A small lab 04 dump: what make lab4 TRACE=1 prints, cut down.
SELFTEST_LOG = """\
trace: begin v1 lab={lab} harts=2 timebase=10000000
trace: 0 1000 boot 0 0
trace: 0 1100 lock-wait {lock} 80206c28
trace: 0 1110 lock-acquired {lock} 80206c28
trace: 0 1200 lock-release {lock} 80206c28
trace: 0 1300 vm-create 2 0
trace: 0 1400 {event} 1 0
trace: 0 1500 guest-enter 0 0
trace: 0 1600 exit {cause} 0
trace: 0 1700 resume 0 0
trace: 0 9000 poweroff 0 0
trace: hart 0 events 10 lost 0 skipped 0
trace: 1 1050 online 1 0
trace: 1 1060 park 0 0
trace: hart 1 events 2 lost 0 skipped 0
trace: end events=12 lost=0 skipped=0
"""
SELFTEST_TRACE_C = """\
static const char *const trace_names[TRACE_EVENTS] = {
    [TRACE_BOOT] = "boot",
    [TRACE_ONLINE] = "online",
    [TRACE_PARK] = "park",
    [TRACE_WAKE] = "wake",
    [TRACE_IPI_SEND] = "ipi-send",
    [TRACE_IPI_RECV] = "ipi-recv",
    [TRACE_LOCK_WAIT] = "lock-wait",
    [TRACE_LOCK_ACQUIRED] = "lock-acquired",
    [TRACE_LOCK_RELEASE] = "lock-release",
    [TRACE_VM_CREATE] = "vm-create",
    [TRACE_VCPU_ADD] = "vcpu-add",
    [TRACE_RELEASE] = "release",
    [TRACE_VCPU_START] = "vcpu-start",
    [TRACE_GUEST_ENTER] = "guest-enter",
    [TRACE_EXIT] = "exit",
    [TRACE_RESUME] = "resume",
    [TRACE_POWEROFF] = "poweroff",
};
"""
SELFTEST_CODE = """\
static struct spinlock console_lock = SPINLOCK_INIT("console");
static struct ticketlock ticket = TICKETLOCK_INIT("torture ticket lock");
static const char *const names[EXIT_CAUSES] = {
    [EXIT_SBI_LEGACY] = "sbi legacy",
    [EXIT_KICK] = "IPI (kick)",
};
"""


def selftest():
    """Each doctored figure or tree must fail its check, and only that one;
    the good one must pass. The figures are drawn by grader/trace.py."""
    sys.path.insert(0, os.path.join(ROOT, "grader"))
    import trace as tracer
    good = {"lab": 4, "lock": "torture-ticket-lock", "event": "vcpu-add", "cause": "IPI-kick"}
    cases = [
        ("a good figure passes", {}, None, set()),
        ("an event not in trace.c", {"event": "vcpu-joined"}, None, {"events"}),
        ("drawn from another lab", {"lab": 3}, None, {"lab"}),
        ("a lock the code no longer makes", {"lock": "torture-tas"}, None, {"locks"}),
        ("an exit cause not in the exit table", {"cause": "sbi-hsm"}, None, {"causes"}),
        ("the event renamed in trace.c", {}, ("trace.c", '"vcpu-add"', '"vcpu-join"'), {"events"}),
        ("a drawn state's event renamed", {}, ("trace.c", '"park"', '"sleep"'), {"events"}),
        ("the lock renamed in the code", {}, ("code.c", '"torture ticket lock"', '"ticket"'),
         {"locks"}),
        ("the legend's example gone from every lab", {},
         ("trace.c", '"release"', '"vm-release"'), {"events"}),
        ("the README does not show it", {}, ("README.md", "(timeline.svg)", "(timeline.png)"),
         {"link"}),
        ("not well-formed XML", {}, (FIGURE, "</svg>", ""), {"xml"}),
    ]
    ok = 0
    for what, change, edit, expect in cases:
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "labs", "04-sync")
            os.makedirs(d)
            log = SELFTEST_LOG.format(**dict(good, **change))
            files = {"trace.c": SELFTEST_TRACE_C, "code.c": SELFTEST_CODE,
                     "README.md": "# Lab 04\n\n![The timeline](timeline.svg)\n",
                     FIGURE: tracer.to_svg(tracer.parse(log))}
            if edit:
                name, old, new = edit
                assert old in files[name], (what, old)
                files[name] = files[name].replace(old, new)
            for name, text in files.items():
                with open(os.path.join(d, name), "w") as f:
                    f.write(text)
            results = check_lab(d, 4, code_names(d)["events"])
            failed = {name for name, problem in results if problem}
            if failed == expect:
                ok += 1
            else:
                print(f"figures selftest: FAIL {what}: failed {sorted(failed) or 'nothing'}, "
                      f"expected {sorted(expect) or 'nothing'}")
                for name, problem in results:
                    if problem:
                        print(f"  {name}: {problem}")
    # And the real tree: lab 04's committed figure with a copy of its code
    # in which an event and a lock are renamed.
    real = lab_dir(ROOT, 4)
    for what, (name, old, new), expect in (
            ("lab 04's figure, vm-create renamed in trace.c",
             ("trace.c", '"vm-create"', '"vm-made"'), "events"),
            ("lab 04's figure, the vm lock renamed in vm.c",
             ("vm.c", 'TICKETLOCK_INIT("vm")', 'TICKETLOCK_INIT("the vm")'), "locks")):
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "labs", os.path.basename(real))
            shutil.copytree(real, d)
            with open(os.path.join(d, name)) as f:
                text = f.read()
            with open(os.path.join(d, name), "w") as f:
                f.write(text.replace(old, new))
            failed = {c for c, problem in check_lab(d, 4, course_events(ROOT)) if problem}
            if failed == {expect} and old in text:
                ok += 1
            else:
                print(f"figures selftest: FAIL {what}: failed {sorted(failed) or 'nothing'}, "
                      f"expected ['{expect}']")
    total = len(cases) + 2
    print(f"figures selftest: {ok} passed, {total - ok} failed")
    return 0 if ok == total else 1


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    if sys.argv[1:]:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    passed, failed = check(ROOT)
    print(f"figures: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
