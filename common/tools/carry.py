#!/usr/bin/env python3
"""make carry LAB=N: brings your solutions of the earlier labs into lab N.

    python3 common/tools/carry.py --lab N [--tree DIR] [--dry-run]

In the whole-course handout every lab's directory has every region a
student writes stubbed, between two comments:

    /* Lab 3: start each secondary with hart_start, wait until it is online. */
    (void)hsm_state_name;
    /* Lab 3: up to here. */

Lab N's directory is a copy of lab N-1's plus lab N's lesson, so it holds
the regions of labs 1 to N-1 again, stubbed. This copies the text between
the two comments of each region of an earlier lab from labs/0(N-1)-*/ into
the same region, in the same file, of labs/0N-*/: your lab N then starts
from your lab N-1, as the solution's lab N starts from its lab N-1. The
regions of lab N itself, and everything outside the regions, stay as they
are. Commit first: a carried region replaces what lab N's copy held.

Regions are matched by file, lab and the text of the first comment, in
order; a region that lab N has and lab N-1 has not (its comment was
edited) is an error, and nothing is written. Exit status 0 when done (or
nothing to do), 1 on an error, with the reason.
"""
import argparse
import os
import re
import sys

START = re.compile(r"^\s*/\* Lab (\d): (.+)\. \*/$")
STOP = re.compile(r"^\s*/\* Lab (\d): up to here\. \*/$")
SOURCES = (".c", ".h", ".S")


class CarryError(Exception):
    pass


def regions(text, where):
    """The regions of text: a list of (lab, what, first line, end line),
    the lines between the two comments being lines[first:end]."""
    found, lines, open_at = [], text.split("\n"), None
    for i, line in enumerate(lines):
        stop, start = STOP.match(line), START.match(line)
        if stop:
            if open_at is None or int(stop.group(1)) != found[-1][0]:
                raise CarryError(f"{where}:{i + 1}: 'Lab {stop.group(1)}: up to here' "
                                 "without its opening comment")
            found[-1] = found[-1][:3] + (i,)
            open_at = None
        elif start:
            if open_at is not None:
                raise CarryError(f"{where}:{i + 1}: a region opens inside the region of "
                                 f"line {open_at + 1}")
            found.append((int(start.group(1)), start.group(2), i + 1, None))
            open_at = i
    if open_at is not None:
        raise CarryError(f"{where}:{open_at + 1}: the region has no 'up to here' comment")
    return found


def lab_dir(tree, n):
    """labs/0n-<name> in tree, or None."""
    labs = os.path.join(tree, "labs")
    names = [d for d in sorted(os.listdir(labs)) if d.startswith(f"0{n}-")] \
        if os.path.isdir(labs) else []
    return os.path.join(labs, names[0]) if names else None


def carry_file(src_text, dst_text, n, where, src_where):
    """dst_text (of file `where`) with each region of a lab before n
    replaced by the same region of src_text (of file `src_where`). Returns
    (new text, [(lab, what, changed)])."""
    src_lines, dst_lines = src_text.split("\n"), dst_text.split("\n")
    src = {}
    for lab, what, first, end in regions(src_text, src_where):
        src.setdefault((lab, what), []).append(src_lines[first:end])
    out, done, cursor, seen = [], [], 0, {}
    for lab, what, first, end in regions(dst_text, where):
        if lab >= n:
            continue
        k = seen[(lab, what)] = seen.get((lab, what), -1) + 1
        bodies = src.get((lab, what), [])
        if k >= len(bodies):
            raise CarryError(f"{where}:{first}: {src_where} has no region 'Lab {lab}: {what}.' "
                             "to bring here (was its comment edited?)")
        out += dst_lines[cursor:first] + bodies[k]
        done.append((lab, what, bodies[k] != dst_lines[first:end]))
        cursor = end
    return "\n".join(out + dst_lines[cursor:]), done


def carry(tree, n, dry_run=False):
    """Carries the regions of labs before n from lab n-1 into lab n. Returns
    the lines of its report. Writes nothing unless every file carried."""
    if not 2 <= n <= 9:
        raise CarryError(f"LAB={n}: give the lab to carry into, 2 or later")
    src_dir, dst_dir = lab_dir(tree, n - 1), lab_dir(tree, n)
    if dst_dir is None or src_dir is None:
        raise CarryError(f"no labs/0{n - 1}-* and labs/0{n}-* in {tree}")
    writes, report = [], []
    for top, _, files in sorted(os.walk(dst_dir)):
        for name in sorted(f for f in files if f.endswith(SOURCES)):
            dst = os.path.join(top, name)
            rel = os.path.relpath(dst, dst_dir)
            where = os.path.relpath(dst, tree)
            src = os.path.join(src_dir, rel)
            with open(dst) as f:
                dst_text = f.read()
            if not any(lab < n for lab, _, _, _ in regions(dst_text, where)):
                continue
            if not os.path.exists(src):
                raise CarryError(f"{where} has regions of earlier labs, but "
                                 f"{os.path.relpath(src, tree)} does not exist")
            with open(src) as f:
                text, done = carry_file(f.read(), dst_text, n, where, os.path.relpath(src, tree))
            for lab, what, changed in done:
                report.append(f"  {where}: lab {lab}, {what}: "
                              + ("carried" if changed else "the same already"))
            if text != dst_text:
                writes.append((dst, text))
    if not report:
        return [f"carry: lab {n} has no regions of earlier labs to carry (the handout of one "
                "assignment comes with them solved)"]
    if not dry_run:
        for path, text in writes:
            with open(path, "w") as f:
                f.write(text)
    verb = "would change" if dry_run else "changed"
    return ([f"carry: from {os.path.relpath(src_dir, tree)} into {os.path.relpath(dst_dir, tree)}:"]
            + report + [f"carry: {verb} {len(writes)} files"])


def main():
    ap = argparse.ArgumentParser(description="Bring your earlier labs' regions into lab N.")
    ap.add_argument("--lab", type=int, required=True, help="the lab to carry into (2 to 5)")
    ap.add_argument("--tree", default=".", help="the checkout (default: here)")
    ap.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    args = ap.parse_args()
    try:
        print("\n".join(carry(os.path.abspath(args.tree), args.lab, args.dry_run)))
    except (CarryError, OSError) as e:
        print(f"carry: error: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
