# The gdb session of README section 7, checked by `make walkthrough LAB=3`
# (grader/walkthrough.py) against QEMU halted at the reset vector.
#   # session: SMP=4      a new QEMU with these make variables, and a new gdb
#   # expect: REGEX       the output of the command above has a line that
#                         REGEX matches (Python re.search), after the line
#                         that the command's previous expect matched
#   # expect N: REGEX     exactly N lines of that output match REGEX
# Expectations name functions, fields and counts, not addresses or line
# numbers, and hold whichever hart wins the boot lottery.

# session: SMP=4

# Each hart arriving: stopped at its first instruction. The boot hart waits
# for it in hart_wait_for (or, if its thread is slow, is still on its way
# back from the SBI call that started it); the harts not started yet are in
# OpenSBI; the ones before have parked (or are on their way, past the
# breakpoint).
break hyp_secondary_main
# expect: ^Breakpoint 1 at 0x[0-9a-f]+: file labs/03-secondary/main\.c, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 1, hyp_secondary_main \(h=0x[0-9a-f]+ <harts\+40>\) at labs/03-secondary/main\.c:\d+$
info threads
# expect 4: ^[ *] +\d +Thread 1\.\d \(CPU#\d
# expect 1: ^\* +\d +Thread .* hyp_secondary_main \(
# expect 3: (hart_wait_for|hart_is_online) \(.*h=0x[0-9a-f]+ <harts\+40>\)|\) (hart_start_secondaries|sbi_\w+) \(|\) 0x0000000(0800[0-7][0-9a-f]{4}|000001[0-9a-f]{3}) in \?\? \(\)$
bt
# expect: ^#0  hyp_secondary_main \(
# expect: ^#1  0x[0-9a-f]+ in secondary_entry \(\) at labs/03-secondary/entry\.S:\d+$
p/x *h
# expect: = \{stack_top = 0x[0-9a-f]+, hartid = 0x[0-3], index = 0x1, online = 0x0, wakeups = 0x0, entries = 0x0\}$
p/a $tp
# expect: = 0x[0-9a-f]+ <harts\+40>$
p $tp == (long)h && $a0 == (long)h && $sp == h->stack_top
# expect: = 1$
p/x $sstatus
# expect: = 0x8000000200006000$
p/x $satp
# expect: = 0x0$
continue
# expect: ^Thread \d hit Breakpoint 1, hyp_secondary_main \(h=0x[0-9a-f]+ <harts\+80>\)
continue
# expect: ^Thread \d hit Breakpoint 1, hyp_secondary_main \(h=0x[0-9a-f]+ <harts\+120>\)
info threads
# expect 4: ^[ *] +\d +Thread 1\.\d \(CPU#\d
# expect 3: \) (hart_park|hart_online|hyp_secondary_main) \(h=(h@entry=)?0x[0-9a-f]+ <harts\+(40|80|120)>\) at labs/03-secondary/(hart|main)\.c:\d+$
# expect 1: (hart_wait_for|hart_is_online) \(.*h=0x[0-9a-f]+ <harts\+120>\)|\) (hart_start_secondaries|sbi_\w+) \(|\) 0x0000000(0800[0-7][0-9a-f]{4}|000001[0-9a-f]{3}) in \?\? \(\)$
p/x *h
# expect: = \{stack_top = 0x[0-9a-f]+, hartid = 0x[0-3], index = 0x3, online = 0x0, wakeups = 0x0, entries = 0x0\}$

# Every secondary parked, when the boot hart reaches vcpu_run.
delete
break vcpu_run
# expect: ^Breakpoint 2 at 0x[0-9a-f]+: file labs/03-secondary/vcpu\.c, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 2, vcpu_run \(v=v@entry=0x[0-9a-f]+ <vcpu0>\)
info threads
# expect 4: ^[ *] +\d +Thread 1\.\d \(CPU#\d
# expect 1: ^\* +\d +Thread .* vcpu_run \(
# expect 3: \[halted \]\) hart_park \(h=(h@entry=)?0x[0-9a-f]+ <harts\+(40|80|120)>\) at labs/03-secondary/hart\.c:\d+$
eval "thread %d", $_thread % 4 + 1
# expect: ^#0  hart_park \(
bt
# expect: ^#0  hart_park \(h=(h@entry=)?0x[0-9a-f]+ <harts\+(40|80|120)>\) at labs/03-secondary/hart\.c:\d+$
# expect: ^#1  0x[0-9a-f]+ in hyp_secondary_main \(
# expect: ^#2  0x[0-9a-f]+ in secondary_entry \(\)
x/i $pc - 4
# expect: <hart_park\+\d+>:\s+wfi$
p/x $sie
# expect: = 0x2$
p/x $sip
# expect: = 0x0$
p/x $sstatus
# expect: = 0x8000000200006000$
p harts
# expect: = \{\{stack_top = 0, hartid = [0-3], index = 0, online = 1, wakeups = 0, entries = 0\}, (\{stack_top = [1-9]\d+, hartid = [0-3], index = [1-3], online = 1, wakeups = 2, entries = 1\}, ){3}(\{stack_top = 0, hartid = 0, index = 0, online = 0, wakeups = 0, entries = 0\}(, |\}$)){4}
kill
# expect: ^\[Inferior 1 \(process 1\) killed\]$
