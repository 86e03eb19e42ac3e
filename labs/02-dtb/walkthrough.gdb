# The gdb sessions of README section 7, checked by `make walkthrough LAB=2`
# (grader/walkthrough.py) against QEMU halted at the reset vector.
#   # session: SMP=4      a new QEMU with these make variables, and a new gdb
#   # expect: REGEX       the output of the command above has a line that
#                         REGEX matches (Python re.search), after the line
#                         that the command's previous expect matched
#   # expect N: REGEX     exactly N lines of that output match REGEX
# Expectations name functions, fields and device-tree values, not addresses
# or line numbers, and hold whichever hart wins the boot lottery.

# session: SMP=4

# The platform table, just after platform_read filled it in.
break platform_read
# expect: ^Breakpoint 1 at 0x[0-9a-f]+: file labs/02-dtb/platform\.c, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 1, platform_read \(fdt=fdt@entry=0xa7e00000, .*, boot_hartid=boot_hartid@entry=[0-3], p=p@entry=0x[0-9a-f]+ <platform>, why=
finish
# expect: ^0x[0-9a-f]+ in platform_init \(fdt=2816475136, boot_hartid=[0-3]\) at labs/02-dtb/main\.c:\d+$
# expect: ^Value returned is \$\d+ = 0$
bt
# expect: ^#0  0x[0-9a-f]+ in platform_init \(fdt=2816475136, boot_hartid=[0-3]\) at labs/02-dtb/main\.c:\d+$
# expect: ^#1  hyp_main \(hartid=[0-3], fdt=2816475136\) at labs/02-dtb/main\.c:\d+$
# expect: ^#2  0x[0-9a-f]+ in image_start \(\) at labs/02-dtb/entry\.S:\d+$
p platform.ncpus
# expect: = 4$
p platform.nharts
# expect: = 4$
p/x platform.hartids
# expect: = \{0x[0-3], 0x[0-3], 0x[0-3], 0x[0-3], 0x0, 0x0, 0x0, 0x0\}$
p platform.hartids[0] == platform.boot_hartid
# expect: = 1$
p platform.cpus[1]
# expect: = \{hartid = 1, isa = "rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc", '\\000' <repeats 964 times>, use = CPU_USED\}$
p platform.timebase
# expect: = 10000000$
p platform.mmu_type
# expect: = "riscv,sv48\\000\\000\\000\\000\\000"$
p/x platform.mem_size
# expect: = 0x28000000$
p platform.boot_isa
# expect: = "rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc", '\\000' <repeats 964 times>$
p platform.over_limit
# expect: = 0$

# The firmware's blob.
p/x fdt
# expect: = 0xa7e00000$
x/10wx fdt
# expect: ^0xa7e00000:\s+0xedfe0dd0\s+0xee180000\s+0x38000000\s+0x6c130000$
# expect: ^0xa7e00010:\s+0x28000000\s+0x11000000\s+0x10000000\s+0x00000000$
# expect: ^0xa7e00020:\s+0x86010000\s+0x34130000$
x/4xb fdt
# expect: ^0xa7e00000:\s+0xd0\s+0x0d\s+0xfe\s+0xed$
x/s fdt + 0x136c
# expect: ^0xa7e0136c:\s+"model"$
x/s fdt + 0x136c + 6
# expect: ^0xa7e01372:\s+"compatible"$
x/4wx fdt + 0x38
# expect: ^0xa7e00038:\s+0x01000000\s+0x00000000\s+0x03000000\s+0x04000000$

# The other harts: still in OpenSBI (most of them asleep at 0x80009b04,
# but a hart may still be on its way there, or in QEMU's reset code at 0x1000).
info threads
# expect 4: ^[ *] +\d +Thread 1\.\d \(CPU#\d
# expect 1: ^\* +\d +Thread .* platform_init \(
# expect 3: ^  +\d +Thread .* 0x0000000(0800[0-7][0-9a-f]{4}|000001[0-9a-f]{3}) in \?\? \(\)$
break vcpu_run
# expect: ^Breakpoint 2 at 0x[0-9a-f]+: file labs/02-dtb/vcpu\.c, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 2, vcpu_run \(v=v@entry=0x[0-9a-f]+ <vcpu0>\) at labs/02-dtb/vcpu\.c:\d+$
info threads
# expect 4: ^[ *] +\d +Thread 1\.\d \(CPU#\d
# expect 1: ^\* +\d +Thread .* vcpu_run \(
# expect 3: ^  +\d +Thread .* 0x0000000(0800[0-7][0-9a-f]{4}|000001[0-9a-f]{3}) in \?\? \(\)$
x/2i 0x80009b00
# expect: ^   0x80009b00:\s+wfi$
kill
# expect: ^\[Inferior 1 \(process 1\) killed\]$

# The guest's device tree, at SMP=2: a1, then the blob itself in guest RAM.
# session: SMP=2
break vcpu_run
# expect: ^Breakpoint 1 at 0x[0-9a-f]+: file labs/02-dtb/vcpu\.c, line \d+\.$
continue
# expect: ^Thread \d hit Breakpoint 1, vcpu_run \(
p/x vcpu0.ctx.guest[11]
# expect: = 0x87e00000$
x/2wx 0x97e00000
# expect: ^0x97e00000:\s+0xedfe0dd0\s+0xa0050000$
dump binary memory build/guest.dtb 0x97e00000 0x97e00000+0x5a0
shell dtc -I dtb -O dts build/guest.dtb
# expect: ^\tmodel = "riscv-hypervisor-labs,guest";$
# expect: ^\t\tbootargs = "console=hvc0 earlycon=sbi";$
# expect: ^\t\ttimebase-frequency = <0x989680>;$
# expect 2: ^\t\tcpu@[01] \{$
# expect 2: ^\t\t\triscv,isa = "rv64imafdc_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs";$
# expect 2: ^\t\t\triscv,isa-base = "rv64i";$
# expect 2: ^\t\t\triscv,isa-extensions = "i\\0m\\0a\\0f\\0d\\0c\\0zicsr\\0zifencei\\0zihintpause\\0zba\\0zbb\\0zbc\\0zbs";$
# expect 2: ^\t\t\t\t\tcpu = <0x0[13]>;$
# expect: ^\t\treg = <0x00 0x80000000 0x00 0x8000000>;$
kill
# expect: ^\[Inferior 1 \(process 1\) killed\]$
