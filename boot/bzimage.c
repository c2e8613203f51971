/* bzImage validation: everything x86_boot_load relies on is checked here,
 * once, with a message that tells the user what to do about it. */
#include <stdio.h>
#include <string.h>
#include "boot.h"
#include "bootparam.h"
#include "layout.h"

#define MIN_PROTOCOL		0x020c	/* 2.12: xloadflags, 64-bit entry */
#define MAX_KERNEL_SIZE		(1ULL << 30)	/* no real bzImage is near this */
#define SECTOR			512u

static int fail(const char **why, const char *msg)
{
	*why = msg;
	return -1;
}

/* The protocol version is worth showing, so this one message is formatted;
 * it lives in thread-local static storage like the other messages'. */
static const char *old_protocol_msg(uint16_t version)
{
	static _Thread_local char msg[80];

	snprintf(msg, sizeof(msg),
		 "kernel boot protocol %u.%02u too old: need 2.12 (Linux 3.8 or newer)",
		 version >> 8, version & 0xff);
	return msg;
}

int bzimage_parse(const uint8_t *img, size_t size, struct bzimage_info *info,
		  const char **why)
{
	static const uint8_t elf_magic[4] = { 0x7f, 'E', 'L', 'F' };
	struct setup_header h;
	uint64_t setup_size, payload, sys_bytes;

	memset(info, 0, sizeof(*info));
	if (size == 0)
		return fail(why, "kernel image is empty");
	if (size >= sizeof(elf_magic) && !memcmp(img, elf_magic, sizeof(elf_magic)))
		return fail(why, "this is an ELF vmlinux, minivmm needs a bzImage "
			    "(arch/x86/boot/bzImage or /boot/vmlinuz-*)");
	if (size > MAX_KERNEL_SIZE)
		return fail(why, "kernel image is larger than 1 GiB: not a bzImage");
	if (size < SETUP_HDR_OFFSET + sizeof(h))
		return fail(why, "kernel image too short for a bzImage setup header "
			    "(truncated download?)");
	memcpy(&h, img + SETUP_HDR_OFFSET, sizeof(h));

	/* HdrS first: a compressed or ELF file fails here with the hint. */
	if (h.header != HDRS_MAGIC)
		return fail(why, "not a bzImage: no HdrS signature "
			    "(is this a vmlinux ELF or a compressed file?)");
	if (h.boot_flag != BOOT_FLAG_MAGIC)
		return fail(why, "not a bzImage: no 0xAA55 boot flag at 0x1fe "
			    "(corrupt kernel image?)");
	info->version = h.version;
	if (h.version < MIN_PROTOCOL)
		return fail(why, old_protocol_msg(h.version));
	if (!(h.loadflags & LOADED_HIGH))
		return fail(why, "this is a zImage (loaded low): minivmm needs a bzImage");
	if (!(h.xloadflags & XLF_KERNEL_64))
		return fail(why, "kernel has no 64-bit entry point: "
			    "minivmm needs an x86_64 bzImage");

	setup_size = ((uint64_t)(h.setup_sects ? h.setup_sects : 4) + 1) * SECTOR;
	if (setup_size > size)
		return fail(why, "kernel is truncated: its setup sectors run past "
			    "the end of the file");
	payload = size - setup_size;
	if (payload == 0)
		return fail(why, "kernel is truncated: no protected-mode kernel "
			    "after the setup sectors");
	/* syssize counts 16-byte paragraphs, rounded up; the file may carry
	 * more (e.g. an appended signature) but never less. */
	sys_bytes = (uint64_t)h.syssize * 16;
	if (sys_bytes == 0)
		return fail(why, "bzImage header is corrupt: syssize is 0");
	if (sys_bytes > payload + 15)
		return fail(why, "kernel is truncated: the file is shorter than "
			    "its header's syssize");
	if (h.relocatable_kernel &&
	    (h.kernel_alignment == 0 ||
	     (h.kernel_alignment & (h.kernel_alignment - 1))))
		return fail(why, "bzImage header is corrupt: kernel_alignment "
			    "is not a power of two");

	info->setup_size = (uint32_t)setup_size;
	info->payload_offset = setup_size;
	info->payload_size = payload;
	/* Fields newer than some protocol get the boot.rst defaults on older
	 * kernels; kept version-gated so MIN_PROTOCOL alone decides support. */
	info->initrd_addr_max = h.version >= 0x0203 ? h.initrd_addr_max : 0x37ffffff;
	info->cmdline_size = h.version >= 0x0206 ? h.cmdline_size : 255;
	info->kernel_alignment = h.version >= 0x0205 ? h.kernel_alignment : 0;
	info->relocatable = h.version >= 0x0205 && h.relocatable_kernel;
	info->pref_address = h.version >= 0x020a ? h.pref_address : HIMEM_START;
	info->init_size = h.version >= 0x020a ? h.init_size : 0;
	*why = NULL;
	return 0;
}
