"""The grader's results, written for people and for machines.

table()       the lab x SMP matrix of points and, per lab, points per check
to_json()     everything, for scripts (grader/class.py reads it back)
to_junit()    JUnit XML for CI systems; grader/junit.xsd is its schema
to_gradescope()  Gradescope's results.json

Every function takes the list of gradelib.Result the grader produced (one
per case run; with --repeat, several runs of a case have names ending in
-run1, -run2, ...). Python 3 standard library only.
"""
import json
import os
import re
import time
import xml.etree.ElementTree as ET

import gradelib

SMP_COLUMNS = (1, 2, 4, 8)


def lab_label(lab):
    return "native" if lab == "native" else f"lab {lab}"


def column(case):
    """Where a case goes in the matrix: its SMP for the plain cases (named
    lab3-smp4, native-smp1), "other" for the rest (crafted device trees,
    Linux, -accel variants, the fault cases)."""
    base = getattr(case, "base", case.name)
    prefix = "native" if case.lab == "native" else f"lab{case.lab}"
    if base == f"{prefix}-smp{case.smp}" and case.smp in SMP_COLUMNS:
        return case.smp
    return "other"


def cell(points, possible):
    return f"{points}/{possible}" if possible else "-"


def layout(rows, widths):
    """Rows of strings as lines: the first column left-aligned, the rest right."""
    out = []
    for row in rows:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    return out


