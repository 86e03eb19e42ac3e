#!/usr/bin/env python3
"""Checks how the labs' modules may include each other.

    python3 common/tools/layers.py [--selftest]

Two rules, for every lab directory:

- The headers' own includes form no cycle (a.h includes b.h includes a.h).
- A module includes no header of a module above it. LAYERS lists, lowest
  first, the modules that form layers: physical harts (hart) know nothing
  of the virtual machine (vm) or its vCPUs (vcpu), and a vCPU (vcpu)
  nothing of the VM that holds it (vm). main.c, at the top, may include
  anything.

Some modules do call each other on purpose, and are left alone: console
and machine (a panic prints, then stops the machine), vcpu and vsbi (an
exit is an SBI call, whose answer starts or stops vCPUs, as KVM's
vcpu_exit and vcpu_sbi), trap and vcpu (trap.S uses struct vcpu's
offsets). Closes with 'layers: N passed, N failed'.
"""
import os
import re
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INCLUDE = re.compile(r'^#include "(\w+)\.h"', re.M)

# Lowest first: a module may include the headers of those before it only.
LAYERS = ("hart", "vcpu", "vm")


def includes(lab_dir):
    """{file name: [module names it includes]} for the lab's own headers."""
    found = {}
    for name in sorted(os.listdir(lab_dir)):
        if name.endswith((".c", ".h", ".S")):
            with open(os.path.join(lab_dir, name)) as f:
                found[name] = [m for m in INCLUDE.findall(f.read())
                               if os.path.exists(os.path.join(lab_dir, m + ".h"))]
    return found


def header_cycle(found):
    """A cycle of header includes, as a list of names, or None."""
    graph = {n[:-2]: deps for n, deps in found.items() if n.endswith(".h")}

    def visit(node, path):
        for dep in graph.get(node, ()):
            if dep in path:
                return path[path.index(dep):] + [dep]
            cycle = visit(dep, path + [dep])
            if cycle:
                return cycle
        return None
    for node in graph:
        cycle = visit(node, [node])
        if cycle:
            return cycle
    return None


def problems(lab_dir):
    found = includes(lab_dir)
    out = []
    cycle = header_cycle(found)
    if cycle:
        out.append("headers include each other: " + " -> ".join(c + ".h" for c in cycle))
    for name, deps in found.items():
        module = name.rsplit(".", 1)[0]
        if module not in LAYERS:
            continue
        above = LAYERS[LAYERS.index(module) + 1:]
        for dep in deps:
            if dep in above:
                out.append(f"{name} includes {dep}.h, a layer above {module} ({' < '.join(LAYERS)})")
    return out


def check(root):
    labs = os.path.join(root, "labs")
    passed = failed = 0
    for lab in sorted(d for d in os.listdir(labs) if re.fullmatch(r"\d\d-.+", d)):
        found = problems(os.path.join(labs, lab))
        if found:
            failed += 1
            print(f"FAIL labs/{lab}: " + "; ".join(found))
        else:
            passed += 1
            print(f"PASS labs/{lab}: headers without cycles, layers {' < '.join(LAYERS)} kept")
    return passed, failed


def selftest():
    """Both rules fail on a tree that breaks them."""
    ok = 0
    with tempfile.TemporaryDirectory() as tmp:
        lab = os.path.join(tmp, "labs", "01-x")
        os.makedirs(lab)

        def write(name, *deps):
            with open(os.path.join(lab, name), "w") as f:
                f.write("".join(f'#include "{d}.h"\n' for d in deps))
        for name in ("hart.h", "vcpu.h", "vm.h"):
            write(name)
        write("hart.c", "hart")
        write("a.h", "b")
        write("b.h")
        ok += problems(lab) == []
        write("b.h", "a")
        ok += any("a.h -> b.h -> a.h" in p for p in problems(lab))
        write("b.h")
        write("hart.c", "hart", "vm")
        ok += any("hart.c includes vm.h" in p for p in problems(lab))
    print(f"layers selftest: {ok} passed, {3 - ok} failed")
    return 0 if ok == 3 else 1


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    passed, failed = check(ROOT)
    print(f"layers: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
