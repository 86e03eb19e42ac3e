#!/usr/bin/env python3
"""Self-tests of the grader's engine, on canned consoles (no QEMU).

Each test_* function raises AssertionError when the engine misjudges.
Closes with 'selftest: N passed, N failed'.
"""
import contextlib
import glob
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import checks
import grade as grade_cli
import handout
import mutants
import report
import stall
import trace_checks
from gradelib import (Absent, Case, Count, Custom, ExitStatus, Ordered, judge, run_selftests,
                      split_lines)
from runner import checkout_files, execute, grade, run_command

# A console of the test guest on OpenSBI with -smp 4, cut short.
GOOD = b"""\r
OpenSBI v1.1\r
Platform HART Count       : 4\r
guest: hello from hart 1, device tree at 0x82200000\r
guest: extensions: base time ipi rfence hsm srst legacy-putchar\r
guest: device tree: 4 cpus, memory 0x80000000-0x90000000\r
guest: check unknown-extension: ok\r
guest: check timer-sip: ok\r
guest: hart 0 is up\r
guest: hart 2 is up\r
guest: hart 3 is up\r
guest: check harts-up: ok\r
guest: 4 of 4 harts up\r
guest: all checks passed\r
"""


def native(smp=4):
    return next(c for c in checks.native_cases() if c.smp == smp)


def outcome(result, name):
    """(ok, text of its report) of the check called name."""
    for o in result.outcomes:
        if o.name == name:
            return o.ok, "\n".join([o.expected] + o.context)
    raise AssertionError(f"no check {name!r} in {result.failed_names()}")


def test_judging_needs_no_process():
    """A fresh Python judges a canned console and writes every report
    without loading runner.py, stall.py or subprocess: judging is apart
    from running."""
    code = textwrap.dedent(f"""\
        import sys
        sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
        import checks, gradelib, report
        case = next(c for c in checks.native_cases() if c.smp == 4)
        r = gradelib.judge(case, gradelib.split_lines({GOOD!r}), status=0)
        assert r.tally() == (6, 0, 6, 6), r.report()
        r.report(verbose=True), report.table([r]), report.to_json([r], "/tree", 1.0)
        report.to_junit([r], 1.0), report.to_gradescope([r], 1.0)
        loaded = sorted({{"runner", "stall", "subprocess"}} & set(sys.modules))
        assert not loaded, f"loaded {{loaded}}"
        """)
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr


def test_good_transcript_passes():
    r = judge(native(4), split_lines(GOOD), status=0)
    assert r.tally() == (6, 0, 6, 6), r.report()
    # The same console is wrong for -smp 1.
    assert judge(native(1), split_lines(GOOD)).failed_names() == ["cpu count"]


def test_timer_sip_names_the_platform_bug():
    hidden = [l.replace("timer-sip: ok", "timer-sip: hidden: sip.STIP stayed 0 while the timer "
                        "interrupt came (QEMU 7.2's vsip bug)") for l in split_lines(GOOD)]
    lab5 = checks.timer_sip(5)
    case = Case("sip", 5, 4, [lab5])
    saved = os.environ.get("PLATFORM")
    try:
        for platform, ok in (("qemu7", True), ("qemu10", False)):
            os.environ["PLATFORM"] = platform
            assert (judge(case, hidden).failed_names() == []) == ok, platform
            assert judge(case, split_lines(GOOD)).failed_names() == [], platform
            assert judge(case, ["guest: all checks passed"]).failed_names() == ["timer-sip"]
        # Natively no platform hides it.
        os.environ["PLATFORM"] = "qemu7"
        assert judge(native(4), hidden).failed_names() == ["timer-sip"]
    finally:
        os.environ.pop("PLATFORM", None)
        if saved is not None:
            os.environ["PLATFORM"] = saved


def test_truncated_transcript_is_missing():
    lines = split_lines(GOOD)[:-3]
    r = judge(native(4), lines)
    ok, text = outcome(r, "all checks passed")
    assert not ok and "MISSING '^guest: all checks passed$'" in text, text
    assert "GOOD guest: device tree: 4 cpus" in text, text
    assert "guest: hart 3 is up" in text, "the last lines before the gap are shown"
    assert r.failed_names() == ["all checks passed"], r.report()


def test_ordered_needs_the_order():
    case = Case("order", 1, 1, [Ordered("order", ["^b$", "^a$"])])
    assert judge(case, ["a", "b"]).failed_names() == ["order"]
    assert judge(case, ["b", "x", "a"]).failed_names() == []


def test_interleaved_lines_fail():
    # Two harts printing a character at a time without the print lock.
    a, b = "guest: hart 3 is up", "guest: all checks passed"
    mixed = "".join(x + y for x, y in zip(a.ljust(len(b)), b))
    lines = split_lines(GOOD)[:-5] + [mixed]
    r = judge(native(4), lines)
    ok, text = outcome(r, "all checks passed")
    assert not ok and "MISSING" in text, r.report()


def test_garbage_bytes_are_judged_by_line():
    garbage = (b"\xff\xfe\x00\x00\x1b[31mnoise\x1b[0m \xc3\x28 \x80\r\n"
               b"\x1b[2J\x1b[H\x00\x00\x00\xf0\x9f\x98\r\n")
    data = GOOD.replace(b"guest: check unknown", garbage + b"guest: check unknown")
    r = judge(native(4), split_lines(data), status=0)
    assert r.failed_names() == [], r.report()
    # A garbage line that fails a check is shown without its control bytes.
    r = judge(native(4), split_lines(data + b"\x1b[31mFAIL\x00\xff\r\n"), status=0)
    ok, text = outcome(r, "no FAIL lines")
    assert not ok and "BAD  ?[31mFAIL?\ufffd" in text, text
    assert "\x1b" not in r.report() and "\x00" not in r.report()


