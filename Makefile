# RISC-V SMP hypervisor labs. Start with README.md.
#
#   make setup              install every package the labs need, and QEMU 10 beside QEMU 7.2
#   make test               everything the project checks
#   make lab1 [SMP=n] [GUEST=file] [GUEST_MEM=MiB] [BOOTARGS='...'] [QEMU_EXTRA='...']
#   make lab3 TRACE=1       labs 03-05: the harts' timeline, build/trace/lab3.svg and .json
#   make trace-figures      labs 03-05 booted with TRACE=1 SMP=4: the READMEs' labs/0N-*/timeline.svg
#   make platforms          the platforms installed: PLATFORM=qemu7 (default) or qemu10
#     on any target: PLATFORM=qemu10, FW=jump (fw_jump.bin, default fw_dynamic.bin),
#     QEMU=path, OPENSBI=path, CROSS_COMPILE=prefix
#   make lab1-gdb / make gdb LAB=1
#   make grade [LAB=n]      the grader (grader/README.md)
#   make handout [LAB=n]    the student tree, solutions taken out, in build/handout
#                           (LAB=n: assignment n alone, labs 01..n, in build/handout-labn)
#   make carry LAB=n        in the whole-course handout: your earlier labs' regions into lab n
#   make walkthrough [LAB=n] each lab's gdb walkthrough (README), run and checked
#   make readme-check [LAB=n] the READMEs' transcripts against real boots
#   make fuzz [SECONDS=n]   fuzz the device-tree code of labs 02 and 05
#   make guest-native       the test guest on OpenSBI alone, no hypervisor
#   make fuzz-guest [SECONDS=n] [LAB=5|native] [SMP=4]   the misbehaving guest, seed after seed
#   make diff LAB=n         what lab n adds to the lab before it
#   make format / format-check   apply / check .clang-format and .editorconfig
#   make copies-check       each lab's sources: the lab before's, but for its lesson
#   make layers-check       no header include cycles; hart.c below vcpu.c below vm.c
#   make compdb             compile_commands.json, for clangd
#   make linux / lab5-linux / linux-native   the Linux guest (lab 05)
#   make bench              lab 05 against OpenSBI alone: SBI call, hart_start, Linux boot
#   make kvm-unit-tests KUT=dir  kvm-unit-tests' SBI tests (your checkout) on OpenSBI and on lab 05

SMP ?= 4
GUEST_MEM ?= 128
BOOTARGS ?= console=hvc0 earlycon=sbi
QEMU_EXTRA ?=
LAB ?= 1
# TRACE=1 (labs 03-05): trace points on, into build/labN-trace; make labN then
# draws the harts' timeline (grader/trace.py) under build/trace/.
TRACE ?=

B := build

# The cross toolchain: the first one installed of Debian's bare-metal one,
# Homebrew's and Arch's, and the Linux one of Debian and Ubuntu (whose PIE
# and build-id defaults CFLAGS and LDFLAGS turn off). CROSS_COMPILE= picks.
CROSS_PREFIXES := riscv64-unknown-elf- riscv64-elf- riscv64-linux-gnu-
CROSS_COMPILE ?= $(or $(firstword $(foreach p,$(CROSS_PREFIXES),$(if $(shell command -v $(p)gcc 2>/dev/null),$(p)))),riscv64-unknown-elf-)
CC := $(CROSS_COMPILE)gcc
OBJCOPY := $(CROSS_COMPILE)objcopy
CPP := $(CROSS_COMPILE)cpp
DTC := dtc
GDB := gdb-multiarch

