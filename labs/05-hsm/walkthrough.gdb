# The gdb session of README section 10, checked by `make walkthrough LAB=5`
# (grader/walkthrough.py) against QEMU halted at the reset vector.
#   # session: SMP=2      a new QEMU with these make variables, and a new gdb
#   # expect: REGEX       the output of the command above has a line that
#                         REGEX matches (Python re.search), after the line
#                         that the command's previous expect matched
#   # expect N: REGEX     exactly N lines of that output match REGEX
# Expectations name functions, fields and CSR values, not addresses or line
# numbers, and hold whichever hart wins the boot lottery.

# session: SMP=2

# Hart A: the guest asks for vCPU 1 (not the calls that must fail).
break vsbi_hsm if fid == 0 && a[0] == 1 && a[1] != 0x1000 && (a[1] & 1) == 0
# expect: ^Breakpoint 1 at 0x[0-9a-f]+: file labs/05-hsm/vsbi\.c, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 1, vsbi_hsm \(v=0x[0-9a-f]+ <vcpus>, fid=0, a=0x[0-9a-f]+ <vcpus\+80>\) at labs/05-hsm/vsbi\.c:\d+$
bt
# expect: ^#0  vsbi_hsm \(
# expect: ^#1  0x[0-9a-f]+ in vsbi_handle \(
# expect: ^#2  0x[0-9a-f]+ in trap_vector \(\)
p/x a[0]@3
# expect: ^\$1 = \{0x1, 0x802[0-9a-f]{5}, 0x8[0-7][0-9a-f]{6}\}$
# An exit runs below the stack vcpu_enter left; vcpu_leave would return into vcpu_run.
p $sp < v->ctx.host_sp
# expect: = 1$
p/a v->ctx.host_ra
# expect: = 0x[0-9a-f]+ <vcpu_run\+\d+>$
info threads
# expect 2: ^[ *] +\d +Thread 1\.\d \(CPU#\d
# expect 1: ^\* +\d +Thread .* vsbi_hsm \(
# expect 1: \[halted \]\) hart_park_until \(h=(h@entry=)?0x[0-9a-f]+ <harts\+56>, done=(done@entry=)?0x[0-9a-f]+ <hyp_vcpu_runnable>, arg=0x[0-9a-f]+ <vcpus\+584>\)
p sizeof(struct vcpu)
# expect: = 584$

# Hart B: the target wakes, in vcpu_run for vCPU 1.
delete
break vcpu_run if v->id == 1
# expect: ^Breakpoint 2 at 0x[0-9a-f]+: file labs/05-hsm/vcpu\.c, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 2, vcpu_run \(v=0x[0-9a-f]+ <vcpus\+584>\) at labs/05-hsm/vcpu\.c:\d+$
bt
# expect: ^#0  vcpu_run \(
# expect: ^#1  0x[0-9a-f]+ in hyp_run_vcpu \(h=.*<harts\+56>\)
# expect: ^#2  (0x[0-9a-f]+ in )?hyp_secondary_main \(
# expect: ^#3  0x[0-9a-f]+ in secondary_entry \(\)
info threads
# expect 2: ^[ *] +\d +Thread 1\.\d \(CPU#\d
# expect 1: ^\* +\d +Thread .* vcpu_run \(
p v->state
# expect: = VCPU_RUNNABLE$
p/x v->ctx.guest[10]
# expect: = 0x1$
p/x v->ctx.guest[11]
# expect: = 0x8[0-7][0-9a-f]{6}$
p/x v->pc
# expect: = 0x802[0-9a-f]{5}$
p v->pc == $1[1] && v->ctx.guest[11] == $1[2]
# expect: = 1$
p v->hartid
# expect: = [01]$

# The world switch, on this thread only.
eval "break vcpu_enter thread %d", $_thread
# expect: ^Breakpoint 3 at 0x[0-9a-f]+: file labs/05-hsm/trap\.S, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 3, vcpu_enter \(\) at labs/05-hsm/trap\.S:\d+$
p ((struct vcpu *)$a0)->state
# expect: = VCPU_RUNNING$
p/x $sepc
# expect: = 0x802[0-9a-f]{5}$
p/x $hgatp
# expect: = 0x8000000000[0-9a-f]{6}$
p/a ($hgatp & 0xfffffffffff) << 12
# expect: = 0x[0-9a-f]+ <gstage_root>$
p/x $hstatus
# expect: = 0x200000080$
p/x $sstatus
# expect: = 0x8000000200006100$
p/x $vsatp
# expect: = 0x0$
p/x $vsstatus
# expect: = 0x200000000$
p vcpu_sstc
# expect: = 1$
p/x $henvcfg
# expect: = 0x8000000000000000$
p/x $sie
# expect: = 0x2$

# The target's first instruction, in the guest.
eval "break *0x%lx thread %d", $sepc, $_thread
# expect: ^Breakpoint 4 at 0x802[0-9a-f]{5}
delete 3
continue
# expect: ^Thread \d hit Breakpoint 4,
p $pc == $1[1]
# expect: = 1$
x/3i $pc
# expect: ^=> 0x802[0-9a-f]{5}.*:\s+mv\s+sp,a1$
p/x $a0
# expect: = 0x1$
p $a1 == $1[2]
# expect: = 1$
p/x $sp
# expect: = 0x0$
stepi
# expect: ^0x[0-9a-f]+ in \w+ \(
p $sp == $a1
# expect: = 1$
info threads
# expect 2: ^[ *] +\d +Thread 1\.\d \(CPU#\d
eval "thread %d", 3 - $_thread
# expect: ^\[Switching to thread [12] \(Thread 1\.[12]\)\]$
p/x $pc
# expect: = 0x[0-9a-f]+$
kill
# expect: ^\[Inferior 1 \(process 1\) killed\]$