def grid(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return layout(rows, widths)


def table(results, verbose=False):
    """The readable summary: per lab, the points of each check in each
    column, then the matrix of every lab. Cells are points earned/possible,
    summed over the column's cases (and runs). The checks worth no points
    in a lab (its infrastructure) get a row only with verbose."""
    labs = list(dict.fromkeys(r.case.lab for r in results))
    columns = [f"smp {n}" for n in SMP_COLUMNS] + ["other", "total"]
    keys = list(SMP_COLUMNS) + ["other"]
    out = []
    matrix = [[""] + columns]
    totals = {k: [0, 0] for k in keys}
    for lab in labs:
        mine = [r for r in results if r.case.lab == lab]
        per_check = {}  # check name -> column -> [earned, possible]
        for r in mine:
            for o in r.outcomes:
                sums = per_check.setdefault(o.name, {k: [0, 0] for k in keys})[column(r.case)]
                sums[0] += o.points if o.ok else 0
                sums[1] += o.points
        rows = [[lab_label(lab)] + columns]
        lab_sums = {k: [0, 0] for k in keys}
        hidden = 0
        for name, by_col in per_check.items():
            if not verbose and not any(v[1] for v in by_col.values()):
                hidden += 1
                continue
            row = [f"  {name}"]
            for k in keys:
                row.append(cell(*by_col[k]))
                lab_sums[k][0] += by_col[k][0]
                lab_sums[k][1] += by_col[k][1]
            row.append(cell(sum(v[0] for v in by_col.values()), sum(v[1] for v in by_col.values())))
            rows.append(row)
        lab_total = [sum(v[0] for v in lab_sums.values()), sum(v[1] for v in lab_sums.values())]
        rows.append(["  total"] + [cell(*lab_sums[k]) for k in keys] + [cell(*lab_total)])
        out += grid(rows)
        if hidden:
            out.append(f"  and {hidden} checks worth no points in {lab_label(lab)} "
                       "(what earlier labs built; -v lists them)")
        out.append("")
        matrix.append([lab_label(lab)] + [cell(*lab_sums[k]) for k in keys] + [cell(*lab_total)])
        for k in keys:
            totals[k][0] += lab_sums[k][0]
            totals[k][1] += lab_sums[k][1]
    if len(labs) == 1 and not verbose:
        return "\n".join(out[:-1])  # the matrix would repeat the lab's total
    grand = [sum(v[0] for v in totals.values()), sum(v[1] for v in totals.values())]
    matrix.append(["total"] + [cell(*totals[k]) for k in keys] + [cell(*grand)])
    return "\n".join(out + grid(matrix))


def case_json(r):
    c = r.case
    return {
        "case": c.name, "lab": c.lab, "smp": c.smp, "qemu_extra": c.qemu_extra,
        "run": getattr(c, "run", 1), "base": getattr(c, "base", c.name),
        "status": r.status, "timed_out": r.timed_out, "seconds": round(r.seconds, 3),
        "log": r.log,
        "checks": [{"name": o.name, "points": o.points, "ok": o.ok, "expected": o.expected,
                    "context": o.context} for o in r.outcomes],
    }


def totals(results):
    passed = failed = points = possible = 0
    for r in results:
        p, f, e, t = r.tally()
        passed, failed, points, possible = passed + p, failed + f, points + e, possible + t
    return {"passed": passed, "failed": failed, "points": points, "possible": possible}


def to_json(results, tree, seconds):
    return json.dumps({
        "tree": tree,
        "platform": gradelib.platform(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(seconds, 3),
        "totals": totals(results),
        "labs": {str(lab): totals([r for r in results if r.case.lab == lab])
                 for lab in dict.fromkeys(r.case.lab for r in results)},
        "cases": [case_json(r) for r in results],
    }, indent=1)


# XML 1.0 cannot hold most control characters even escaped; a guest that
# prints garbage must not make the report unreadable to a CI system.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(s):
    return _XML_BAD.sub("?", s)


def to_junit(results, seconds):
    """One <testsuite> per case run, one <testcase> per check; a failed
    check carries a <failure> with what was expected and the console lines
    around it. The element and attribute names are those of the schema
    that Jenkins and GitLab read (grader/junit.xsd)."""
    t = totals(results)
    root = ET.Element("testsuites", name="riscv-hyp-labs grader",
                      tests=str(t["passed"] + t["failed"]), failures=str(t["failed"]),
                      errors="0", time=f"{seconds:.3f}")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    for i, r in enumerate(results):
        passed, failed, _, _ = r.tally()
        suite = ET.SubElement(root, "testsuite", name=r.case.name, tests=str(passed + failed),
                              failures=str(failed), errors="0", skipped="0",
                              time=f"{r.seconds:.3f}", timestamp=stamp, hostname="localhost",
                              id=str(i), package=lab_label(r.case.lab))
        props = ET.SubElement(suite, "properties")
        for name, value in (("lab", r.case.lab), ("smp", r.case.smp),
                            ("qemu_extra", r.case.qemu_extra), ("log", r.log or "")):
            ET.SubElement(props, "property", name=name, value=xml_text(str(value)))
        for o in r.outcomes:
            tc = ET.SubElement(suite, "testcase", name=xml_text(o.name),
                               classname=r.case.name, time="0")
            if not o.ok:
                fail = ET.SubElement(tc, "failure", message=xml_text(o.expected), type="check")
                text = o.context + ([f"log: {r.log}"] if r.log else [])
                fail.text = xml_text("\n".join(text))
        ET.SubElement(suite, "system-out").text = xml_text(f"console log: {r.log or '(none)'}")
        ET.SubElement(suite, "system-err").text = ""
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def to_gradescope(results, seconds):
    """Gradescope's autograder results.json: one test per check of a case
    run, with its points; the failure report is the test's output."""
    tests = []
    for r in results:
        cause_of = {name: cause for cause, because in r.causes() for name in because}
        for o in r.outcomes:
            context = o.context
            if o.name in cause_of:  # the cause's own test shows the console
                context = [f"could not pass because {r.case.name}: {cause_of[o.name]} failed"]
            output = "" if o.ok else "\n".join([f"expected: {o.expected}"] + context)
            tests.append({"name": f"{r.case.name}: {o.name}", "score": o.points if o.ok else 0,
                          "max_score": o.points, "status": "passed" if o.ok else "failed",
                          "output": output, "visibility": "visible",
                          "tags": [lab_label(r.case.lab), f"smp {r.case.smp}"]})
    t = totals(results)
    return json.dumps({
        "score": t["points"],
        "execution_time": round(seconds),
        "output": table(results),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }, indent=1)


def gradescope_problems(data):
    """What makes data not a results.json Gradescope accepts (its spec:
    gradescope-autograders.readthedocs.io, "Output format"), or breaks the
    grader's own rule that a test scores 0 to max_score; [] if none."""
    problems = []
    visibility = {"hidden", "after_due_date", "after_published", "visible"}
    number = (int, float)
    if not isinstance(data, dict):
        return ["the top level is not an object"]
    if "score" not in data and not all("score" in t for t in data.get("tests", [])):
        problems.append("no score: neither at the top nor on every test")
    for key, kind in (("score", number), ("execution_time", number), ("output", str),
                      ("visibility", str), ("stdout_visibility", str), ("tests", list)):
        if key in data and not isinstance(data[key], kind):
            problems.append(f"{key} has the wrong type")
    for key in ("visibility", "stdout_visibility"):
        if data.get(key, "visible") not in visibility:
            problems.append(f"{key} {data[key]!r} is not one of {sorted(visibility)}")
    for i, t in enumerate(data.get("tests", [])):
        if not isinstance(t, dict):
            problems.append(f"test {i} is not an object")
            continue
        for key, kind in (("score", number), ("max_score", number), ("name", str),
                          ("output", str), ("status", str), ("tags", list)):
            if key in t and not isinstance(t[key], kind):
                problems.append(f"test {i} ({t.get('name')}): {key} has the wrong type")
        if t.get("status", "passed") not in ("passed", "failed"):
            problems.append(f"test {i}: status {t['status']!r} is not passed or failed")
        if t.get("visibility", "visible") not in visibility:
            problems.append(f"test {i}: visibility {t['visibility']!r}")
        if isinstance(t.get("score"), number) and isinstance(t.get("max_score"), number) \
                and not 0 <= t["score"] <= t["max_score"]:
            problems.append(f"test {i}: score {t['score']} outside 0..{t['max_score']}")
    return problems


def write_all(results, tree, seconds, json_path=None, junit_path=None, gradescope_path=None):
    """Writes the three machine reports, by default to tree/build/grade/
    (build/grade-<platform> on another platform): results.json, junit.xml,
    gradescope.json. Returns their paths."""
    out = os.path.join(tree, "build", gradelib.platform_dir("grade"))
    files = [(json_path or os.path.join(out, "results.json"), to_json(results, tree, seconds)),
             (junit_path or os.path.join(out, "junit.xml"), to_junit(results, seconds)),
             (gradescope_path or os.path.join(out, "gradescope.json"),
              to_gradescope(results, seconds))]
    for path, text in files:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return [path for path, _ in files]
