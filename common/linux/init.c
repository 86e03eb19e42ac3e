/*
 * init.c: the Linux guest's only program (PID 1, static). It says how many
 * CPUs the kernel brought online and powers the machine off, which Linux
 * does through SBI SRST.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
	cpu_set_t set;

	/* Init may run on every online CPU: its affinity mask lists them all. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		printf("init: %d CPUs online\n", CPU_COUNT(&set));
	else
		printf("init: sched_getaffinity failed\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	printf("init: power off failed\n");
	return 1;
}
