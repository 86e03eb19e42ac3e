# The gdb sessions of README section 7, checked by `make walkthrough LAB=1`
# (grader/walkthrough.py) against QEMU halted at the reset vector.
#   # session: SMP=2      a new QEMU with these make variables, and a new gdb
#   # expect: REGEX       the output of the command above has a line that
#                         REGEX matches (Python re.search), after the line
#                         that the command's previous expect matched
#   # expect N: REGEX     exactly N lines of that output match REGEX
# Expectations name functions, fields and CSR values, not addresses or line
# numbers, and hold whichever hart wins the boot lottery.

# session: SMP=2

# Up to the guest's entry.
break vcpu_run
# expect: ^Breakpoint 1 at 0x[0-9a-f]+: file labs/01-boot/vcpu\.c, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 1, vcpu_run \(v=v@entry=0x[0-9a-f]+ <vcpu0>\) at labs/01-boot/vcpu\.c:\d+$
info threads
# expect 2: ^[ *] +\d +Thread 1\.\d \(CPU#\d
# expect 1: ^\* +\d +Thread .* vcpu_run \(
# The other hart: in OpenSBI, or still in QEMU's reset code at 0x1000.
# expect 1: ^  +\d +Thread .* 0x0000000(0800[0-7][0-9a-f]{4}|000001[0-9a-f]{3}) in \?\? \(\)$
bt
# expect: ^#0  vcpu_run \(
# expect: ^#1  0x[0-9a-f]+ in hyp_main \(hartid=[01], fdt=<optimized out>\) at labs/01-boot/main\.c:\d+$
# expect: ^#2  0x[0-9a-f]+ in image_start \(\) at labs/01-boot/entry\.S:\d+$
p/x vcpu0.ctx.guest[10]
# expect: = 0x0$
p/x vcpu0.ctx.guest[11]
# expect: = 0x87e00000$
p/x vcpu0.pc
# expect: = 0x80200000$
p/x $hgatp
# expect: = 0x8000000000[0-9a-f]{6}$
p/a ($hgatp & 0xfffffffffff) << 12
# expect: = 0x[0-9a-f]+ <gstage_root>$
p/x $hedeleg
# expect: = 0x0$
p guest_gstage
# expect: = \{root = 0x[0-9a-f]+ <gstage_root>, pool = 0x[0-9a-f]+ <gstage_pool>, pool_size = 8, pool_used = 1\}$
p/x gstage_root[2]
# expect: = 0x[0-9a-f]+[048c]01$
p/a (gstage_root[2] >> 10) << 12
# expect: = 0x[0-9a-f]+ <gstage_pool>$
p/x gstage_pool[0][0]
# expect: = 0x240000df$
p/x gstage_pool[0][63]
# expect: = 0x25f800df$
p/x gstage_pool[0][64]
# expect: = 0x0$

# The world switch.
break vcpu_enter
# expect: ^Breakpoint 2 at 0x[0-9a-f]+: file labs/01-boot/trap\.S, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 2, vcpu_enter \(\) at labs/01-boot/trap\.S:\d+$
bt
# expect: ^#0  vcpu_enter \(\)
# expect: ^#1  0x[0-9a-f]+ in vcpu_run \(
# expect: ^#2  0x[0-9a-f]+ in hyp_main \(
# expect: ^#3  0x[0-9a-f]+ in image_start \(\)
p/x $hedeleg
# expect: = 0xb15d$
p/x $hideleg
# expect: = 0x444$
p/x $hstatus
# expect: = 0x200000080$
p/x $sstatus
# expect: = 0x8000000200006100$
p/x $sepc
# expect: = 0x80200000$
p/x $sscratch
# expect: = 0x0$
break trap_vector
# expect: ^Breakpoint 3 at 0x[0-9a-f]+: file labs/01-boot/trap\.S, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 3, trap_vector \(\) at labs/01-boot/trap\.S:\d+$
p/x $scause
# expect: = 0xa$
p/x $sepc
# expect: = 0x802[0-9a-f]{5}$
p/x $hstatus
# expect: = 0x200000180$
p/a $sscratch
# expect: = 0x[0-9a-f]+ <vcpu0>$
p/x $a7
# expect: = 0x1$
p/x $a0
# expect: = 0x67$
x/i $sepc
# expect: ^ +0x802[0-9a-f]{5}
# expect 0: ecall
x/i $sepc + 0x10000000
# expect: ^ +0x902[0-9a-f]{5}:\s+ecall$

