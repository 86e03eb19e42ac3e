/* param.h: the build's limits, one per line. */
#ifndef PARAM_H
#define PARAM_H

#define HYP_MAX_HARTS 8 /* harts this build uses; more are reported and left alone */
#define PLATFORM_MAX_CPUS 64 /* cpu nodes listed in the boot table */
#define HART_ISA_MAX 1024 /* one hart's ISA string and its NUL (QEMU 10: 303, -cpu max 775) */
#define GUEST_DTB_MAX 0x10000 /* room for the guest's device tree */
#define HART_STACK_SIZE 16384 /* each secondary hart's stack */
#define HART_ONLINE_TIMEOUT_MS 2000 /* how long a started hart has to check in */

#endif