def test_absent_pattern_is_bad():
    lines = split_lines(GOOD) + ["guest: check memory-pattern: FAIL (got 3)"]
    r = judge(native(4), lines, status=0)
    ok, text = outcome(r, "no FAIL lines")
    assert not ok and "BAD  guest: check memory-pattern: FAIL (got 3)" in text, text
    assert r.failed_names() == ["no FAIL lines"]


def test_count():
    lines = ["guest: hart 0 is up", "x", "guest: hart 2 is up"]
    def fails(check):
        return judge(Case("count", 1, 1, [check]), lines).failed_names() == ["c"]
    assert not fails(Count("c", "is up$", 2)) and fails(Count("c", "is up$", 3))
    assert fails(Count("c", "is up$", 1)) and not fails(Count("c", "is up$", at_least=1))
    assert fails(Count("c", "is up$", at_least=3))


def test_broken_custom_check_fails_alone():
    case = Case("custom", 1, 1, [Custom("broken", lambda lines, case: 1 / 0), Absent("a", "x")])
    assert judge(case, ["y"]).failed_names() == ["broken"]


def live_members(pgid):
    """Processes of a group that are still running (not zombies)."""
    n = 0
    for path in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(path) as f:
                state, _, pgrp = f.read().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        n += state != "Z" and int(pgrp) == pgid
    return n


def timed_out_run(script, timeout, within):
    """Runs a shell script that hangs; it must be stopped, group and all."""
    with tempfile.TemporaryDirectory() as tree:
        case = Case("hang", 1, 1, [Ordered("started", ["^guest: started$"]),
                                   ExitStatus("exit", 0)], timeout=timeout)
        t0 = time.monotonic()
        r = execute(case, "echo $$ > pid; " + script, tree)
        elapsed = time.monotonic() - t0
        pgid = int(open(os.path.join(tree, "pid")).read())
        assert elapsed < within, f"took {elapsed:.1f} s"
        # SIGKILL is sent before execute() returns, but a busy machine may
        # take a moment to finish the killed processes off.
        gone = time.monotonic() + 2
        while live_members(pgid) and time.monotonic() < gone:
            time.sleep(0.05)
        assert live_members(pgid) == 0, f"process group {pgid} outlived the run"
        ok, text = outcome(r, "timeout")
        assert not ok and f"timed out after {timeout} s" in text, r.report()
        assert "guest: started" in text, "the output before the timeout is shown"
        assert r.failed_names() == ["timeout", "exit"], r.report()


def test_timeout_kills_the_process_group():
    # Two sleeps: the background one is not the shell's direct child.
    timed_out_run("echo guest: started; sleep 100 & sleep 100", 1, within=4)


def test_silence_ends_a_watched_run():
    """A watch that sees the output stop ends the run early, not as a timeout."""
    seen = []

    def watch(idle, chunks):
        seen.append(b"".join(chunks))
        return idle >= 1
    start = time.monotonic()
    out, status, timed_out = run_command("echo guest: started; sleep 100", 30, watch=watch)
    assert time.monotonic() - start < 5 and not timed_out, (time.monotonic() - start, timed_out)
    assert out == b"guest: started\n" and seen[-1] == out, (out, seen[-1:])


def test_lines_are_told_as_they_come():
    """on_line sees each line once it is complete, cut as split_lines cuts
    the whole output, and what it raises comes out of run_command."""
    told = []
    out, _, _ = run_command("printf 'one\\r\\n\\ntw'; sleep 1; printf 'o\\nthree'", 30,
                            on_line=lambda line, seconds: told.append((line, seconds)))
    assert [line for line, _ in told] == split_lines(out) == ["one", "", "two", "three"], told
    assert told[2][1] - told[0][1] >= 0.9, f"'one' came with 'two': {told}"
    calls = []

    def fail(line, seconds):
        calls.append(line)
        raise ValueError(line)
    try:
        run_command("echo a; echo b", 30, on_line=fail)
        raise AssertionError("on_line's error was lost")
    except ValueError as e:
        assert str(e) == "a" and calls == ["a"], (e, calls)


REGISTERS = """
CPU#0
 V      =   {v0}
 pc       {pc0:016x}
 mhartid  0000000000000000
 mip      {mip:016x}
 mie      00000000000000ee
 hideleg  0000000000000444
 x0/zero  0000000000000000 x1/ra    ffffffff8003fa64 x2/sp    ff6000000064bdc0
CPU#1
 V      =   1
 pc       ffffffff8000287a
 mhartid  0000000000000001
 mip      0000000000000020
 mie      00000000000000ee
 hideleg  0000000000000444
"""
GUEST_MAP = [(0xffffffff80002860, "arch_cpu_idle"), (0xffffffff80035f00, "smp_call_function_many_cond")]
HYP_SYMBOLS = [(0x80200130, "trap_vector"), (0x80204092, "vcpu_run")]
HARTS = ["hyp: hart 0: vCPU 0 created, powered off", "hyp: hart 1: vCPU 1 created, powered off"]


