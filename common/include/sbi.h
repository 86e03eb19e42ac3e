/*
 * sbi.h: the Supervisor Binary Interface, as a caller sees it.
 * Reference: RISC-V SBI specification v2.0 ("Binary Encoding", and one
 * chapter per extension). The hypervisor calls its firmware (OpenSBI) with
 * these; the test guest calls the hypervisor with the same wrappers.
 */
#ifndef SBI_H
#define SBI_H

#include <stdint.h>

/* Extension IDs */
#define SBI_EXT_LEGACY_PUTCHAR 0x01
#define SBI_EXT_LEGACY_GETCHAR 0x02
#define SBI_EXT_LEGACY_LAST 0x0F /* 0x00-0x0F: the legacy extensions of SBI v0.1 */
#define SBI_EXT_BASE 0x10
#define SBI_EXT_TIME 0x54494D45
#define SBI_EXT_IPI 0x735049
#define SBI_EXT_RFENCE 0x52464E43
#define SBI_EXT_HSM 0x48534D
#define SBI_EXT_SRST 0x53525354
#define SBI_EXT_DBCN 0x4442434E

/* Base extension functions */
#define SBI_BASE_GET_SPEC_VERSION 0
#define SBI_BASE_GET_IMPL_ID 1
#define SBI_BASE_GET_IMPL_VERSION 2
#define SBI_BASE_PROBE_EXT 3
#define SBI_BASE_GET_MVENDORID 4
#define SBI_BASE_GET_MARCHID 5
#define SBI_BASE_GET_MIMPID 6

/* Implementation ids (get_impl_id; SBI spec, "SBI Implementation IDs") */
#define SBI_IMPL_OPENSBI 1

/* HSM functions */
#define SBI_HSM_HART_START 0
#define SBI_HSM_HART_STOP 1
#define SBI_HSM_HART_GET_STATUS 2
#define SBI_HSM_HART_SUSPEND 3

/* HSM hart states, as hart_get_status returns them */
#define SBI_HSM_STATE_STARTED 0
#define SBI_HSM_STATE_STOPPED 1
#define SBI_HSM_STATE_START_PENDING 2
#define SBI_HSM_STATE_STOP_PENDING 3
#define SBI_HSM_STATE_SUSPENDED 4
#define SBI_HSM_STATE_SUSPEND_PENDING 5
#define SBI_HSM_STATE_RESUME_PENDING 6

/* TIME function */
#define SBI_TIME_SET_TIMER 0

/* IPI function */
#define SBI_IPI_SEND 0

/* RFENCE functions (3-6 are for a guest that is itself a hypervisor) */
#define SBI_RFENCE_FENCE_I 0
#define SBI_RFENCE_SFENCE_VMA 1
#define SBI_RFENCE_SFENCE_VMA_ASID 2

/* DBCN functions */
#define SBI_DBCN_WRITE 0
#define SBI_DBCN_READ 1
#define SBI_DBCN_WRITE_BYTE 2

/* SRST: function, types and reasons */
#define SBI_SRST_RESET 0
#define SBI_SRST_TYPE_SHUTDOWN 0
#define SBI_SRST_TYPE_COLD_REBOOT 1
#define SBI_SRST_TYPE_WARM_REBOOT 2
#define SBI_SRST_REASON_NONE 0
#define SBI_SRST_REASON_FAILURE 1

/* Standard error codes, returned in a0 */
#define SBI_SUCCESS 0
#define SBI_ERR_FAILED (-1)
#define SBI_ERR_NOT_SUPPORTED (-2)
#define SBI_ERR_INVALID_PARAM (-3)
#define SBI_ERR_DENIED (-4)
#define SBI_ERR_INVALID_ADDRESS (-5)
#define SBI_ERR_ALREADY_AVAILABLE (-6)
#define SBI_ERR_ALREADY_STARTED (-7)
#define SBI_ERR_ALREADY_STOPPED (-8)
#define SBI_ERR_NO_SHMEM (-9)

/* Spec version encoding: major in bits 30:24, minor in bits 23:0 */
#define SBI_SPEC_VERSION(major, minor) (((uint64_t)(major) << 24) | (minor))

struct sbiret {
	long error;
	long value;
};

/* One SBI call: a7 = extension, a6 = function, a0..a5 = arguments. */
struct sbiret sbi_ecall(uint64_t ext, uint64_t fid, uint64_t a0, uint64_t a1,
			uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);

void sbi_console_putchar(int ch);
int sbi_console_getchar(void);
struct sbiret sbi_probe_extension(uint64_t ext);
struct sbiret sbi_system_reset(uint64_t type, uint64_t reason);
struct sbiret sbi_hart_start(uint64_t hartid, uint64_t start_addr, uint64_t opaque);
struct sbiret sbi_hart_get_status(uint64_t hartid);
/* Sets the supervisor software interrupt pending on each hart whose bit is
 * set in hart_mask; bit i stands for hart hart_mask_base + i. */
struct sbiret sbi_send_ipi(uint64_t hart_mask, uint64_t hart_mask_base);
/* Sets the supervisor timer interrupt to fire once time >= stime_value. */
struct sbiret sbi_set_timer(uint64_t stime_value);

#endif
