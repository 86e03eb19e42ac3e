#!/usr/bin/env python3
"""Host tests of bench/bench.py: the exit-table parser and the SVG.

    python3 bench/test_bench.py

Runs no QEMU and no make. Prints PASS or FAIL per test, then
"bench-test: N passed, N failed"; exit status 0 when none failed.
Python 3 standard library only.
"""
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import gradelib  # noqa: E402  (bench put grader/ on the path)

# The format's example (the hypervisor side is on branch exit-path).
SAMPLE = """\
hyp: exits by cause        vcpu0    vcpu1    vcpu2    vcpu3    total
hyp:   sbi base                3        1        1        1        6
hyp:   sbi time              812      640      655      702     2809
hyp:   sbi ipi                12        9       30        4       55
hyp:   timer interrupt       811      640      655      701     2807
hyp:   IPI (kick)             40       33       28       35      136
hyp:   all                  1678     1323     1369     1443     5813
""".splitlines()

SAMPLE_TOTAL = {"sbi base": 6, "sbi time": 2809, "sbi ipi": 55, "timer interrupt": 2807,
                "IPI (kick)": 136, "all": 5813}

SINGLE = """\
hyp: exits by cause        vcpu0
hyp:   sbi base                3
hyp:   sbi dbcn               41
hyp:   sbi srst                1
hyp:   all                    45
""".splitlines()


def check(got, want):
    assert got == want, f"got {got!r}, want {want!r}"


def test_sample():
    t = bench.parse_exits(["init: 4 CPUs online", "reboot: Power down",
                           "hyp: guest powered off"] + SAMPLE)
    check(t["columns"], ["vcpu0", "vcpu1", "vcpu2", "vcpu3", "total"])
    check(t["total"], SAMPLE_TOTAL)
    check(list(t["total"]), list(SAMPLE_TOTAL))  # the table's order
    check(t["per_vcpu"]["IPI (kick)"], [40, 33, 28, 35])
    check(t["per_vcpu"]["all"], [1678, 1323, 1369, 1443])
    check(t["consistent"], True)


def test_single_vcpu_has_no_total_column():
    t = bench.parse_exits(["hyp: guest powered off"] + SINGLE)
    check(t["columns"], ["vcpu0"])
    check(t["total"], {"sbi base": 3, "sbi dbcn": 41, "sbi srst": 1, "all": 45})
    check(t["per_vcpu"]["sbi dbcn"], [41])
    check(t["consistent"], True)


def test_cut_off_table_is_none():
    # No "all" row: QEMU was killed or the output lost. Documented: None.
    for n in range(1, len(SAMPLE) - 1):
        check(bench.parse_exits(SAMPLE[:n]), None)
    check(bench.parse_exits(SAMPLE[:-1] + ["hyp:   al"]), None)


def test_no_table_is_none():
    check(bench.parse_exits([]), None)
    check(bench.parse_exits(["init: 4 CPUs online", "reboot: Power down",
                             "hyp: guest powered off"]), None)


def test_garbage_lines_between_rows():
    lines = []
    for n, row in enumerate(SAMPLE):
        lines += [row, f"[    1.{n:06d}] reboot: noise {n} 1 2 3 4 5", "",
                  "hyp: hart 2 parked", "hyp:   not a row", "\ufffd\ufffd"]
    t = bench.parse_exits(lines)
    check(t["total"], SAMPLE_TOTAL)
    check(t["consistent"], True)


def test_lines_that_only_look_similar():
    look_alikes = [
        "hyp: exits by cause are counted per vCPU",
        "hyp: exits by cause",
        "hyp: exits: 5813",
        "hyp: exits by cause vcpu1 vcpu0 total",         # not vcpu0, vcpu1, ...
        "hyp: exits by cause vcpu0 vcpu1",               # no total with two
        "xhyp: exits by cause        vcpu0    vcpu1    total",
        " hyp: exits by cause        vcpu0    vcpu1    total",
        "hyp:   all                  1678     1323     1369     1443     5813",
        "hyp:  all 1 2 3 4 5",
    ]
    check(bench.parse_exits(look_alikes), None)
    # Before a real table, they change nothing.
    check(bench.parse_exits(look_alikes + SAMPLE)["total"], SAMPLE_TOTAL)
    # A look-alike header inside a table does not end it.
    t = bench.parse_exits(SAMPLE[:3] + ["hyp: exits by cause are counted"] + SAMPLE[3:])
    check(t["total"], SAMPLE_TOTAL)


def test_row_with_too_few_counts_is_skipped():
    lines = SAMPLE[:2] + ["hyp:   sbi hsm 1 2 3 4"] + SAMPLE[2:]
    check(bench.parse_exits(lines)["total"], SAMPLE_TOTAL)