def test_stall_diagnosis():
    def diagnose(**kw):
        regs = dict(v0=1, pc0=0xffffffff8000287a, mip=0)
        regs.update(kw)
        shots = [stall.parse_registers(REGISTERS.format(**regs))] * 2
        return stall.diagnose(shots, HARTS, HYP_SYMBOLS, GUEST_MAP)
    cpus = stall.parse_registers(REGISTERS.format(v0=1, pc0=0x10, mip=0x40))
    assert cpus[0]["V"] == 1 and cpus[0]["pc"] == 0x10 and cpus[0]["mip"] == 0x40, cpus
    assert cpus[0]["x1"] == 0xffffffff8003fa64 and cpus[1]["mhartid"] == 1, cpus
    idle = diagnose()
    assert idle[0].startswith("hart 0 (vCPU 0): guest arch_cpu_idle+0x1a;"), idle
    assert "enabled: software, timer, pending: none" in idle[0], idle
    assert idle[-1].startswith("missing: every vCPU sleeps in wfi"), idle
    lost = diagnose(pc0=0xffffffff80035f98)
    assert "guest smp_call_function_many_cond+0x98" in lost[0], lost
    assert lost[-1].startswith("missing: vCPU 0 wait for other vCPUs to answer an IPI, and "
                               "vCPU 1 sleep"), lost
    # A pending guest timer is not a lost one; the hypervisor's pc is named.
    busy = diagnose(v0=0, pc0=0x80204094, mip=0x40)
    assert "hypervisor vcpu_run+0x2" in busy[0] and "pending: timer" in busy[0], busy
    assert not any(line.startswith("missing:") for line in busy), busy
    assert stall.diagnose([], HARTS, [], [])[0].startswith("QEMU did not answer"), "no shots"


def test_stall_is_the_cause():
    case = next(c for c in checks.cases() if c.name == "lab5-linux-smp4")
    lines = ["Linux version 6.1", "smp: Bringing up secondary CPUs ..."]
    r = judge(case, lines, status=-15, stalled=["hart 0 (vCPU 0): guest arch_cpu_idle"])
    causes = r.causes()
    assert [c for c, _ in causes] == ["progress"], causes
    assert set(causes[0][1]) == {"linux-boots", "linux-init", "exits", "timer-exits",
                                 "exit status 0"}, causes
    assert "hart 0 (vCPU 0): guest arch_cpu_idle" in r.report(), r.report()
    # A panic before the silence says more: it is the cause, the silence its effect.
    r = judge(case, lines + ["Kernel panic - not syncing"], status=-15, stalled=["x"])
    assert r.causes()[0][0] == "no-kernel-panic" and "progress" in r.causes()[0][1], r.causes()


def test_timeout_sigkill_after_sigterm_ignored():
    timed_out_run("trap '' TERM; echo guest: started; sleep 100", 1, within=6)


def test_nonzero_exit_fails_exit_status():
    with tempfile.TemporaryDirectory() as tree:
        case = Case("exit3", 1, 1, [ExitStatus("exit 0", 0)])
        r = execute(case, "echo 'guest: all checks passed'; exit 3", tree)
        ok, text = outcome(r, "exit 0")
        assert not ok and "got 3" in text, r.report()
        log = os.path.join(tree, "build", "grade", "exit3.log")
        assert open(log).read() == "guest: all checks passed\n", "the log holds the console"
        assert judge(case, [], status=0).failed_names() == []


FAKE_MAKEFILE = """\
# A stand-in for the labs' Makefile: "QEMU" is a shell script.
.PHONY: support qemu-cmd-native
support:
\t@true
build/lab1/hyp.elf:
\t@echo "hyp.c:1:1: error: expected ';'"; exit 2
qemu-cmd-native:
\t@echo 'sh fake-qemu.sh $(SMP)'
"""
FAKE_QEMU = ('echo "guest: hello from hart 0"; echo "guest: device tree: $1 cpus"; '
             'echo "guest: check timer-sip: ok"; echo "guest: all checks passed"')


@contextlib.contextmanager
def fake_tree():
    """A temporary tree with FAKE_MAKEFILE and its fake QEMU."""
    with tempfile.TemporaryDirectory() as tree:
        with open(os.path.join(tree, "Makefile"), "w") as f:
            f.write(FAKE_MAKEFILE)
        with open(os.path.join(tree, "fake-qemu.sh"), "w") as f:
            f.write(FAKE_QEMU)
        yield tree


def test_grade_builds_and_runs_through_make():
    with fake_tree() as tree:
        lab1 = Case("lab1", 1, 2, [Absent("x", "x"), Absent("y", "y")])
        natives = [c for c in checks.native_cases() if c.guest is None]  # the test guest's
        results = list(grade(natives + [lab1], tree, jobs=2, support=tree))
        want = [0] * len(natives) + [3]
        assert [r.tally()[1] for r in results] == want, [r.report() for r in results]
        ok, text = outcome(results[-1], "build")
        assert not ok and "error: expected ';'" in text, text
        assert outcome(results[-1], "x")[1] == "not run: the build failed"
        # stop: once a check has failed, cases not yet started are skipped.
        results = list(grade([lab1, native(4)], tree, jobs=1, stop=bool, support=tree))
        assert results[0].tally()[1] == 3 and results[1] is None


def test_requires_skips_after_a_failed_requirement():
    with fake_tree() as tree:
        first = Case("first", "native", 1, [Absent("x", "guest"), Absent("y", "nothing")])
        skipped = Case("skipped", "native", 1, [Absent("z", "nothing")], requires=("first", ["x"]))
        runs = Case("runs", "native", 1, [Absent("z", "nothing")], requires=("first", ["y"]))
        alone = Case("alone", "native", 1, [Absent("z", "nothing")], requires=("absent", ["x"]))
        results = list(grade([first, skipped, runs, alone], tree, jobs=2, support=tree))
        assert results[1].failed_names() == ["requirement", "z"], results[1].report()
        assert "skipped: first failed x" in results[1].report()
        assert results[2].failed_names() == [] and results[3].failed_names() == []


def sample_results():
    """A passing and a failing run of native-smp4, the second with garbage
    bytes and a control character in its console."""
    good = judge(native(4), split_lines(GOOD), status=0, log="build/grade/a.log", seconds=1.5)
    bad = judge(native(4), split_lines(GOOD.replace(b"all checks", b"\x1b[31m\xff\x00 FAIL"))
                + ["guest: \x07<&>"], status=3, log="build/grade/b.log")
    return [good, bad]


