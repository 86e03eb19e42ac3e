# The gdb session of README section 7, checked by `make walkthrough LAB=4`
# (grader/walkthrough.py) against QEMU halted at the reset vector.
#   # session: SMP=4      a new QEMU with these make variables, and a new gdb
#   # expect: REGEX       the output of the command above has a line that
#                         REGEX matches (Python re.search), after the line
#                         that the command's previous expect matched
#   # expect N: REGEX     exactly N lines of that output match REGEX
# Expectations name functions, fields and counts, not addresses or line
# numbers, and hold whichever hart wins the boot lottery and whichever
# order the harts arrive in.

# session: SMP=4

# The harts arrive: each stops as it adds its vCPU, and stops the others.
break vm_add_vcpu
# expect: ^Breakpoint 1 at 0x[0-9a-f]+: file labs/04-sync/vm\.c, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 1, vm_add_vcpu \(vm=.*<the_vm>, id=.*[0-3]\) at labs/04-sync/vm\.c:\d+$
bt
# expect: ^#0  vm_add_vcpu \(
# expect: ^#1  0x[0-9a-f]+ in (hyp_secondary_main|hyp_main) \(
info threads
# expect 4: ^[ *] +\d +Thread 1\.\d \(CPU#\d
# expect 1: ^\* +\d +Thread .* vm_add_vcpu \(
p *vm
# expect: = \{nvcpus = 4, gstage = 0x[0-9a-f]+ <guest_gstage>, lock = \{next = 0, owner = 0, name = 0x[0-9a-f]+ "vm", holder = -1\}, vcpus = \{0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0\}, inited_vcpus = 0\}$
continue
# expect: ^Thread \d hit Breakpoint 1, vm_add_vcpu \(vm=.*<the_vm>, id=.*[0-3]\)
p vm->inited_vcpus
# expect: = [01]$
continue
# expect: ^Thread \d hit Breakpoint 1, vm_add_vcpu \(vm=.*<the_vm>, id=.*[0-3]\)
p vm->inited_vcpus
# expect: = [0-2]$
continue
# expect: ^Thread \d hit Breakpoint 1, vm_add_vcpu \(vm=.*<the_vm>, id=.*[0-3]\)
p vm->inited_vcpus
# expect: = [0-3]$
p id
# expect: = [0-3]$
p $_thread
# expect: = [1-4]$

# Everyone in: the boot hart is about to run vCPU 0.
delete
break vcpu_run
# expect: ^Breakpoint 2 at 0x[0-9a-f]+: file labs/04-sync/vcpu\.c, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 2, vcpu_run \(v=v@entry=0x[0-9a-f]+ <vcpus>\) at labs/04-sync/vcpu\.c:\d+$
info threads
# expect 4: ^[ *] +\d +Thread 1\.\d \(CPU#\d
# expect 1: ^\* +\d +Thread .* vcpu_run \(
p vm_published->inited_vcpus
# expect: = 4$
p *vm_published
# expect: = \{nvcpus = 4, gstage = 0x[0-9a-f]+ <guest_gstage>, lock = \{next = 4, owner = 4, name = 0x[0-9a-f]+ "vm", holder = -1\}, vcpus = \{0x[0-9a-f]+ <vcpus>, 0x[0-9a-f]+ <vcpus\+400>, 0x[0-9a-f]+ <vcpus\+800>, 0x[0-9a-f]+ <vcpus\+1200>, 0x0, 0x0, 0x0, 0x0\}, inited_vcpus = 4\}$

# The guest powers off: the secondaries sleep, each waiting for its vCPU.
# The guest's own code lies at the same addresses (guest-physical
# 0x80200000), and a breakpoint stops whichever runs there; tp tells them
# apart: ours points at the hart's struct hart, the test guest's is 0.
break machine_poweroff if $tp != 0
# expect: ^Breakpoint 3 at 0x[0-9a-f]+: file labs/04-sync/machine\.c, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 3, machine_poweroff \(\) at labs/04-sync/machine\.c:\d+$
info threads
# expect 4: ^[ *] +\d +Thread 1\.\d \(CPU#\d
# expect 1: ^\* +\d +Thread .* machine_poweroff \(\)
# expect 3: \[halted \]\) hart_park_until \(h=.*<harts\+(56|112|168)>, done=.*<hyp_vcpu_runnable>, arg=.*<vcpus\+(400|800|1200)>\) at labs/04-sync/hart\.c:\d+$
bt
# expect: ^#0  machine_poweroff \(\)
# expect: ^#1  0x[0-9a-f]+ in vsbi_srst \(
# expect: ^#\d  0x[0-9a-f]+ in vsbi_handle \(
# expect: ^#\d  0x[0-9a-f]+ in trap_vector \(\)
eval "thread %d", $_thread % 4 + 1
# expect: ^#0  hart_park_until \(
bt
# expect: ^#0  hart_park_until \(
# expect: ^#1  0x[0-9a-f]+ in hyp_secondary_main \(
# expect: ^#2  0x[0-9a-f]+ in secondary_entry \(\)
frame 0
# expect: ^#0  hart_park_until \(
p *h
# expect: = \{stack_top = [1-9]\d+, hartid = [0-3], index = [1-3], online = 1, wakeups = \d+, entries = 1, intr_depth = 0, intr_was_on = 0, vcpu = 0x[0-9a-f]+ <vcpus\+(400|800|1200)>\}$
p h->vcpu->state
# expect: = VCPU_POWERED_OFF$
p h->vcpu->id == h->index
# expect: = 1$
p h->wakeups
# expect: = \d+$
kill
# expect: ^\[Inferior 1 \(process 1\) killed\]$
