#!/usr/bin/env python3
"""make format-check: every tracked file against the house style.

C sources and headers must be as clang-format leaves them (.clang-format);
every text file must follow .editorconfig: LF line ends, no trailing
whitespace, a final newline, and the indentation style of its kind (tabs for
C, assembly, make and shell; spaces for Python). Each bad file is named with its first problem
and the command that fixes it; the last line is 'format: N passed, N failed'
(files). Exits 1 if any file failed.
"""
import fnmatch
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLANG_FORMAT = "clang-format"
# .clang-format is tuned to this major version; others may format differently.
CLANG_FORMAT_MAJOR = 14


def tracked_files():
    """The files git tracks; in a copy that is not a git checkout (a handout,
    an unpacked archive), every file outside build/, .git/ and __pycache__/."""
    r = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True)
    if r.returncode == 0 and r.stdout:
        return sorted(f for f in r.stdout.split("\0") if f and os.path.isfile(os.path.join(ROOT, f)))
    files = []
    for d, dirs, names in os.walk(ROOT):
        rel = os.path.relpath(d, ROOT)
        dirs[:] = [x for x in dirs if x not in (".git", "__pycache__") and not (rel == "." and x == "build")]
        files += [os.path.normpath(os.path.join(rel, n)) for n in names]
    return sorted(files)


def editorconfig_sections():
    """[(patterns, properties)] from .editorconfig, in file order. Only what
    ours uses: sections of basename globs, with {a,b} lists."""
    sections = []
    with open(os.path.join(ROOT, ".editorconfig")) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            m = re.fullmatch(r"\[(.*)\]", line)
            if m:
                glob = m.group(1)
                b = re.fullmatch(r"\{(.*)\}", glob)
                sections.append((b.group(1).split(",") if b else [glob], {}))
            elif sections and "=" in line:
                key, value = (s.strip() for s in line.split("=", 1))
                sections[-1][1][key] = value.lower()
    return sections


def rules_for(path, sections):
    """The properties for one file: later sections override earlier ones."""
    props = {}
    for patterns, p in sections:
        if any(fnmatch.fnmatchcase(os.path.basename(path), g) for g in patterns):
            props.update(p)
    return props


def editorconfig_problem(path, props):
    """The first .editorconfig rule the file breaks, as (problem, fix), or
    None. Binary files (with a NUL byte) are skipped."""
    with open(os.path.join(ROOT, path), "rb") as f:
        data = f.read()
    if b"\0" in data:
        return None
    text = data.decode("utf-8", errors="replace")
    if props.get("end_of_line") == "lf" and "\r" in text:
        return "CR in line ends (LF only)", f"sed -i 's/\\r$//' {path}"
    if props.get("insert_final_newline") == "true" and text and not text.endswith("\n"):
        return "no newline at the end", f"echo >> {path}"
    tab_width = int(props.get("tab_width", props.get("indent_size", "8")))
    for n, line in enumerate(text.split("\n"), 1):
        if props.get("trim_trailing_whitespace") == "true" and line != line.rstrip():
            return f"line {n}: trailing whitespace", f"sed -i 's/[ \\t]*$//' {path}"
        indent = line[:len(line) - len(line.lstrip(" \t"))]
        if not line.strip():
            continue
        style = props.get("indent_style")
        # Tabs, then fewer spaces than a tab to line up with something above.
        if style == "tab" and (" \t" in indent or " " * tab_width in indent):
            return f"line {n}: indented with spaces, not tabs", f"re-indent line {n} with tabs"
        if style == "space" and "\t" in indent:
            return f"line {n}: indented with a tab, not spaces", f"re-indent line {n} with spaces"
    return None


def clang_format_problems(paths):
    """{path: (problem, fix)} for the files clang-format would change. One
    run for all of them: clang-format takes longer to start than to format."""
    if not paths:
        return {}
    r = subprocess.run([CLANG_FORMAT, "--style=file", "--dry-run", "--Werror"] + paths,
                       cwd=ROOT, capture_output=True, text=True)
    problems = {}
    # "FILE:LINE:COL: error: code should be clang-formatted [...]", for each
    # place; the first one of each file is enough to name it.
    for m in re.finditer(r"^(.+?):(\d+):\d+: error: code should be clang-formatted", r.stderr, re.M):
        problems.setdefault(m.group(1), (f"line {m.group(2)}: not formatted as .clang-format says",
                                         f"clang-format -i {m.group(1)}"))
    if r.returncode != 0 and not problems:
        # clang-format itself failed (a bad .clang-format, say): no file passes.
        why = (r.stderr.strip().splitlines() or [f"clang-format exited with {r.returncode}"])[0]
        problems = {p: (why, "see the clang-format error above") for p in paths}
        print(r.stderr, end="", file=sys.stderr)
    return problems


def main():
    try:
        out = subprocess.run([CLANG_FORMAT, "--version"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        print(f"error: {CLANG_FORMAT} not found: run 'make setup'", file=sys.stderr)
        return 2
    m = re.search(r"version (\d+)", out)
    if m and int(m.group(1)) != CLANG_FORMAT_MAJOR:
        print(f"format: note: {out.strip()}; .clang-format is tuned for clang-format {CLANG_FORMAT_MAJOR}")

    sections = editorconfig_sections()
    files = tracked_files()
    c_problems = clang_format_problems([p for p in files if p.endswith((".c", ".h"))])
    passed = failed = 0
    for path in files:
        problem = editorconfig_problem(path, rules_for(path, sections)) or c_problems.get(path)
        if problem is None:
            passed += 1
            continue
        failed += 1
        what, fix = problem
        print(f"FAIL {path}: {what}; fix: {fix}")
    print(f"format: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