# The exit, in C. The guest's s0, which trap.S never saves.
p/x $s0
# expect: = 0x[0-9a-f]+$
break vcpu_exit
# expect: ^Breakpoint 4 at 0x[0-9a-f]+: file labs/01-boot/vcpu\.c, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 4, vcpu_exit \(v=0x[0-9a-f]+ <vcpu0>\) at labs/01-boot/vcpu\.c:\d+$
bt
# expect: ^#0  vcpu_exit \(v=0x[0-9a-f]+ <vcpu0>\) at labs/01-boot/vcpu\.c:\d+$
# expect: ^#1  0x[0-9a-f]+ in trap_vector \(\) at labs/01-boot/trap\.S:\d+$
# expect: ^Backtrace stopped
p/x $scause
# expect: = 0xa$
p/x $sepc
# expect: = 0x802[0-9a-f]{5}$
p/x $sscratch
# expect: = 0x0$
p $sp == vcpu0.ctx.host_sp - 16
# expect: = 1$
p/x vcpu0.ctx.guest[10]
# expect: = 0x67$
p/x vcpu0.ctx.guest[8]
# expect: = 0x0$
p $s0 == $25
# expect: = 1$
p vcpu0.exits
# expect: = \{0, 0, 0, 0, 0, 0, 0, 0\}$

# The SBI call.
break vsbi_handle
# expect: ^Breakpoint 5 at 0x[0-9a-f]+: file labs/01-boot/vsbi\.c, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 5, vsbi_handle \(v=0x[0-9a-f]+ <vcpu0>\) at labs/01-boot/vsbi\.c:\d+$
bt
# expect: ^#0  vsbi_handle \(
# expect: ^#1  0x[0-9a-f]+ in trap_vector \(\)
# expect 0: vcpu_exit
p/x v->ctx.guest[17]
# expect: = 0x1$
p/x v->ctx.guest[16]
# expect: = 0x0$
p/c v->ctx.guest[10]
# expect: = 103 'g'$
finish
# expect: ^trap_vector \(\) at labs/01-boot/trap\.S:\d+$
# expect: ld\s+a0, 0\(sp\)$
p $sepc - $27
# expect: = 4$
p vcpu0.exits
# expect: = \{0, 1, 0, 0, 0, 0, 0, 0\}$
p $s0 == $25
# expect: = 1$
delete
continue
# expect: ^Remote connection closed$

# A guest fault: the guest-oob variant's load past the end of its RAM.
# session: SMP=1 GUEST=build/guest/guest-oob.bin
break trap_vector if $scause == 21
# expect: ^Breakpoint 1 at 0x[0-9a-f]+: file labs/01-boot/trap\.S, line \d+\.$
continue
# expect: ^Breakpoint 1, trap_vector \(\) at labs/01-boot/trap\.S:\d+$
p/x $stval
# expect: = 0x88000000$
p/x $htval
# expect: = 0x22000000$
p/x $htval << 2
# expect: = 0x88000000$
p/x $sepc
# expect: = 0x802[0-9a-f]{5}$
x/i $sepc + 0x10000000
# expect: ^ +0x902[0-9a-f]{5}:\s+lbu\s+\w+,0\(\w+\)$
kill
# expect: ^\[Inferior 1 \(process 1\) killed\]$