def test_table_sums_points():
    text = report.table(sample_results(), verbose=True)
    assert "  all checks passed      -      -    1/2      -      -    1/2" in text, text
    assert text.splitlines()[-1].split()[-1] == "9/12", text
    assert text.splitlines()[-2].split() == ["native", "-", "-", "9/12", "-", "-", "9/12"], text
    # Short: no matrix for one lab, no row for a check worth no points.
    results = sample_results()
    results[0].add("free", 0, True)
    short, full = report.table(results), report.table(results, verbose=True)
    assert "  free" in full and "  free" not in short and "1 checks worth no points" in short
    assert short.splitlines()[-2].split()[:2] == ["total", "-"], short


def causes_case():
    """Three checks in a chain (a <- b <- c), one on its own (d), and the
    exit status, which needs all."""
    checks_ = [Ordered("a", ["^a$"]), Ordered("b", ["^b$"]), Ordered("c", ["^c$"]),
               Ordered("d", ["^d$"])]
    return checks.with_needs(Case("causes", 3, 1, checks_, exit_status=0))


def test_causes_group_failures_under_the_first():
    saved = dict(checks.NEEDS)
    try:
        checks.NEEDS.update({"b": ["a"], "c": ["b"]})
        case = causes_case()
        r = judge(case, ["d"], status=1)
        assert r.causes() == [("a", ["b", "c", "exit status 0"])], r.causes()
        r = judge(case, ["b", "d"], status=1)  # c fails on its own: b passed
        assert r.causes() == [("a", ["exit status 0"]), ("c", [])], r.causes()
        r = judge(case, ["a", "b", "c"], status=0)
        assert r.causes() == [("d", [])], r.causes()
        r = judge(case, ["a", "b", "c", "d"], status=1)
        assert r.causes() == [("exit status 0", [])], r.causes()
        r = judge(case, ["a", "c"], status=1)
        assert r.causes() == [("b", ["exit status 0"]), ("d", [])], r.causes()
        text = r.report()
        assert text.splitlines()[1].startswith("  FAIL b:"), text
        assert "could not pass because of it: exit status 0" in text, text
        assert "PASS" not in text and "PASS a" in r.report(verbose=True), text
        # A second report of the same cause leaves its lines out.
        shown = {}
        first, second = r.report(shown=shown), judge(case, ["a"], status=1).report(shown=shown)
        assert "MISSING '^b$'" in first and "MISSING '^b$'" not in second, second
        assert "like causes's above" in second, second
    finally:
        checks.NEEDS.clear()
        checks.NEEDS.update(saved)


def test_errors_are_the_cause():
    """A panic line is the cause of the checks it broke."""
    case = next(c for c in checks.cases() if c.name == "lab4-smp2")
    lines = ["hyp: RISC-V hypervisor lab 04, booted on hart 0",
             "panic: spin_unlock: hart 0 does not hold torture spinlock"]
    causes = judge(case, lines, status=1).causes()
    assert [c for c, _ in causes] == ["no-errors"], causes
    assert "torture" in causes[0][1] and "exit status 0" in causes[0][1], causes


def test_needs_have_no_cycles():
    """Every case's needs form no cycle, so that each failure has a cause."""
    for case in checks.cases():
        needs = {c.name: c.needs for c in case.checks}

        def visit(name, path):
            assert name not in path, f"{case.name}: {' -> '.join(path + [name])}"
            for n in needs.get(name, ()):
                visit(n, path + [name])
        for name in needs:
            visit(name, [])


def test_missing_line_shows_the_nearest():
    case = Case("near", 3, 2, [Ordered("online", [r"^hyp: 2 of 2 harts online$"])])
    lines = [f"hyp: line {i}" for i in range(20)] + ["hyp: 1 of 2 harts online"] + \
        [f"guest: line {i}" for i in range(20)]
    ok, text = outcome(judge(case, lines), "online")
    assert not ok and "NEAR hyp: 1 of 2 harts online" in text, text
    assert "guest: line 19" not in text, text  # not the tail
    ok, text = outcome(judge(case, ["something else entirely"]), "online")
    assert "NEAR" not in text and "something else entirely" in text, text


def test_junit_validates_against_schema():
    xml = report.to_junit(sample_results(), 2.5)
    schema = os.path.join(os.path.dirname(os.path.abspath(__file__)), "junit.xsd")
    with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
        f.write(xml)
        f.flush()
        ok = subprocess.run(["xmllint", "--noout", "--schema", schema, f.name],
                            capture_output=True, text=True)
        assert ok.returncode == 0, ok.stderr
        # The schema can fail: a testcase without its required name.
        f.seek(0)
        f.truncate()
        f.write(xml.replace('<testcase name="greeting"', "<testcase"))
        f.flush()
        bad = subprocess.run(["xmllint", "--noout", "--schema", schema, f.name],
                             capture_output=True, text=True)
        assert bad.returncode != 0 and "name" in bad.stderr, bad.stderr
    assert 'failures="3"' in xml and "MISSING" in xml, xml


def test_gradescope_fields():
    data = json.loads(report.to_gradescope(sample_results(), 2.5))
    assert report.gradescope_problems(data) == [], report.gradescope_problems(data)
    assert data["score"] == 9 and sum(t["max_score"] for t in data["tests"]) == 12
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    assert len(failed) == 3 and all(t["score"] == 0 and t["output"] for t in failed)
    data["tests"][0]["status"] = "ok"
    data["stdout_visibility"] = "public"
    del data["score"]
    del data["tests"][1]["score"]
    assert len(report.gradescope_problems(data)) == 3, report.gradescope_problems(data)


def test_json_round_trip():
    data = json.loads(report.to_json(sample_results(), "/tree", 2.5))
    assert data["totals"] == {"passed": 9, "failed": 3, "points": 9, "possible": 12}, data
    assert data["cases"][1]["status"] == 3 and data["cases"][1]["log"] == "build/grade/b.log"


