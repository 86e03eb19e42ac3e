/* guest_dtb.S: the guest's device tree, compiled by dtc from guest.dts. */
	.section .rodata
	.balign 8
	.globl guest_dtb_start, guest_dtb_end
guest_dtb_start:
	.incbin GUEST_DTB_PATH
guest_dtb_end:
