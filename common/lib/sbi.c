/*
 * sbi.c: calls into the SBI implementation one privilege level down the
 * stack: OpenSBI for the hypervisor, the hypervisor for a guest.
 */
#include "sbi.h"

struct sbiret sbi_ecall(uint64_t ext, uint64_t fid, uint64_t arg0, uint64_t arg1,
			uint64_t arg2, uint64_t arg3, uint64_t arg4, uint64_t arg5)
{
	register uint64_t a0 asm("a0") = arg0;
	register uint64_t a1 asm("a1") = arg1;
	register uint64_t a2 asm("a2") = arg2;
	register uint64_t a3 asm("a3") = arg3;
	register uint64_t a4 asm("a4") = arg4;
	register uint64_t a5 asm("a5") = arg5;
	register uint64_t a6 asm("a6") = fid;
	register uint64_t a7 asm("a7") = ext;
	/* "memory": the callee may read or write memory we pass by address. */
	asm volatile("ecall"
		     : "+r"(a0), "+r"(a1)
		     : "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a6), "r"(a7)
		     : "memory");
	return (struct sbiret){ (long)a0, (long)a1 };
}

/* Legacy extension 0x01: only a0 is meaningful on return. */
void sbi_console_putchar(int ch)
{
	sbi_ecall(SBI_EXT_LEGACY_PUTCHAR, 0, (uint64_t)ch, 0, 0, 0, 0, 0);
}

/* Legacy extension 0x02: returns the byte, or -1 when none is waiting. */
int sbi_console_getchar(void)
{
	return (int)sbi_ecall(SBI_EXT_LEGACY_GETCHAR, 0, 0, 0, 0, 0, 0, 0).error;
}

struct sbiret sbi_probe_extension(uint64_t ext)
{
	return sbi_ecall(SBI_EXT_BASE, SBI_BASE_PROBE_EXT, ext, 0, 0, 0, 0, 0);
}

struct sbiret sbi_system_reset(uint64_t type, uint64_t reason)
{
	return sbi_ecall(SBI_EXT_SRST, SBI_SRST_RESET, type, reason, 0, 0, 0, 0);
}

struct sbiret sbi_hart_start(uint64_t hartid, uint64_t start_addr, uint64_t opaque)
{
	return sbi_ecall(SBI_EXT_HSM, SBI_HSM_HART_START, hartid, start_addr,
			 opaque, 0, 0, 0);
}

struct sbiret sbi_hart_get_status(uint64_t hartid)
{
	return sbi_ecall(SBI_EXT_HSM, SBI_HSM_HART_GET_STATUS, hartid, 0, 0, 0, 0, 0);
}

struct sbiret sbi_send_ipi(uint64_t hart_mask, uint64_t hart_mask_base)
{
	return sbi_ecall(SBI_EXT_IPI, SBI_IPI_SEND, hart_mask, hart_mask_base, 0, 0, 0, 0);
}

struct sbiret sbi_set_timer(uint64_t stime_value)
{
	return sbi_ecall(SBI_EXT_TIME, SBI_TIME_SET_TIMER, stime_value, 0, 0, 0, 0, 0);
}
