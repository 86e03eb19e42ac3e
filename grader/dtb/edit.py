#!/usr/bin/env python3
"""Edits QEMU's own device tree (as .dts text) into a faulty one, for the
grader's lab 02+ cases. Usage: edit.py NAME < virt.dts > NAME.dts

Each edit is one small, named change; QEMU boots the result with -dtb.
"""
import re
import sys


def node_span(dts, name):
    """(start, end) of the text of node `name { ... };` (not nested-aware
    beyond one level of children, which is all a cpu node has)."""
    start = dts.index(f"\t{name} {{")
    depth, i = 0, start
    while True:
        if dts[i] == "{":
            depth += 1
        elif dts[i] == "}":
            depth -= 1
            if depth == 0:
                return start, dts.index(";", i) + 1
        i += 1


def in_node(dts, name, old, new):
    """Replaces the first `old` (a regex) inside node `name`."""
    start, end = node_span(dts, name)
    body, n = re.subn(old, new, dts[start:end], count=1)
    if n != 1:
        sys.exit(f"edit.py: '{old}' not found in {name}")
    return dts[:start] + body + dts[end:]


EDITS = {
    # OpenSBI leaves a disabled hart out; the hypervisor must too.
    "cpu1-disabled": lambda d: in_node(d, "cpu@1", r'status = "okay"', 'status = "disabled"'),
    # The tree says hart 2 has no H extension (QEMU's hart has it).
    "cpu2-no-h": lambda d: drop_h(d, "cpu@2"),
    # No /memory node at all.
    "no-memory": lambda d: d[:node_span(d, "memory@80000000")[0]] + d[node_span(d, "memory@80000000")[1]:],
    # A cpu without its reg (hart id).
    "cpu3-no-reg": lambda d: in_node(d, "cpu@3", r"reg = <0x03>;", ""),
    # A fifth cpu, hart 9, that QEMU does not have: started, it never comes.
    "extra-cpu9": lambda d: add_cpu9(d),
    # The same hart 9, listed first: the harts in use must still number 0..3.
    "extra-cpu9-first": lambda d: add_cpu9(d, first=True),
}


def drop_h(dts, cpu):
    """Takes 'h' out of the cpu's riscv,isa and, where the tree has it (QEMU
    8.2 and later), out of its riscv,isa-extensions list too, so that both
    bindings agree."""
    dts = in_node(dts, cpu, r'riscv,isa = "rv64imafdch', 'riscv,isa = "rv64imafdc')
    if "riscv,isa-extensions" in dts[slice(*node_span(dts, cpu))]:
        dts = in_node(dts, cpu, r'(riscv,isa-extensions = "[^"]*?)\\0h\\0', r"\1\\0")
    return dts


def add_cpu9(dts, first=False):
    """Copies cpu@3 as cpu@9 (without phandles, which must stay unique),
    after cpu@3 or before cpu@0."""
    start, end = node_span(dts, "cpu@3")
    node = dts[start:end].replace("cpu@3", "cpu@9").replace("reg = <0x03>", "reg = <0x09>")
    node = re.sub(r"\s*phandle = <0x[0-9a-f]+>;", "", node)
    at = node_span(dts, "cpu@0")[0] if first else end
    return dts[:at] + node + "\n" + dts[at:]

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in EDITS:
        sys.exit(f"usage: edit.py {{{','.join(EDITS)}}} < in.dts > out.dts")
    sys.stdout.write(EDITS[sys.argv[1]](sys.stdin.read()))
