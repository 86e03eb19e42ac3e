/*
 * vsbi.h: the SBI this hypervisor implements for its guest ("virtual SBI").
 * Reference: RISC-V SBI specification v2.0.
 */
#ifndef VSBI_H
#define VSBI_H

#include "vcpu.h"

/* Not a registered SBI implementation ID: these labs, for teaching. */
#define VSBI_IMPL_ID 0x4C414253 /* "LABS" */

/*
 * Handles the guest's ecall: a7 = extension, a6 = function, a0..a5 =
 * arguments. Writes the result to the guest's a0 (error) and a1 (value),
 * and resumes the guest after the ecall.
 */
void vsbi_handle(struct vcpu *v);

#endif
