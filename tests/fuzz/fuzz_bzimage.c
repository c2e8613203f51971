/* fuzz_bzimage: the bzImage parser and the x86 loader (boot/bzimage.c,
 * boot/x86_boot.c) on the input as a kernel image.  The kernel file is
 * the user's, not the guest's, but it is the first thing parsed and may
 * come from anywhere.
 *
 * The input is the kernel; when its size is odd, its second half is the
 * initrd too.  Byte 0x1ef (in the boot sector, which the loader ignores)
 * sets the command-line length (x 16).  Guest memory is 128 MiB, calloc'd
 * once.
 *
 * Checks besides the sanitizers: a parse that succeeds describes the file
 * (setup + payload == size, whole sectors, payload after the setup) and
 * one that fails says why; a load that fails leaves the zero page, the
 * command line, the GDT and the kernel's first page untouched; any load
 * leaves the EBDA..1 MiB area (ACPI tables, reset vector) alone; a load
 * that succeeds enters at startup_64 with %rsi at the zero page, copies
 * the payload to 1 MiB, and puts the initrd page-aligned above the
 * kernel, below initrd_addr_max and inside RAM.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "boot.h"
#include "bootparam.h"
#include "fuzz_common.h"
#include "layout.h"

#define RAM (128ULL << 20)

static uint8_t *ram;
static struct guest_mem gm;
static char cmdline[4096 + 1];
static uint8_t canary[0x1000], ebda[HIMEM_START - EBDA_START];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	ram = calloc(1, RAM);
	if (!ram || guest_mem_add(&gm, 0, RAM, ram))
		abort();
	/* Never written by the loader: EBDA, ACPI area, reset vector. */
	memset(ebda, 0xee, sizeof(ebda));
	memcpy(ram + EBDA_START, ebda, sizeof(ebda));
	memset(canary, 0xcc, sizeof(canary));
	return 0;
}

/* Still the 0xcc the canary put there? */
static int untouched(uint64_t gpa, uint64_t len)
{
	return fz_diff(ram + gpa, canary, len) == len;
}

static void check_info(const struct bzimage_info *bi, size_t size)
{
	FZ_CHECK(bi->setup_size >= 1024 && bi->setup_size % 512 == 0);
	FZ_CHECK(bi->payload_offset == bi->setup_size);
	FZ_CHECK(bi->payload_size > 0);
	FZ_CHECK(bi->setup_size + bi->payload_size == size);
	FZ_CHECK(bi->version >= 0x020c);
	FZ_CHECK(!bi->relocatable || (bi->kernel_alignment &&
				      !(bi->kernel_alignment & (bi->kernel_alignment - 1))));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bzimage_info bi;
	struct boot_config cfg = {
		.kernel = data, .kernel_size = size,
		.cmdline = cmdline, .ram_size = RAM,
		.rsdp_addr = ACPI_TABLES_ADDR,
	};
	struct boot_entry entry;
	const char *why = NULL;
	size_t clen = size > 0x1ef ? data[0x1ef] * 16u : 13;
	int parsed, r;

	if (size & 1) {
		cfg.initrd = data + size / 2;
		cfg.initrd_size = size - size / 2;
	}
	memset(cmdline, 'a', clen);
	cmdline[clen] = '\0';

	parsed = bzimage_parse(data, size, &bi, &why);
	if (parsed == 0) {
		FZ_CHECK(why == NULL);
		check_info(&bi, size);
	} else {
		FZ_CHECK(parsed == -1 && why && *why);
	}

	/* Canaries where a refused load must not write. */
	memcpy(ram + BOOT_PARAMS_ADDR, canary, 0x1000);
	memcpy(ram + CMDLINE_ADDR, canary, 0x1000);
	memcpy(ram + GDT_ADDR, canary, 0x100);
	memcpy(ram + KERNEL_LOAD_ADDR, canary, 0x1000);
	why = NULL;
	r = x86_boot_load(&gm, &cfg, &entry, &why);
	FZ_CHECK(fz_diff(ram + EBDA_START, ebda, sizeof(ebda)) == sizeof(ebda));
	if (r < 0) {
		FZ_CHECK(r == -1 && why && *why);
		FZ_CHECK(untouched(BOOT_PARAMS_ADDR, 0x1000));
		FZ_CHECK(untouched(CMDLINE_ADDR, 0x1000));
		FZ_CHECK(untouched(GDT_ADDR, 0x100));
		FZ_CHECK(untouched(KERNEL_LOAD_ADDR, 0x1000));
		return 0;
	}
	/* Only a kernel the parser accepts loads. */
	FZ_CHECK(parsed == 0 && why == NULL);
	FZ_CHECK(entry.rip == KERNEL_LOAD_ADDR + 0x200);
	FZ_CHECK(entry.rsi == BOOT_PARAMS_ADDR);
	FZ_CHECK(KERNEL_LOAD_ADDR + bi.payload_size <= RAM);
	FZ_CHECK(!memcmp(ram + KERNEL_LOAD_ADDR, data + bi.payload_offset,
			 bi.payload_size < 4096 ? bi.payload_size : 4096));
	FZ_CHECK(ram[KERNEL_LOAD_ADDR + bi.payload_size - 1] == data[size - 1]);
	FZ_CHECK(!memcmp(ram + CMDLINE_ADDR, cmdline, clen + 1));
	if (cfg.initrd_size) {
		FZ_CHECK(entry.initrd_addr % 4096 == 0);
		FZ_CHECK(entry.initrd_addr >= KERNEL_LOAD_ADDR + bi.payload_size);
		FZ_CHECK(entry.initrd_addr + cfg.initrd_size <= RAM);
		FZ_CHECK(entry.initrd_addr + cfg.initrd_size - 1 <= bi.initrd_addr_max);
		FZ_CHECK(!memcmp(ram + entry.initrd_addr, cfg.initrd,
				 cfg.initrd_size < 4096 ? cfg.initrd_size : 4096));
	} else {
		FZ_CHECK(entry.initrd_addr == 0);
	}
	{
		struct boot_params *bp = (struct boot_params *)(ram + BOOT_PARAMS_ADDR);

		FZ_CHECK(bp->hdr.cmd_line_ptr == CMDLINE_ADDR);
		FZ_CHECK(bp->e820_entries <= E820_MAX);
		FZ_CHECK(bp->hdr.ramdisk_image == (uint32_t)entry.initrd_addr);
		FZ_CHECK(bp->hdr.ramdisk_size == (uint32_t)cfg.initrd_size);
	}
	return 0;
}