def test_repeat_and_mttcg():
    cases = grade_cli.repeated([native(4)], 3)
    assert [c.name for c in cases] == [f"native-smp4-run{i}" for i in (1, 2, 3)]
    assert all(report.column(c) == 4 for c in cases), "runs keep their column"
    results = [judge(c, split_lines(GOOD), status=0) for c in cases]
    results[1] = judge(cases[1], split_lines(GOOD)[:-1], status=0)
    assert grade_cli.flaky(results) == ["native-smp4: all checks passed (failed 1 of 3 runs)"]
    multi = grade_cli.with_mttcg(native(4))
    assert multi.qemu_extra == "-accel tcg,thread=multi" and native(4).qemu_extra == ""


REGIONS = """int f(int x)
{
\t/* BEGIN SOLUTION (lab 1): double x */
\tx *= 2;
\t/* END SOLUTION (lab 1) */
\t/* BEGIN SOLUTION (lab 2): return x plus one */
\treturn x + 1;
\t/* END SOLUTION (lab 2), handout: (void)x;
\t   return 0; */
}"""


def test_handout_regions():
    lab2 = handout.strip_regions(REGIONS, 2, "f.c")
    assert lab2 == "int f(int x)\n{\n\tx *= 2;\n\t/* Lab 2: return x plus one. */\n" \
                   "\t(void)x;\n\treturn 0;\n\t/* Lab 2: up to here. */\n}", lab2
    # The whole course stubs both; make carry's result keeps lab 1's markers.
    both = handout.strip_regions(REGIONS, 2, "f.c", {1, 2})
    assert "x *= 2" not in both and both.count("up to here") == 2, both
    carried = handout.strip_regions(REGIONS, 2, "f.c", {2}, {1})
    assert carried.startswith("int f(int x)\n{\n\t/* Lab 1: double x. */\n\tx *= 2;\n"
                              "\t/* Lab 1: up to here. */\n\t/* Lab 2: "), carried
    lab1 = handout.strip_regions(REGIONS.replace("lab 2", "lab 1"), 1, "f.c")
    assert "x *= 2" not in lab1 and "/* Lab 1: double x. */" in lab1, lab1
    for bad, why in [(REGIONS.replace("\t/* END SOLUTION (lab 1) */\n", ""), "inside the region"),
                     (REGIONS.replace("/* BEGIN SOLUTION (lab 1): double x */", ""), "without its BEGIN"),
                     (REGIONS.replace(" */\n}", "\n}"), "has no */"),
                     (REGIONS.replace("(lab 1): double", "lab 1: double"), "not in the form")]:
        try:
            handout.strip_regions(bad, 2, "f.c")
            raise AssertionError(f"accepted a broken region ({why})")
        except handout.MarkerError as e:
            assert why in str(e) and str(e).startswith("f.c:"), e
    try:
        handout.strip_regions(REGIONS, 1, "f.c")
        raise AssertionError("accepted a lab 2 region in lab 1")
    except handout.MarkerError as e:
        assert "a lab 2 region in lab 1" in str(e), e


def test_handout_finds_solution_lines():
    secret = handout.solution_lines(3)
    line = "__atomic_thread_fence(__ATOMIC_SEQ_CST);"
    assert line in secret and "}" not in secret, sorted(secret)[:5]
    with tempfile.TemporaryDirectory() as tree:
        with open(os.path.join(tree, "notes.md"), "w") as f:
            f.write("Some text.\n\t\t" + line + "\n")
        assert handout.leaks(tree, 3) == ["notes.md:2"]
        assert handout.leaks(tree, 2) == []
    readme = handout.without_solution("```c\n\t" + line + "\n```", 3)
    assert line not in readme and "left out of the handout" in readme, readme


def test_handout_without_mutants():
    readme = ("## 8. How it is graded\n\nThe checks.\n\nIts known-bad variants are in\n"
              "`grader/mutants/03-secondary/`:\n\n| a | b |\n\n## 9. Next\n\nMore.\n")
    out = handout.without_mutants(readme)
    assert "grader/mutants" not in out and "| a | b |" not in out, out
    assert "The checks." in out and "## 9. Next\n\nMore." in out, out
    assert handout.without_mutants("no such paragraph\n") == "no such paragraph\n"


def test_checkout_files_outside_git():
    with tempfile.TemporaryDirectory() as tree:
        for name in ("labs/01-boot/main.c", "build/lab1/hyp.elf", "README.md"):
            os.makedirs(os.path.dirname(os.path.join(tree, name)), exist_ok=True)
            open(os.path.join(tree, name), "w").close()
        assert checkout_files(tree) == ["README.md", "labs/01-boot/main.c"], checkout_files(tree)


def test_mutant_expectations():
    with tempfile.NamedTemporaryFile("w", suffix=".patch") as f:
        f.write("# A race.\n# expect-fail: torture\n# expect-fail: whole-lines or rendezvous\n"
                "--- a/x.c\n+++ b/x.c\n# expect-fail: not-a-header\n")
        f.flush()
        got = mutants.expected_failures(f.name)
        assert mutants.tries(f.name) == 1
    assert got == [("torture",), ("whole-lines", "rendezvous")], got
    with tempfile.NamedTemporaryFile("w", suffix=".patch") as f:
        f.write("# A race that may not show.\n# tries: 3\n--- a/x.c\n+++ b/x.c\n# tries: 9\n")
        f.flush()
        assert mutants.tries(f.name) == 3


# ---- the trace checks (trace_checks.py), on small made-up dumps ----

