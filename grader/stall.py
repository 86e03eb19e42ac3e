"""What a stalled guest waits for, asked of QEMU itself.

A Linux guest whose hypervisor loses an IPI or a timer does not crash: its
vCPUs sleep in wfi, or spin waiting for each other, and the console falls
silent until the grader's timeout. When a case's console stays silent for
Case.stall seconds, the grader stops the run early and asks QEMU, through
its QMP socket, where each hart is, a few times in a row (sample): in the
guest (V=1) or in the hypervisor, at which pc, and which of the guest's
interrupts (software, timer, external) are pending and enabled. diagnose()
names the functions (the hypervisor's from hyp.elf, Linux's from its
System.map), says for each vCPU what it does, and, where the picture is
clear, what is missing.

Python 3 standard library only. QMP: docs/interop/qmp-spec in QEMU; its
human-monitor-command runs an HMP command such as "info registers -a".
"""
import bisect
import json
import re
import socket
import struct
import time

# The guest's interrupts, as bits of hvip/hip (= the VS bits of QEMU's mip):
# the privileged spec's H chapter, "Hypervisor Interrupt Registers".
GUEST_IRQS = ((2, "software"), (6, "timer"), (10, "external"))
SAMPLES = 5          # register snapshots taken
SAMPLE_GAP = 0.2     # seconds between them

# Linux 6.1's functions where a vCPU waits for others to answer its IPI
# (kernel/smp.c) and where an idle vCPU sleeps (arch/riscv/kernel/process.c,
# kernel/sched/idle.c).
WAITS_FOR_IPI = ("smp_call_function", "csd_lock_wait", "on_each_cpu", "flush_tlb",
                 "multi_cpu_stop", "stop_machine", "synchronize_rcu", "wait_for_completion")
IDLE = ("arch_cpu_idle", "default_idle_call", "cpu_idle", "do_idle")