# The platform: a QEMU and its OpenSBI (README.md, "Platforms").
#   qemu7:  Debian 12's QEMU 7.2 and OpenSBI 1.1
#   qemu10: QEMU 10.0 and OpenSBI 1.5.1 from bookworm-backports, which
#           common/tools/platforms.sh unpacks into ~/.cache (make setup)
# FW=dynamic boots fw_dynamic.bin (what QEMU's -bios default does): QEMU
# tells it the next address (QEMU 10 also the boot hart; OpenSBI 1.1 holds
# a lottery). FW=jump boots fw_jump.bin, which jumps to 0x80200000 and
# picks the boot hart by lottery.
PLATFORM ?= qemu7
FW ?= dynamic
PLATFORM_DIR := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/riscv-hyp-labs/platforms
ifeq ($(PLATFORM),qemu7)
QEMU ?= qemu-system-riscv64
FIRMWARE_DIR := /usr/lib/riscv64-linux-gnu/opensbi/generic
FIRMWARE_VERSION = $(shell dpkg-query -W -f='$${Version}' opensbi 2>/dev/null)
else ifeq ($(PLATFORM),qemu10)
QEMU ?= $(PLATFORM_DIR)/qemu10/bin/qemu-system-riscv64
FIRMWARE_DIR := $(PLATFORM_DIR)/qemu10/root/usr/lib/riscv64-linux-gnu/opensbi/generic
FIRMWARE_VERSION = $(shell awk '$$1 == "opensbi" { print $$2 }' $(PLATFORM_DIR)/qemu10/versions 2>/dev/null)
else
$(error PLATFORM=$(PLATFORM): the platforms are qemu7 and qemu10 (make platforms))
endif
ifeq ($(filter $(FW),dynamic jump),)
$(error FW=$(FW): the firmwares are dynamic (fw_dynamic.bin) and jump (fw_jump.bin))
endif
OPENSBI ?= $(FIRMWARE_DIR)/fw_$(FW).bin
# The Python tools (grader, bench, walkthroughs) run make again for QEMU
# commands, without MAKEFLAGS: they get these from the environment. QEMU
# and OPENSBI follow PLATFORM there, unless given on the command line (the
# grader's --platform must be able to change the platform).
export PLATFORM FW CROSS_COMPILE
ifeq ($(origin QEMU),command line)
export QEMU
endif
ifeq ($(origin OPENSBI),command line)
export OPENSBI
endif

# Guest RAM lives at this host-physical address (see each lab's memlayout.h);
# QEMU's loader puts the guest payload at its +2 MiB, guest-physical 0x80200000.
GUEST_RAM_HPA := 0x90000000
GUEST_LOAD_HPA := 0x90200000
# Host RAM: 256 MiB for firmware and hypervisor, then the guest's RAM, then
# 256 MiB to spare. (QEMU puts its own device tree near the top of RAM, below
# 3 GiB; OpenSBI copies it to 0x82200000 before anyone else runs.)
QEMU_MEM := $(shell expr $(GUEST_MEM) + 512)
GDBPORT := $(shell expr `id -u` % 5000 + 25000)

CFLAGS := -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany \
	-ffreestanding -fno-common -fno-pie \
	-fno-stack-protector -O2 -g -std=gnu11 -Wall -Wextra -Werror \
	-Icommon/include
LDFLAGS := -nostdlib -no-pie -Wl,--build-id=none -Wl,--no-warn-rwx-segments -T common/payload.ld
COMMON_SRCS := common/lib/fmt.c common/lib/string.c common/lib/sbi.c

# lab number -> directory, e.g. 1 -> labs/01-boot
lab_dir = $(firstword $(wildcard labs/0$(1)-*))
# Where lab N is built: build/labN, or build/labN-trace with TRACE=1.
TRACE_SUFFIX := $(if $(filter 1,$(TRACE)),-trace)
lab_build = $(B)/lab$(1)$(TRACE_SUFFIX)
LABS := $(patsubst labs/0%,%,$(foreach d,$(wildcard labs/0*),$(firstword $(subst -, ,$(d)))))


.PHONY: all setup test check-tools grade handout carry walkthrough readme-check host-test fuzz guest \
	guest-native fuzzguest fuzz-guest gdb qemu-cmd qemu-cmd-native support build build-native bench diff format \
	format-check copies-check layers-check compdb clean FORCE
all: $(foreach n,$(LABS),$(B)/lab$(n)/hyp.elf) guest

setup:
	@sh common/tools/setup.sh

# Every target that needs the cross tools depends on this, so a missing tool
# gives one line that names the fix instead of a compiler backtrace.
check-tools:
	@for t in $(CC) $(DTC) $(QEMU) python3; do \
		command -v $$t >/dev/null 2>&1 || { echo "error: $$t not found (PLATFORM=$(PLATFORM)): run 'make setup'" >&2; exit 1; }; \
	done
	@test -f $(OPENSBI) || { echo "error: $(OPENSBI) not found (PLATFORM=$(PLATFORM)): run 'make setup'" >&2; exit 1; }