# A correct run of two harts, 0 booting, 1 its secondary: (hart, time, event,
# a0, a1), each hart's events in time order. Hart 1 parks and wakes for an
# IPI; both pass a barrier of 2, take one lock in turn and add their vCPUs
# before the release; vCPU 0 is started and enters after it, and starts
# vCPU 1, whose IPI (lab 05's hart_start) is not traced but for the start.
GOOD_TRACE = [
    (0, 0x10, "boot", 0, 0), (0, 0x30, "ipi-send", 1, 0),
    (0, 0x40, "barrier-arrive", 0xb0, 2), (0, 0x44, "barrier-leave", 0xb0, 0),
    (0, 0x50, "lock-wait", "spin", 0x100), (0, 0x50, "lock-acquired", "spin", 0x100),
    (0, 0x54, "lock-release", "spin", 0x100),
    (0, 0x60, "vm-create", 2, 0), (0, 0x61, "vcpu-add", 0, 0), (0, 0x64, "release", 2, 0),
    (0, 0x64, "vcpu-start", 0, 0), (0, 0x65, "guest-enter", 0, 0),
    (0, 0x70, "exit", "sbi-hsm", 0), (0, 0x71, "vcpu-start", 1, 1), (0, 0x72, "resume", 0, 0),
    (0, 0x80, "poweroff", 0, 0),
    (1, 0x20, "online", 1, 0), (1, 0x21, "park", 0, 0), (1, 0x32, "wake", 1, 0),
    (1, 0x33, "ipi-recv", 0, 0),
    (1, 0x42, "barrier-arrive", 0xb0, 2), (1, 0x43, "barrier-leave", 0xb0, 0),
    (1, 0x51, "lock-wait", "spin", 0x100), (1, 0x54, "lock-acquired", "spin", 0x100),
    (1, 0x58, "lock-release", "spin", 0x100),
    (1, 0x62, "vcpu-add", 1, 0), (1, 0x63, "park", 0, 0), (1, 0x73, "wake", 1, 0),
    (1, 0x74, "ipi-recv", 0, 0), (1, 0x75, "guest-enter", 1, 0),
]


def trace_console(events, lost=None, skipped=None, lab=5, end=True):
    """The console of a run whose dump holds these events: the banner, a
    line per secondary online, then the dump (hart 0's block first), with
    each hart's lost and skipped events ({hart: count})."""
    lost, skipped = lost or {}, skipped or {}
    harts = sorted({e[0] for e in events})
    lines = [f"hyp: RISC-V hypervisor lab {lab:02d}, booted on hart {harts[0]}"]
    lines += [f"hyp: hart {h} online: entered 1 time, stack top 0x80210000, HSM state started"
              for h in harts[1:]]
    lines.append(f"trace: begin v1 lab={lab} harts={len(harts)} timebase=10000000")
    for h in harts:
        mine = [e for e in events if e[0] == h]
        for hart, time_, name, a0, a1 in mine:
            a0 = a0 if isinstance(a0, str) else f"{a0:x}"
            lines.append(f"trace: {hart} {time_:x} {name} {a0} {a1:x}")
        lines.append(f"trace: hart {h} events {len(mine)} lost {lost.get(h, 0)} "
                     f"skipped {skipped.get(h, 0)}")
    if end:
        lines.append(f"trace: end events={len(events)} lost={sum(lost.values())} "
                     f"skipped={sum(skipped.values())}")
    return lines


def trace_judged(events, **kwargs):
    """The trace checks of lab 5 on a made-up dump: {check: (ok, report text)}."""
    case = Case("trace", 5, 2, trace_checks.trace_checks(5), trace=True)
    r = judge(case, trace_console(events, **kwargs))
    return {o.name: (o.ok, "\n".join([o.expected] + o.context)) for o in r.outcomes}


def replaced(events, old, *new):
    """The events with the one at (hart, time, name) replaced by new ones."""
    at = next(i for i, e in enumerate(events) if e[:3] == old)
    return events[:at] + list(new) + events[at + 1:]


def assert_fails_naming(events, check, *words, **kwargs):
    got = trace_judged(events, **kwargs)
    ok, text = got[check]
    assert not ok, f"{check} passed"
    for word in words:
        assert word in text, f"{check}: {word!r} not in: {text}"
    others = [name for name, (ok, _) in got.items() if not ok and name != check]
    return others


def test_trace_checks_pass_a_correct_run():
    got = trace_judged(GOOD_TRACE)
    assert sorted(got) == sorted(["trace-dump", "parked-wakes-for-ipi", "locks-exclusive",
                                  "barrier-waits", "trace-rendezvous", "hart-start-order"])
    assert all(ok for ok, _ in got.values()), got
    # The parse: merged by time, each hart's events whole, a hart's order kept.
    parsed = trace_checks.trace_dump.parse(trace_console(GOOD_TRACE))
    assert [e.time for e in parsed["events"]] == sorted(e[1] for e in GOOD_TRACE)
    assert parsed["per_hart"][1]["events"] == 14, parsed["per_hart"]
    assert parsed["events"][0] == trace_checks.trace_dump.Event(0, 0x10, "boot", (0, 0), 4)


def test_trace_overlapping_locks_fail():
    # Hart 1 takes the lock at 0x53, before hart 0 let it go at 0x54.
    bad = replaced(GOOD_TRACE, (1, 0x54, "lock-acquired"), (1, 0x53, "lock-acquired", "spin", 0x100))
    others = assert_fails_naming(bad, "locks-exclusive", "lock-acquired spin 100 on hart 1 at 53",
                                 "hart 0 held it (acquired at 50, released at 54)",
                                 "BAD  trace: 1 53 lock-acquired spin 100")
    assert others == [], others


def filled(events, hart, last):
    """The events with hart's record ending at time `last`, as if its buffer
    filled there (the dump then says it lost events)."""
    return [e for e in events if e[0] != hart or e[1] <= last]