class QMP:
    """A connection to QEMU's QMP socket (QEMU's -qmp unix:PATH,server,nowait)."""

    def __init__(self, path, timeout=2.0):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.read()  # the greeting
        self.execute("qmp_capabilities")

    def read(self):
        """One JSON message: QMP ends each with a newline."""
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise OSError("QMP socket closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, **arguments):
        self.sock.sendall(json.dumps({"execute": command, "arguments": arguments}).encode())
        while True:
            msg = self.read()
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise OSError(f"QMP {command}: {msg['error'].get('desc')}")
            # Anything else is an asynchronous event: skip it.

    def hmp(self, command):
        return self.execute("human-monitor-command", **{"command-line": command})

    def close(self):
        self.sock.close()


def parse_registers(text):
    """'info registers -a' as {cpu index: {register: int}}. QEMU prints a
    block per CPU ("CPU#2"), a line " V      =   1" and lines of a name
    and a hexadecimal value (" pc       ffffffff8003f76e")."""
    cpus, regs = {}, None
    for line in text.splitlines():
        m = re.match(r"^CPU#(\d+)", line.strip())
        if m:
            regs = cpus.setdefault(int(m.group(1)), {})
            continue
        if regs is None:
            continue
        for name, value in re.findall(r"(?:^|\s)([A-Za-z][\w/]*)\s+=?\s*([0-9a-f]{1,16})(?=\s|$)",
                                      line.strip()):
            regs.setdefault(name.split("/")[0], int(value, 16))
    return cpus


def sample(path, samples=SAMPLES, gap=SAMPLE_GAP):
    """Register snapshots of every CPU, taken through the QMP socket at
    path: a list of parse_registers() results; [] if QEMU cannot answer."""
    try:
        qmp = QMP(path)
    except (OSError, ValueError):
        return []
    shots = []
    try:
        for i in range(samples):
            if i:
                time.sleep(gap)
            shots.append(parse_registers(qmp.hmp("info registers -a")))
    except (OSError, ValueError):
        pass
    finally:
        qmp.close()
    return [s for s in shots if s]


# ---- symbols ----

def elf_functions(path):
    """[(address, name)] of an ELF64 file's symbols that name code (FUNC,
    and the NOTYPE labels of assembly), sorted; [] if it cannot be read."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return []
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3a)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    out = []
    for _, kind, _, _, offset, size, link, _, _, entsize in sections:
        if kind != 2 or not entsize:  # SHT_SYMTAB
            continue
        strtab = sections[link][4]
        for k in range(size // entsize):
            name, info, _, shndx, value, _ = struct.unpack_from("<IBBHQQ", data, offset + k * entsize)
            if shndx == 0 or (info & 0xf) not in (0, 2) or not name:  # NOTYPE, FUNC
                continue
            end = data.index(b"\0", strtab + name)
            label = data[strtab + name:end].decode(errors="replace")
            if not label.startswith(".L") and not label.startswith("$"):
                out.append((value, label))
    return sorted(out)


def system_map(path):
    """[(address, name)] of the code symbols (t, T, w, W) in a System.map."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[1] in "tTwW":
                    out.append((int(parts[0], 16), parts[2]))
    except (OSError, ValueError):
        return []
    return sorted(out)


def symbolize(symbols, pc):
    """'name+0xoff' for pc, or its hexadecimal value when no symbol covers it."""
    i = bisect.bisect_right(symbols, (pc, "\uffff")) - 1
    if i < 0 or pc - symbols[i][0] > 0x10000:
        return f"{pc:#x}"
    base, name = symbols[i]
    return name if pc == base else f"{name}+{pc - base:#x}"


# ---- the diagnosis ----

def irq_names(bits):
    names = [name for bit, name in GUEST_IRQS if bits & (1 << bit)]
    return ", ".join(names) if names else "none"


def vcpu_of_hart(lines):
    """{hart id: vCPU id} from the hypervisor's lines 'hyp: hart H: vCPU V created'."""
    found = {}
    for line in lines:
        m = re.search(r"^hyp: hart (\d+): vCPU (\d+) created", line)
        if m:
            found[int(m.group(1))] = int(m.group(2))
    return found


def diagnose(shots, lines, hyp_symbols, guest_symbols):
    """Lines that say, for each hart of the snapshots, where it was and what
    its vCPU waits for, then what is missing where that is clear."""
    if not shots:
        return ["QEMU did not answer on its QMP socket: no picture of the harts"]
    vcpus = vcpu_of_hart(lines)
    out, idle_quiet, ipi_waiters, in_hyp = [], [], [], []
    for cpu in sorted(shots[-1]):
        seen = [s[cpu] for s in shots if cpu in s]
        hart = seen[-1].get("mhartid", cpu)
        who = f"hart {hart}" + (f" (vCPU {vcpus[hart]})" if hart in vcpus else "")
        places = []
        for regs in seen:
            guest = regs.get("V", 0) == 1
            where = symbolize(guest_symbols if guest else hyp_symbols, regs.get("pc", 0))
            place = f"{'guest' if guest else 'hypervisor'} {where}"
            if place not in places:
                places.append(place)
        last = seen[-1]
        pending = last.get("mip", 0) & last.get("hideleg", 0)
        enabled = last.get("mie", 0) & last.get("hideleg", 0)
        ever = 0  # guest interrupts pending in any sample
        for regs in seen:
            ever |= regs.get("mip", 0) & regs.get("hideleg", 0)
        funcs = " ".join(places)
        out.append(f"{who}: {', '.join(places[:3])}{' ...' if len(places) > 3 else ''}; "
                   f"guest interrupts enabled: {irq_names(enabled)}, pending: {irq_names(pending)}")
        label = f"vCPU {vcpus[hart]}" if hart in vcpus else f"hart {hart}"
        if any(f in funcs for f in WAITS_FOR_IPI):
            ipi_waiters.append(label)
        elif any(f in funcs for f in IDLE) and not ever:
            idle_quiet.append(label)
        elif all(p.startswith("hypervisor") for p in places):
            in_hyp.append(label)
    if ipi_waiters and idle_quiet:
        out.append(f"missing: {', '.join(ipi_waiters)} wait for other vCPUs to answer an IPI, "
                   f"and {', '.join(idle_quiet)} sleep in wfi with no interrupt pending: "
                   "most likely the guest's IPIs (SBI send_ipi) do not reach their vCPUs")
    elif idle_quiet and len(idle_quiet) == len(shots[-1]):
        out.append("missing: every vCPU sleeps in wfi with no interrupt pending: a timer "
                   "(SBI set_timer) or an IPI (SBI send_ipi) the guest waits for never came")
    elif in_hyp and len(in_hyp) == len(shots[-1]):
        out.append("missing: every hart stayed in the hypervisor while sampled: no vCPU runs")
    return out
