#!/usr/bin/env python3
"""A grade for GitHub Classroom: reads the grader's results.json (grade.py
--json, report.to_json) and prints what GitHub Classroom's reporter
(classroom-resources/autograding-grading-reporter@v1) reads from the
environment variable <RUNNER>_RESULTS: base64 of the JSON object

    {"version": 1, "status": "pass" | "fail" | "error", "max_score": P,
     "tests": [{"name", "status", "score", "message", "line_no", ...}]}

the shape its command grader (autograding-command-grader) writes. One test
per check worth points of each case run ("lab3-smp4: ipis"), scoring its
points if it passed, else 0. The reporter sends Classroom the sum of the
scores out of max_score; the table it logs instead scales max_score by
the share of tests passed, which is the same number while every check is
worth 1 point, as all are now. "pass" only when every check passed, those
worth no points included: the grader's own verdict (its exit status).

    python3 grader/classroom.py RESULTS            the base64 line
    python3 grader/classroom.py --summary RESULTS  Markdown for $GITHUB_STEP_SUMMARY

--status N is the grader's exit status: named when it left no results.
grader/gradescope/classroom.yml is the workflow that runs both.
Python 3 standard library only.
"""
import argparse
import base64
import json
import sys


def load(path):
    """(data, None), or (None, why) when the grader left nothing usable."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        return None, f"no grader results in {path}: {e}"
    if not isinstance(data, dict) or not {"totals", "labs", "cases"} <= data.keys():
        return None, f"{path} is not the grader's results.json (grade.py --json)"
    return data, None


def stopped(why, status):
    return why + ("" if status is None else f" (the grader exited with status {status})")


def payload(data):
    tests = []
    possible = 0
    for case in data["cases"]:
        for check in case["checks"]:
            if check["points"]:
                possible += check["points"]
                tests.append({
                    "name": f"{case['case']}: {check['name']}",
                    "status": "pass" if check["ok"] else "fail",
                    "score": check["points"] if check["ok"] else 0,
                    "message": "" if check["ok"] else f"expected: {check['expected']}",
                    # The reporter prints "- line N" for a line_no other than 0.
                    "line_no": 0,
                    "filename": "",
                })
    t = data["totals"]
    return {"version": 1,
            "status": "pass" if data["cases"] and t["failed"] == 0 else "fail",
            "max_score": possible,
            "tests": tests}


def error_payload(message):
    """No results: one errored test, which the reporter prints with its
    message, and fails the job on. max_score 0 sends Classroom no points."""
    return {"version": 1, "status": "error", "max_score": 0,
            "tests": [{"name": "grader", "status": "error", "score": 0, "message": message,
                       "line_no": 0, "filename": ""}]}


def encode(result):
    return base64.b64encode(json.dumps(result).encode()).decode()


def cell(text):
    """Text as a code span in a Markdown table cell: no markup inside (the
    expectations are regexes), and a '|' escaped, as GitHub's tables ask."""
    return "`" + " ".join(text.replace("`", "'").split()).replace("|", "\\|") + "`" if text else ""


def summary(data, status):
    t = data["totals"]
    labs = ", ".join(f"lab {n}" for n in data["labs"])
    out = [f"## Grade: {t['points']}/{t['possible']} points ({labs})", "",
           f"{t['passed'] + t['failed']} checks in {len(data['cases'])} boots: "
           f"{t['passed']} passed, {t['failed']} failed"
           + ("." if status is None else f"; the grader exited with status {status}."), ""]
    rows = [(c["case"], k) for c in data["cases"] for k in c["checks"]
            if k["points"] or not k["ok"]]
    if any(not k["ok"] and not k["points"] for _, k in rows):
        out += ["A check worth 0 points judges what an earlier lab built: it earns "
                "nothing, but it must pass too.", ""]
    if t["failed"]:
        out += ["`make grade` shows each failure with its console lines, its cause first.", ""]
    out += ["| | case | check | points | expected |", "|---|---|---|---|---|"]
    # The failures first: they are what a student reads this for.
    for case, k in sorted(rows, key=lambda row: row[1]["ok"]):
        out.append(f"| {'pass' if k['ok'] else '**FAIL**'} | {case} | {k['name']} | "
                   f"{k['points'] if k['ok'] else 0}/{k['points']} | "
                   f"{'' if k['ok'] else cell(k['expected'])} |")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description="The grader's results for GitHub Classroom.")
    parser.add_argument("results", help="the grader's results.json (grade.py --json)")
    parser.add_argument("--summary", action="store_true",
                        help="print a Markdown summary instead of the reporter's base64")
    parser.add_argument("--status", type=int, help="the grader's exit status")
    args = parser.parse_args()
    data, why = load(args.results)
    if args.summary:
        print(summary(data, args.status) if data else f"## No grade\n\n{stopped(why, args.status)}")
    else:
        print(encode(payload(data) if data else error_payload(stopped(why, args.status))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