def test_trace_lock_held_to_the_dump():
    """A last taking with no release holds the lock to the dump; but a hart
    whose buffer filled is only known to hold it to its last event."""
    cut = filled(GOOD_TRACE, 1, 0x54)  # hart 1 ends in lock-acquired
    cut = replaced(cut, (0, 0x60, "vm-create"), (0, 0x59, "lock-acquired", "spin", 0x100),
                   (0, 0x5a, "lock-release", "spin", 0x100), (0, 0x60, "vm-create", 2, 0))
    assert_fails_naming(cut, "locks-exclusive", "lock-acquired spin 100 on hart 0 at 59",
                        "not released before the dump", skipped={1: 300})
    got = trace_judged(cut, lost={1: 9})
    assert all(ok for ok, _ in got.values()), got


def test_trace_lost_events_are_not_judged():
    """Hart 1's buffer filled after 0x43: its later events, the vcpu-add, the
    guest-enter of vCPU 1, the receipts of IPIs, are unknown, not missing.
    Skipped lock takings leave a record whole, and its pairs pairs."""
    cut = filled(GOOD_TRACE, 1, 0x43)
    got = trace_judged(cut, lost={1: 17}, skipped={0: 300, 1: 600})
    assert all(ok for ok, _ in got.values()), got
    # Without the losses the same dump is wrong: vCPU 1 never entered. So it
    # is when hart 1 only skipped lock takings: its record is whole.
    for skipped in ({}, {0: 300, 1: 600}):
        assert_fails_naming(cut, "hart-start-order", "vcpu-start 1 1 on hart 0 at 71",
                            "got none before the dump", skipped=skipped)
    # Hart 0's buffer filled after 0x70: vCPU 1's start and its IPI went
    # unrecorded, and hart 1's receipt of it and entry are not judged.
    got = trace_judged(filled(GOOD_TRACE, 0, 0x70), lost={0: 5})
    assert all(ok for ok, _ in got.values()), got


def test_trace_barrier_left_before_the_last_arrival_fails():
    bad = replaced(GOOD_TRACE, (0, 0x44, "barrier-leave"), (0, 0x41, "barrier-leave", 0xb0, 0))
    assert_fails_naming(bad, "barrier-waits", "barrier-leave b0 0 on hart 0 at 41",
                        "left before barrier-arrive b0 2 on hart 1 at 42", "round 0")
    # A round that never filled, left within the time every hart's record covers.
    alone = [e for e in GOOD_TRACE if not (e[0] == 1 and e[2].startswith("barrier"))]
    assert_fails_naming(alone, "barrier-waits", "barrier-leave b0 0 on hart 0 at 44",
                        "when 1 of its 2 harts had arrived")


def test_trace_guest_enter_before_release_fails():
    bad = replaced(GOOD_TRACE, (0, 0x64, "release"))
    bad = replaced(bad, (0, 0x65, "guest-enter"), (0, 0x65, "guest-enter", 0, 0),
                   (0, 0x66, "release", 2, 0))
    assert_fails_naming(bad, "trace-rendezvous", "guest-enter 0 0 on hart 0 at 65",
                        "before release 2 0 on hart 0 at 66")
    late = replaced(GOOD_TRACE, (1, 0x62, "vcpu-add"))
    late = replaced(late, (1, 0x63, "park"), (1, 0x63, "park", 0, 0))
    late = replaced(late, (1, 0x75, "guest-enter"), (1, 0x75, "guest-enter", 1, 0),
                    (1, 0x76, "vcpu-add", 1, 0))
    assert_fails_naming(late, "trace-rendezvous", "every vcpu-add before the release",
                        "vcpu-add 1 0 on hart 1 at 76")


def test_trace_wake_without_ipi_fails():
    # A park loop that polls: wfi "returns" with nothing pending.
    spin = replaced(GOOD_TRACE, (1, 0x32, "wake"), (1, 0x22, "wake", 0, 0),
                    (1, 0x23, "park", 0, 0), (1, 0x32, "wake", 1, 0))
    assert_fails_naming(spin, "parked-wakes-for-ipi", "wake 0 0 on hart 1 at 22",
                        "after park 0 0 on hart 1 at 21", "polls instead of sleeping")
    # No wake after a park: the hart went on without sleeping.
    awake = replaced(GOOD_TRACE, (1, 0x32, "wake"))
    assert_fails_naming(awake, "parked-wakes-for-ipi", "park 0 0 on hart 1 at 21",
                        "is followed by ipi-recv 0 0 on hart 1 at 33")
    # An IPI received that no one sent.
    unsent = replaced(GOOD_TRACE, (0, 0x30, "ipi-send"))
    assert_fails_naming(unsent, "parked-wakes-for-ipi", "ipi-recv 0 0 on hart 1 at 33 has none")
    # Two receipts of one IPI.
    twice = replaced(GOOD_TRACE, (1, 0x33, "ipi-recv"), (1, 0x33, "ipi-recv", 0, 0),
                     (1, 0x34, "park", 0, 0), (1, 0x35, "wake", 1, 0), (1, 0x36, "ipi-recv", 0, 0))
    assert_fails_naming(twice, "parked-wakes-for-ipi", "ipi-recv 0 0 on hart 1 at 36 has none")


def test_trace_second_guest_enter_for_one_start_fails():
    again = GOOD_TRACE + [(1, 0x78, "hart-stop", 1, 0), (1, 0x79, "guest-enter", 1, 0)]
    assert_fails_naming(again, "hart-start-order", "guest-enter 1 0 on hart 1 at 79 has none")
    # vCPU 1 entered before it was started (the start comes at 0x76).
    early = replaced(GOOD_TRACE, (0, 0x71, "vcpu-start"), (0, 0x71, "ipi-send", 1, 0))
    early = replaced(early, (0, 0x72, "resume"), (0, 0x72, "resume", 0, 0),
                     (0, 0x76, "vcpu-start", 1, 1))
    assert_fails_naming(early, "hart-start-order", "guest-enter 1 0 on hart 1 at 75 has none")