# Each platform with its QEMU and firmware, and whether they are installed.
platforms:
	@for p in qemu7 qemu10; do env -u QEMU -u OPENSBI $(MAKE) -s --no-print-directory platform-show PLATFORM=$$p; done
	@echo "toolchain: CROSS_COMPILE=$(CROSS_COMPILE) ($(if $(shell command -v $(CC) 2>/dev/null),$(shell $(CC) --version | head -n 1),not installed))"
platform-show:
	@echo "PLATFORM=$(PLATFORM)$(if $(filter qemu7,$(PLATFORM)),  (the default))"
	@echo "  qemu:    $(QEMU): $(if $(shell command -v $(QEMU) 2>/dev/null),$(shell $(QEMU) --version | head -n 1),not installed (make setup))"
	@echo "  opensbi: $(or $(FIRMWARE_VERSION),not installed (make setup)), in $(FIRMWARE_DIR)"
	@echo "  boots:   $(OPENSBI)$(if $(wildcard $(OPENSBI)),, (not installed))"

test: check-tools
	@python3 grader/test.py

# make grade [LAB=n] [SMP=1,4] [GRADE_FLAGS='--repeat 3 --mttcg --tree DIR ...']
GRADE_FLAGS ?=
grade: check-tools
	@python3 grader/grade.py $(if $(filter command line,$(origin LAB)),--lab $(LAB)) \
		$(if $(filter command line,$(origin SMP)),--smp $(SMP)) $(GRADE_FLAGS)

# The student tree: each lab's solution regions stubbed (grader/handout.py).
# With LAB=N, the handout of assignment N: labs 01..N, only lab N stubbed.
HANDOUT ?= $(B)/handout$(if $(filter command line,$(origin LAB)),-lab$(LAB))
handout:
	@python3 grader/handout.py --out $(HANDOUT) $(if $(filter command line,$(origin LAB)),--lab $(LAB))

# The whole-course handout: lab N-1's solved regions (yours) into lab N's copy.
carry:
	@$(if $(filter command line,$(origin LAB)),,echo "make carry: give the lab to carry into, e.g. make carry LAB=3" && exit 2)
	@python3 common/tools/carry.py --lab $(LAB)

# Each lab's walkthrough.gdb, the gdb session of its README, run and checked.
walkthrough: check-tools
	@python3 grader/walkthrough.py $(if $(filter command line,$(origin LAB)),--lab $(LAB))

# The READMEs' console transcripts, booted and compared (grader/readme_output.py).
readme-check: check-tools
	@python3 grader/readme_output.py $(if $(filter command line,$(origin LAB)),--lab $(LAB))

host-test:
	@$(MAKE) -s -C tests/host

# Fuzzes the device-tree code of labs 02 and 05: make fuzz [SECONDS=n]
# (default 10, split between the two).
SECONDS ?= 10
fuzz:
	@command -v clang >/dev/null 2>&1 || { echo "error: clang not found: run 'make setup'" >&2; exit 1; }
	@$(MAKE) -s -C tests/fuzz run SECONDS=$(SECONDS)

# Rewritten only when the compiler or its flags change, so that a new
# CROSS_COMPILE= rebuilds everything it built.
$(B)/toolchain.flags: FORCE
	@mkdir -p $(@D)
	@tmp=$$(mktemp $@.XXXXXX) && echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $$tmp && \
	{ cmp -s $$tmp $@ && rm $$tmp || mv $$tmp $@; }