def test_new_cause_and_numbers_in_names():
    lines = ["hyp: exits by cause vcpu0 vcpu1 total",
             "hyp:   sbi ext 0x48534d (x 2)    1    2    3",
             "hyp:   sbi legacy 8              0    7    7",
             "hyp:   all                       1    9   10"]
    t = bench.parse_exits(lines)
    check(t["total"], {"sbi ext 0x48534d (x 2)": 3, "sbi legacy 8": 7, "all": 10})
    check(t["consistent"], True)


def test_inconsistent_sums_are_flagged():
    lines = [r.replace("2809", "2810") for r in SAMPLE]
    t = bench.parse_exits(lines)
    check(t["total"]["sbi time"], 2810)
    check(t["consistent"], False)


def test_last_complete_table_wins():
    t = bench.parse_exits(SINGLE + SAMPLE + SINGLE[:2])
    check(t["total"], SAMPLE_TOTAL)


def test_medians():
    other = dict(SAMPLE_TOTAL, **{"sbi time": 3000, "all": 6004})
    del other["sbi ipi"]
    other["guest page fault"] = 9
    m = bench.exit_medians([{"total": SAMPLE_TOTAL}, None, {"total": other},
                            {"total": SAMPLE_TOTAL}])
    check(m["sbi time"], 2809)
    check(m["sbi ipi"], 55)            # 55, 0, 55
    check(m["guest page fault"], 0)    # 0, 9, 0
    check(list(m), ["sbi base", "sbi time", "sbi ipi", "timer interrupt", "IPI (kick)",
                    "guest page fault", "all"])
    check(bench.exit_medians([None, None]), None)
    check(bench.exit_medians([]), None)
    check(list(bench.exit_medians([{"total": {"zzz": 1, "all": 1}}])), ["zzz", "all"])


# ---- the SVG ----

SVG_NS = "{http://www.w3.org/2000/svg}"


def sample_figures():
    return [bench.figure("sbi-roundtrip", "SBI round trip, min", "instructions", 286, 245,
                         "", 0.5),
            bench.figure("linux-boot", "Linux to init, SMP=4, median", "s", 0.50, 0.48, "",
                         1.1),
            bench.figure("linux-boot-nosstc", "Linux to init, SMP=4, no Sstc, median", "s",
                         0.68, 0.48, ""),
            bench.figure("grader", "grader matrix", "s", 33.0, None, "")]


def svg_texts(document):
    root = ET.fromstring(document)  # raises unless well-formed
    check(root.tag, SVG_NS + "svg")
    return [t.text or "" for t in root.iter(SVG_NS + "text")], root


def test_svg_exits_panel():
    sstc = bench.parse_exits(SAMPLE)["total"]
    nosstc = dict(sstc, **{"guest page fault": 4, "a new & <odd> cause": 2, "all": 5819})
    document = bench.svg(sample_figures(),
                         [("lab 05 (Sstc)", bench.exit_medians([{"total": sstc}]), None),
                          ("lab 05 (no Sstc)", bench.exit_medians([{"total": nosstc}]), None)])
    texts, root = svg_texts(document)
    joined = "\n".join(texts)
    for cause in list(nosstc):
        assert any(t.startswith(cause + ": ") for t in texts), f"{cause!r} not in the legend"
    assert "sbi time: 2809 / 2809" in texts, joined
    assert "all: 5813 / 5819" in texts, joined
    assert "native: 0 (no hypervisor)" in texts, joined
    assert "lab 05 (Sstc)" in texts and "lab 05 (no Sstc)" in texts, joined
    assert "all 5813" in texts and "all 5819" in texts, joined
    # One stacked rectangle per cause and way (5 + 7), each titled.
    titled = [r for r in root.iter(SVG_NS + "rect") if r.find(SVG_NS + "title") is not None]
    check(len(titled), 5 + 7)
    # The figures' row is still there.
    assert "target 1.1x: met" in texts, joined
    for r in root.iter(SVG_NS + "rect"):
        assert float(r.get("height")) >= 0 and float(r.get("y")) >= 0


def test_svg_without_exit_tables():
    document = bench.svg(sample_figures(), [("lab 05 (Sstc)", None, "not printed"),
                                            ("lab 05 (no Sstc)", None, "not booted")])
    texts, _ = svg_texts(document)
    assert "exit counts: not printed by this hypervisor" in texts, texts
    assert "not printed" in texts and "not booted" in texts, texts
    assert "native: 0 (no hypervisor)" in texts, texts
    # No exits panel asked for: only the figures.
    texts, _ = svg_texts(bench.svg(sample_figures()))
    assert not any("xits" in t for t in texts), texts


def test_svg_one_way_only():
    m = bench.exit_medians([{"total": SAMPLE_TOTAL}])
    texts, _ = svg_texts(bench.svg(sample_figures()[:1], [("lab 05 (Sstc)", m, None),
                                                          ("lab 05 (no Sstc)", None,
                                                           "not booted")]))
    assert "timer interrupt: 2807 / -" in texts, texts


if __name__ == "__main__":
    sys.exit(gradelib.run_selftests(globals(), "bench-test"))