def test_trace_dump_must_be_whole():
    got = trace_judged(GOOD_TRACE, end=False)
    assert not got["trace-dump"][0] and "cut off" in got["trace-dump"][1], got["trace-dump"]
    assert not got["locks-exclusive"][0] and "a whole trace dump" in got["locks-exclusive"][1]
    # Hart 1 is online on the console but has no block.
    lines = [l for l in trace_console(GOOD_TRACE) if not l.startswith("trace: 1 ")
             and not l.startswith("trace: hart 1 ")]
    lines = [l.replace("harts=2", "harts=1").replace("events=30", "events=16") for l in lines]
    r = judge(Case("trace", 5, 2, trace_checks.trace_checks(5), trace=True), lines)
    ok, text = outcome(r, "trace-dump")
    assert not ok and "no block for hart 1" in text, text
    # A line out of the format is named.
    lines = trace_console(GOOD_TRACE)
    lines[5] = "trace: 0 2x boot 0 0"
    r = judge(Case("trace", 5, 2, trace_checks.trace_checks(5), trace=True), lines)
    ok, text = outcome(r, "trace-dump")
    assert not ok and "line 6" in text and "BAD  trace: 0 2x boot" in text, text
    r = judge(Case("trace", 5, 2, trace_checks.trace_checks(5), trace=True), ["hyp: no dump"])
    assert outcome(r, "trace-dump")[0] is False


def test_trace_cut_off_is_judged_per_hart():
    """A dump cut off (QEMU killed in the middle of a long one): trace-dump
    fails, and so does every check, but a per-hart fault in what came is
    named, not only the missing end."""
    spin = replaced(GOOD_TRACE, (1, 0x32, "wake"), (1, 0x22, "wake", 0, 0),
                    (1, 0x23, "park", 0, 0), (1, 0x32, "wake", 1, 0))
    lines = trace_console(spin, end=False)
    lines = lines[:-3] + ["trace: 1 74 ipi-rqemu-system-riscv64: terminating on signal 15"]
    r = judge(Case("trace", 5, 2, trace_checks.trace_checks(5), trace=True), lines)
    ok, text = outcome(r, "trace-dump")
    assert not ok and "cut off" in text, text
    ok, text = outcome(r, "parked-wakes-for-ipi")
    assert not ok and "wake 0 0 on hart 1 at 22" in text and "cut off" in text, text
    ok, text = outcome(r, "barrier-waits")
    assert not ok and text.startswith("a whole trace dump to judge (trace-dump)"), text
    ok, text = outcome(judge(Case("trace", 5, 2, trace_checks.trace_checks(5), trace=True),
                             trace_console(GOOD_TRACE, end=False)), "parked-wakes-for-ipi")
    assert not ok and text.startswith("a whole trace dump to judge"), text


def test_trace_lines_only_for_trace_checks():
    """A trace case's other checks judge the console without the dump."""
    sees = Ordered("sees the dump", [r"^trace: begin v1"])
    sees.trace = True
    case = Case("t", 5, 2, [Absent("no dump", r"^trace: "), sees,
                            Count("lines", r".", n=2)] + trace_checks.trace_checks(5), trace=True)
    r = judge(case, trace_console(GOOD_TRACE))
    assert r.failed_names() == [], r.report()
    case.trace = False  # a normal case sees every line
    assert judge(case, trace_console(GOOD_TRACE)).failed_names() == ["no dump", "lines"]
    # A run ended in the middle of the dump: the cut line with QEMU's last
    # words glued to it is the dump's too.
    cut = trace_console(GOOD_TRACE)[:-6] + ["traceqemu-system-riscv64: terminating on signal 15"]
    case.trace = True
    r = judge(case, cut)
    assert r.failed_names() == ["trace-dump"] + [c.name for c in case.checks[4:]], r.report()


def test_trace_cases():
    """The trace cases boot the trace build, earn no points and need the
    dump for their other trace checks."""
    cases = {c.name: c for c in checks.cases() if c.trace}
    assert sorted(cases) == ["lab3-trace-smp4", "lab4-trace-smp4", "lab4-trace-smp8",
                             "lab5-trace-smp4"], sorted(cases)
    for case in cases.values():
        assert all(c.points == 0 for c in case.checks), case.name
        by_name = {c.name: c for c in case.checks}
        assert "trace-dump" in by_name["parked-wakes-for-ipi"].needs
        assert ("hart-start-order" in by_name) == (case.lab == 5)


FAKE_TRACE_MAKEFILE = """\
# The trace build of lab 3, which exists only with TRACE=1, as the real one.
.PHONY: support qemu-cmd
support:
\t@true
build/lab3-trace/hyp.elf:
\t@test "$(TRACE)" = 1
qemu-cmd:
\t@test "$(TRACE)" = 1 && echo 'printf "guest: hello\\\\ntrace: begin v1\\\\n"'
"""


def test_grade_boots_the_trace_build():
    with tempfile.TemporaryDirectory() as tree:
        with open(os.path.join(tree, "Makefile"), "w") as f:
            f.write(FAKE_TRACE_MAKEFILE)
        sees = Ordered("sees the dump", [r"^trace: begin v1$"])
        sees.trace = True
        case = Case("lab3-t", 3, 1, [Absent("no dump", r"^trace:"), sees,
                                     Ordered("hello", [r"^guest: hello$"])], trace=True)
        (r,) = grade([case], tree, support=tree)
        assert r.failed_names() == [], r.report()


def main():
    return run_selftests(globals(), "selftest")


if __name__ == "__main__":
    sys.exit(main())