# ---- the test guest (common/guest) ----
GUEST_SRCS := common/guest/entry.S common/guest/main.c common/guest/smp.c $(COMMON_SRCS)
guest: $(B)/guest/guest.bin $(B)/guest/guest-oob.bin
$(B)/guest/guest.elf: $(GUEST_SRCS) $(wildcard common/include/*.h common/guest/*.h) common/payload.ld $(B)/toolchain.flags | check-tools
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(GUEST_SRCS)
# A variant that touches memory outside its RAM, for the isolation checks.
$(B)/guest/guest-oob.elf: $(GUEST_SRCS) $(wildcard common/include/*.h common/guest/*.h) common/payload.ld $(B)/toolchain.flags | check-tools
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DGUEST_TEST_OOB $(LDFLAGS) -o $@ $(GUEST_SRCS)
# ---- the misbehaving guest (common/fuzzguest): seeded random SBI calls and exceptions ----
FUZZGUEST_SRCS := common/fuzzguest/entry.S common/fuzzguest/main.c $(COMMON_SRCS)
fuzzguest: $(B)/fuzzguest/fuzzguest.bin
$(B)/fuzzguest/fuzzguest.elf: $(FUZZGUEST_SRCS) $(wildcard common/include/*.h common/fuzzguest/*.h) common/payload.ld $(B)/toolchain.flags | check-tools
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Icommon/fuzzguest $(LDFLAGS) -o $@ $(FUZZGUEST_SRCS)
# The same with another built-in seed (no BOOTARGS, so no lab rebuild):
# grader/fuzz_guest.py writes it into a copy. The grader boots these seeds.
FUZZ_GUEST_SEEDS := 1 2
$(B)/fuzzguest/fuzzguest-seed%.bin: $(B)/fuzzguest/fuzzguest.bin grader/fuzz_guest.py
	python3 grader/fuzz_guest.py --patch $* $< $@
# make fuzz-guest [SECONDS=n] [LAB=n|native] [SMP=n]: seed after seed for
# SECONDS (default 10), on lab 05 unless LAB= is given; names each failing seed.
fuzz-guest: check-tools
	@python3 grader/fuzz_guest.py --seconds $(SECONDS) --smp $(SMP) \
		--lab $(if $(filter command line,$(origin LAB)),$(LAB),5)
# Other S-mode payloads, for the grader: hello.S for the GUEST= check,
# stop-all.S for a guest that stops its last vCPU.
$(B)/payloads/%.elf: grader/payloads/%.S common/payload.ld $(B)/toolchain.flags | check-tools
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<
%.bin: %.elf
	$(OBJCOPY) -O binary $< $@

GUEST ?= $(B)/guest/guest.bin
GUEST_FILE = $(abspath $(GUEST))
# A GUEST that this Makefile builds (under build/) is built first.
GUEST_BUILT = $(filter $(B)/%,$(GUEST))

# Boots the test guest (or GUEST=) on OpenSBI directly, as the reference.
guest-native: check-tools $(GUEST_BUILT) guest-size-check
	$(QEMU_NATIVE_CMD)
# QEMU loads the payload with -kernel, at 0x80200000, and tells fw_dynamic
# where it is. With INITRD, the payload is a Linux kernel: -initrd, -append.
QEMU_NATIVE_CMD = $(QEMU) -M virt -m 256M -smp $(SMP) -nographic -bios $(OPENSBI) \
	-kernel $(GUEST_FILE) $(if $(INITRD),-initrd $(abspath $(INITRD)) -append '$(BOOTARGS)') $(QEMU_EXTRA)

# ---- the Linux guest (lab 05): built once, cached under ~/.cache ----
LINUX := $(B)/linux
linux:
	@sh common/linux/build.sh $(LINUX)
# Linux 6.1 with 4 vCPUs on lab 05 (SMP= to change).
lab5-linux: linux
	$(MAKE) lab5 SMP=$(SMP) GUEST=$(LINUX)/Image INITRD=$(LINUX)/initramfs.cpio \
		BOOTARGS='console=hvc0 earlycon=sbi'
# The same kernel on OpenSBI alone, the reference.
linux-native: linux
	$(MAKE) guest-native SMP=$(SMP) GUEST=$(LINUX)/Image INITRD=$(LINUX)/initramfs.cpio \
		BOOTARGS='console=hvc0 earlycon=sbi'
.PHONY: linux lab5-linux linux-native

# ---- make bench (bench/) ----
# A payload that times its SBI (bench/guest.c), and the driver that boots it
# on lab 05 and on OpenSBI alone, boots Linux both ways and prints a table.
BENCH_SRCS := bench/entry.S bench/guest.c $(COMMON_SRCS)
$(B)/bench/guest.elf: $(BENCH_SRCS) $(wildcard common/include/*.h) common/payload.ld $(B)/toolchain.flags | check-tools
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(BENCH_SRCS)
bench: check-tools
	@python3 bench/bench.py

# ---- make kvm-unit-tests KUT=dir: a suite we did not write (common/tools/kvm-unit-tests.sh) ----
KUT ?=
kvm-unit-tests: check-tools
	@test -n "$(KUT)" || { echo "error: give KUT=path to a kvm-unit-tests checkout" >&2; exit 1; }
	@SMP=$(SMP) QEMU=$(QEMU) OPENSBI=$(OPENSBI) sh common/tools/kvm-unit-tests.sh "$(KUT)"
.PHONY: kvm-unit-tests

# ---- the labs ----
# INITRD=file: QEMU loads it and names it in /chosen; lab 05 hands it to the guest.
INITRD ?=
QEMU_CMD = $(QEMU) -M virt -m $(QEMU_MEM)M -smp $(SMP) -nographic -bios $(OPENSBI) \
	-kernel $(call lab_build,$(1))/hyp.elf $(if $(INITRD),-initrd $(abspath $(INITRD))) \
	-device loader,file=$(GUEST_FILE),addr=$(GUEST_LOAD_HPA),force-raw=on $(QEMU_EXTRA)

# build/labN/config.h carries the make variables into C and the guest DTS;
# it is rewritten only when they change, so a new GUEST_MEM rebuilds.
define LAB_RULES
$(call lab_build,$(1))/config.h: FORCE
	@mkdir -p $$(@D)
	@# A temporary file of its own: two makes at once (the grader and a
	@# student's make) must not move each other's file away.
	@tmp=$$$$(mktemp $$@.XXXXXX) && \
	printf '#define GUEST_MEM_MIB %s\n#define GUEST_RAM_HPA %s\n#define LAB_NUMBER %s\n#define GUEST_BOOTARGS "%s"\n' \
		'$(GUEST_MEM)' '$(GUEST_RAM_HPA)UL' '$(1)' '$(BOOTARGS)' > $$$$tmp && \
	{ cmp -s $$$$tmp $$@ && rm $$$$tmp || mv $$$$tmp $$@; }

$(call lab_build,$(1))/hyp.elf: $(wildcard $(call lab_dir,$(1))/*.[chS]) $(wildcard $(call lab_dir,$(1))/*.dts) \
		$(COMMON_SRCS) $(wildcard common/include/*.h) common/payload.ld \
		$(call lab_build,$(1))/config.h $(B)/toolchain.flags | check-tools
	@if [ -f $(call lab_dir,$(1))/guest.dts ]; then \
		echo "  DTC  $(call lab_build,$(1))/guest.dtb"; \
		$(CPP) -P -nostdinc -undef -x assembler-with-cpp -include $(call lab_build,$(1))/config.h \
			$(call lab_dir,$(1))/guest.dts | $(DTC) -q -I dts -O dtb -o $(call lab_build,$(1))/guest.dtb - ; \
	fi
	$(CC) $(CFLAGS) $(if $(TRACE_SUFFIX),-DTRACE) -I$(call lab_dir,$(1)) -include $(call lab_build,$(1))/config.h \
		-DGUEST_DTB_PATH='"$(call lab_build,$(1))/guest.dtb"' $(LDFLAGS) -o $$@ \
		$(wildcard $(call lab_dir,$(1))/*.S) $(wildcard $(call lab_dir,$(1))/*.c) $(COMMON_SRCS)

lab$(1): check-tools $(call lab_build,$(1))/hyp.elf $(GUEST_BUILT) guest-size-check
ifeq ($(TRACE_SUFFIX),)
	$(call QEMU_CMD,$(1))
else
	@test -f $(call lab_dir,$(1))/trace.h || { echo "make lab$(1) TRACE=1: lab $(1) has no trace (labs 03-05 do)" >&2; exit 2; }
	@mkdir -p $(B)/trace
	@# The console goes to the terminal and to the log; QEMU's status is kept for make.
	@{ $(call QEMU_CMD,$(1)); echo $$$$? > $(B)/trace/lab$(1).status; } | tee $(B)/trace/lab$(1).log
	@python3 grader/trace.py $(B)/trace/lab$(1).log --svg $(B)/trace/lab$(1).svg --json $(B)/trace/lab$(1).json
	@exit $$$$(cat $(B)/trace/lab$(1).status)
endif

lab$(1)-gdb: check-tools $(call lab_build,$(1))/hyp.elf $(GUEST_BUILT) guest-size-check
	@echo "QEMU is halted with a gdb stub on port $(GDBPORT); in another terminal run: make gdb LAB=$(1) GDBPORT=$(GDBPORT)"
	$(call QEMU_CMD,$(1)) -S -gdb tcp::$(GDBPORT)

.PHONY: lab$(1) lab$(1)-gdb
endef
$(foreach n,$(LABS),$(eval $(call LAB_RULES,$(n))))

# make trace-figures: the timelines that the READMEs of labs 03-05 show,
# labs/0N-*/timeline.svg, drawn again from real boots (make labN SMP=4
# TRACE=1, console in build/trace/labN.log). Run it when a lab's trace
# events or lock names change: grader/figures.py fails until then. Each
# boot has a time limit and no stdin; the summary printed is what the
# READMEs quote (times vary from run to run).
TRACE_FIGURE_LABS := 3 4 5
trace-figures: check-tools
	@for n in $(TRACE_FIGURE_LABS); do \
		dir=$$(echo labs/0$$n-*); \
		echo "trace-figures: make lab$$n SMP=4 TRACE=1"; \
		timeout 300 $(MAKE) -s --no-print-directory lab$$n SMP=4 TRACE=1 < /dev/null > /dev/null || \
			{ echo "trace-figures: lab $$n failed (status $$?): see $(B)/trace/lab$$n.log" >&2; exit 1; }; \
		cp $(B)/trace/lab$$n.svg $$dir/timeline.svg && \
		python3 grader/trace.py $(B)/trace/lab$$n.log --summary && \
		echo "trace-figures: wrote $$dir/timeline.svg ($$(wc -c < $$dir/timeline.svg) bytes)" || exit 1; \
	done
.PHONY: trace-figures

# A payload must be a flat binary of at most 32 MiB: QEMU's loader copies it
# byte for byte to guest-physical 0x80200000.
guest-size-check:
	@test -f "$(GUEST_FILE)" || { echo "error: GUEST=$(GUEST): no such file" >&2; exit 1; }
	@if [ "$$(head -c 4 "$(GUEST_FILE)" | od -An -c | tr -d ' ')" = "177ELF" ]; then \
		echo "error: GUEST=$(GUEST) is an ELF file; give a flat binary (riscv64-unknown-elf-objcopy -O binary)" >&2; exit 1; fi
	@if [ $$(stat -c %s "$(GUEST_FILE)") -gt 33554432 ]; then \
		echo "error: GUEST=$(GUEST) is larger than 32 MiB" >&2; exit 1; fi
.PHONY: guest-size-check

# Faulty device trees for the grader's lab 02+ cases: QEMU's own tree at
# -smp 4, dumped, then edited by grader/dtb/edit.py. Boot one with
# QEMU_EXTRA='-dtb build/dtb/cpu1-disabled.dtb' and SMP=4. Each platform's
# QEMU has its own tree: build/dtb for qemu7, build/dtb-qemu10 for qemu10.
DTB_EDITS := cpu1-disabled cpu2-no-h no-memory cpu3-no-reg extra-cpu9 extra-cpu9-first
DTB_DIR := $(B)/dtb$(if $(filter-out qemu7,$(PLATFORM)),-$(PLATFORM))
$(DTB_DIR)/virt-smp4.dts: | check-tools
	@mkdir -p $(@D)
	timeout 20 $(QEMU) -M virt,dumpdtb=$(@D)/virt-smp4.dtb -smp 4 -m $(QEMU_MEM)M -nographic >/dev/null 2>&1
	$(DTC) -q -I dtb -O dts -o $@ $(@D)/virt-smp4.dtb
$(DTB_DIR)/%.dtb: $(DTB_DIR)/virt-smp4.dts grader/dtb/edit.py
	python3 grader/dtb/edit.py $* < $< | $(DTC) -q -I dts -O dtb -o $@ -

# What the grader boots the labs with: the test guests, the other payload,
# the crafted device trees and Linux. It builds them in its own checkout,
# also when it grades another (grader/runner.py).
support: guest fuzzguest $(FUZZ_GUEST_SEEDS:%=$(B)/fuzzguest/fuzzguest-seed%.bin) $(B)/payloads/hello.bin $(B)/payloads/stop-all.bin $(DTB_EDITS:%=$(DTB_DIR)/%.dtb) linux
# One lab and everything its grader cases boot; then `make qemu-cmd` prints
# the exact QEMU command of a case.
build: $(call lab_build,$(LAB))/hyp.elf support
# The same for the native (OpenSBI alone) reference runs.
build-native: support
qemu-cmd:
	@:$(info $(call QEMU_CMD,$(LAB)))
# The same for the test guest (or GUEST=) on OpenSBI alone.
qemu-cmd-native:
	@:$(info $(QEMU_NATIVE_CMD))

gdb: check-tools
	@command -v $(GDB) >/dev/null 2>&1 || { echo "error: $(GDB) not found: run 'make setup'" >&2; exit 1; }
	$(GDB) -q $(call lab_build,$(LAB))/hyp.elf -ex 'set architecture riscv:rv64' \
		-ex 'target remote :$(GDBPORT)'

# make diff LAB=n: what lab n adds to lab n-1, as `diff -ru` of the two
# directories, the command the READMEs use, without the README and the gdb
# walkthrough: those are rewritten for each lab, and 700 lines of prose would
# bury the code. Piped or saved, the output is exactly that command's (with
# its two -x); on a terminal it is coloured (GNU diff's --color,
# which needs no git: a handout copy may not be a checkout). diff exits 1
# when the labs differ, which is the point here; only trouble (2) fails, and
# a reader that stops early (SIGPIPE, 141), as less or head do, does not.
diff:
ifeq ($(filter $(LAB),$(LABS)),)
	@echo "error: no lab $(LAB); the labs are $(LABS)" >&2; exit 1
else ifeq ($(LAB),$(firstword $(LABS)))
	@echo "error: lab $(LAB) is the first lab, there is none before it; try LAB=$(word 2,$(LABS))" >&2; exit 1
else
	@if [ -t 1 ]; then color=--color=always; else color=; fi; \
		diff -ru -x README.md -x walkthrough.gdb $$color $(call lab_dir,$(word $(LAB),0 $(LABS))) $(call lab_dir,$(LAB)); \
		status=$$?; [ $$status -le 1 ] || [ $$status -eq 141 ]
endif

# The C style: .clang-format (clang-format 14) and .editorconfig.
C_FILES = $(or $(shell git ls-files '*.c' '*.h' 2>/dev/null),$(shell find . -path ./$(B) -prune -o -name '*.[ch]' -print))
format:
	@command -v clang-format >/dev/null 2>&1 || { echo "error: clang-format not found: run 'make setup'" >&2; exit 1; }
	@echo "clang-format -i: $(words $(C_FILES)) files"
	@clang-format -i --style=file $(C_FILES)
format-check:
	@python3 common/tools/format-check.py

# Each lab's .c, .h and .S files against the lab before it: identical, but
# for those its lesson changes, listed in common/tools/copies.py.
copies-check:
	@python3 common/tools/copies.py

# How the labs' modules include each other (common/tools/layers.py).
layers-check:
	@python3 common/tools/layers.py

# compile_commands.json, so that clangd knows each file's flags: every lab
# (each with its own -I and config.h: the labs share file names), the test
# guests, the bench guest, tests/host and tests/fuzz. bear records the
# compiles of one build; -B makes it a whole one even when build/ is up to
# date.
compdb: check-tools
	@command -v bear >/dev/null 2>&1 || { echo "error: bear not found: run 'make setup'" >&2; exit 1; }
	@command -v clang >/dev/null 2>&1 || { echo "error: clang not found: run 'make setup'" >&2; exit 1; }
	bear --output compile_commands.json -- $(MAKE) -B -s all $(B)/bench/guest.elf host-build fuzz-build
	@echo "compdb: compile_commands.json has $$(grep -c '"file":' compile_commands.json) entries"
host-build:
	@$(MAKE) -s -C tests/host build
fuzz-build:
	@$(MAKE) -s -C tests/fuzz all
.PHONY: host-build fuzz-build

clean:
	rm -rf $(B)

FORCE:
