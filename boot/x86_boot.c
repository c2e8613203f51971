/* Loads a bzImage for the 64-bit boot protocol (boot.rst, "64-bit Boot
 * Protocol"): the protected-mode kernel at KERNEL_LOAD_ADDR, the zero page,
 * the command line, an initrd, a GDT and an identity map of the low 4 GiB;
 * the BSP then starts at startup_64 with %rsi pointing at the zero page.
 *
 * Everything is checked before the first byte is written, so a refused
 * load leaves guest memory untouched, and only the ranges listed in
 * layout.h (plus the kernel and the initrd) are ever written. */
#include <stdio.h>
#include <string.h>
#include "boot.h"
#include "bootparam.h"
#include "layout.h"

#define PAGE_SIZE		0x1000ULL
#define HUGE_PAGE		0x200000ULL
#define PTE_PRESENT		(1ULL << 0)
#define PTE_RW			(1ULL << 1)
#define PTE_PS			(1ULL << 7)
#define NR_PD			4	/* 4 x 1 GiB = the low 4 GiB */
#define STARTUP_64_OFFSET	0x200	/* startup_64 = startup_32 + 0x200 */
#define HEAP_END_PTR		0xfe00	/* segment end - 0x200; unused by startup_64 */

#define GDT_CODE64		0x00af9b000000ffffULL	/* L=1, P, DPL0, exec/read */
#define GDT_DATA		0x00cf93000000ffffULL	/* flat 4 GiB, read/write */
#define GDT_ENTRIES		4	/* null, unused, __BOOT_CS, __BOOT_DS */

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* End of the memory the kernel needs from KERNEL_LOAD_ADDR up.  startup_64
 * decompresses into init_size bytes at the load address rounded up to
 * kernel_alignment but never below pref_address (LOAD_PHYSICAL_ADDR, 16 MiB
 * on distribution kernels), or at pref_address when it is not relocatable;
 * an initrd placed below that end would be overwritten. */
static int kernel_end(const struct bzimage_info *bi, uint64_t *end)
{
	uint64_t load_end, run, run_end;

	if (bi->relocatable)
		run = max_u64(align_up(KERNEL_LOAD_ADDR, bi->kernel_alignment),
			      bi->pref_address);
	else
		run = max_u64(KERNEL_LOAD_ADDR, bi->pref_address);
	if (!range_add_ok(KERNEL_LOAD_ADDR, bi->payload_size, &load_end) ||
	    !range_add_ok(run, bi->init_size, &run_end) ||
	    run_end > UINT64_MAX - PAGE_SIZE)
		return -1;
	*end = align_up(max_u64(load_end, run_end), PAGE_SIZE);
	return 0;
}

/* How much RAM to ask for is the useful part of this refusal, so it is
 * formatted into thread-local static storage rather than a literal. */
static const char *kernel_too_big_msg(uint64_t end)
{
	static _Thread_local char msg[96];

	snprintf(msg, sizeof(msg),
		 "kernel needs %llu MiB of guest RAM to decompress: raise --mem",
		 (unsigned long long)((end + (1 << 20) - 1) >> 20));
	return msg;
}

/* Highest page-aligned spot below both initrd_addr_max and the end of low
 * RAM, above the kernel; boot.rst asks for as high as possible. */
static int place_initrd(const struct bzimage_info *bi, uint64_t size,
			uint64_t low_end, uint64_t kern_end, uint64_t *addr,
			const char **why)
{
	uint64_t max_end = (uint64_t)bi->initrd_addr_max + 1;
	uint64_t ceiling = low_end < max_end ? low_end : max_end;

	if (size > ceiling || ((ceiling - size) & ~(PAGE_SIZE - 1)) < kern_end) {
		*why = ceiling == low_end ?
			"initrd does not fit in guest RAM above the kernel: raise --mem" :
			"initrd does not fit below the kernel's initrd_addr_max: "
			"use a smaller initrd";
		return -1;
	}
	*addr = (ceiling - size) & ~(PAGE_SIZE - 1);
	return 0;
}

static void fill_boot_params(struct boot_params *bp, const struct boot_config *cfg,
			     const struct bzimage_info *bi, uint64_t initrd_addr)
{
	size_t hdr_end = SETUP_HDR_JUMP + 2 + cfg->kernel[SETUP_HDR_JUMP + 1];
	uint64_t rd_size = cfg->initrd_size;

	/* Copy the header as far as the kernel says it goes (bzimage_parse
	 * guarantees the setup sectors cover SETUP_HDR_LIMIT). */
	memset(bp, 0, sizeof(*bp));
	if (hdr_end > SETUP_HDR_LIMIT)
		hdr_end = SETUP_HDR_LIMIT;
	memcpy((uint8_t *)bp + SETUP_HDR_OFFSET, cfg->kernel + SETUP_HDR_OFFSET,
	       hdr_end - SETUP_HDR_OFFSET);

	bp->hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
	bp->hdr.loadflags |= LOADED_HIGH | CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = HEAP_END_PTR;
	bp->hdr.vid_mode = VID_MODE_NORMAL;
	bp->hdr.setup_data = 0;		/* the kernel would walk it */
	bp->hdr.hardware_subarch = 0;	/* a plain PC */
	bp->hdr.cmd_line_ptr = (uint32_t)CMDLINE_ADDR;
	bp->ext_cmd_line_ptr = (uint32_t)(CMDLINE_ADDR >> 32);
	bp->hdr.ramdisk_image = (uint32_t)initrd_addr;
	bp->ext_ramdisk_image = (uint32_t)(initrd_addr >> 32);
	bp->hdr.ramdisk_size = (uint32_t)rd_size;
	bp->ext_ramdisk_size = (uint32_t)(rd_size >> 32);
	/* Older kernels ignore the field and scan 0xe0000 for the RSDP. */
	if (bi->version >= 0x020e)
		bp->acpi_rsdp_addr = cfg->rsdp_addr;
	bp->e820_entries = (uint8_t)e820_build(cfg->ram_size, bp->e820_table, E820_MAX);
}

/* 2 MiB identity pages for [0, 4 GiB): enough for the kernel, the zero page
 * and the command line wherever they are, as the 64-bit protocol asks. */
static void build_page_tables(uint64_t *pml4, uint64_t *pdpt, uint64_t *pd)
{
	memset(pml4, 0, PAGE_SIZE);
	memset(pdpt, 0, PAGE_SIZE);
	pml4[0] = PDPT_ADDR | PTE_PRESENT | PTE_RW;
	for (unsigned i = 0; i < NR_PD; i++)
		pdpt[i] = (PD_ADDR + i * PAGE_SIZE) | PTE_PRESENT | PTE_RW;
	for (uint64_t i = 0; i < NR_PD * 512; i++)
		pd[i] = i * HUGE_PAGE | PTE_PRESENT | PTE_RW | PTE_PS;
}

struct blob {
	uint64_t gpa;
	const void *src;
	uint64_t len;
};

int x86_boot_load(struct guest_mem *gm, const struct boot_config *cfg,
		  struct boot_entry *entry, const char **why)
{
	struct boot_params bp;
	uint64_t pml4[512], pdpt[512], pd[NR_PD * 512];	/* 24 KiB, built once */
	const uint64_t gdt[GDT_ENTRIES] = {
		[BOOT_GDT_CODE / 8] = GDT_CODE64,
		[BOOT_GDT_DATA / 8] = GDT_DATA,
	};
	const char *cmdline = cfg->cmdline ? cfg->cmdline : "";
	size_t cmdline_len = strlen(cmdline);
	struct bzimage_info bi;
	struct vmlinux_info vi;
	struct ram_layout rl;
	uint64_t kern_end, initrd_addr = 0;

	if (bzimage_parse(cfg->kernel, cfg->kernel_size, &bi, why) < 0)
		return -1;
	if (cfg->vmlinux &&
	    vmlinux_parse(cfg->vmlinux, cfg->vmlinux_size, &bi, &vi, why) < 0)
		return -1;
	/* cmdline_size excludes the NUL; our window at CMDLINE_ADDR includes it. */
	if (cmdline_len > bi.cmdline_size) {
		*why = "kernel command line is longer than this kernel's cmdline_size";
		return -1;
	}
	if (cmdline_len >= CMDLINE_MAX) {
		*why = "kernel command line is longer than 64 KiB";
		return -1;
	}
	ram_layout_for(cfg->ram_size, &rl);
	if (kernel_end(&bi, &kern_end) < 0) {
		*why = "bzImage header is corrupt: pref_address + init_size overflows";
		return -1;
	}
	if (kern_end > rl.low_size) {
		*why = kernel_too_big_msg(kern_end);
		return -1;
	}
	if (cfg->initrd_size) {
		if (!cfg->initrd) {
			*why = "initrd has a size but no data (minivmm bug)";
			return -1;
		}
		if (place_initrd(&bi, cfg->initrd_size, rl.low_size, kern_end,
				 &initrd_addr, why) < 0)
			return -1;
	}

	fill_boot_params(&bp, cfg, &bi, initrd_addr);
	build_page_tables(pml4, pdpt, pd);

	const struct blob blobs[] = {
		{ GDT_ADDR, gdt, sizeof(gdt) },
		{ BOOT_PARAMS_ADDR, &bp, sizeof(bp) },
		{ PML4_ADDR, pml4, sizeof(pml4) },
		{ PDPT_ADDR, pdpt, sizeof(pdpt) },
		{ PD_ADDR, pd, sizeof(pd) },
		{ CMDLINE_ADDR, cmdline, cmdline_len + 1 },
		{ KERNEL_LOAD_ADDR, cfg->kernel + bi.payload_offset, bi.payload_size },
		{ initrd_addr, cfg->initrd, cfg->initrd_size },
	};
	const unsigned nr_blobs = cfg->initrd_size ? 8 : 7;
	/* A decompressed kernel replaces the compressed payload (blob 6). */
	const unsigned skip = cfg->vmlinux ? 6 : nr_blobs;

	/* All or nothing: a hole in guest memory is caught before any write. */
	for (unsigned i = 0; i < nr_blobs; i++) {
		if (i != skip && !guest_mem_ptr(gm, blobs[i].gpa, blobs[i].len)) {
			*why = "guest memory does not cover the boot layout (minivmm bug)";
			return -1;
		}
	}
	for (unsigned i = 0; cfg->vmlinux && i < vi.nr_segs; i++) {
		if (!guest_mem_ptr(gm, vi.seg[i].paddr, vi.seg[i].memsz)) {
			*why = kernel_too_big_msg(vi.seg[i].paddr + vi.seg[i].memsz);
			return -1;
		}
	}
	for (unsigned i = 0; i < nr_blobs; i++)
		if (i != skip)
			guest_mem_write(gm, blobs[i].gpa, blobs[i].src, blobs[i].len);
	for (unsigned i = 0; cfg->vmlinux && i < vi.nr_segs; i++) {
		const struct vmlinux_segment *sg = &vi.seg[i];

		guest_mem_write(gm, sg->paddr, cfg->vmlinux + sg->offset,
				sg->filesz);
		if (sg->memsz > sg->filesz)
			memset(guest_mem_ptr(gm, sg->paddr + sg->filesz,
					     sg->memsz - sg->filesz), 0,
			       sg->memsz - sg->filesz);
	}

	*entry = (struct boot_entry){
		.rip = cfg->vmlinux ? vi.entry : KERNEL_LOAD_ADDR + STARTUP_64_OFFSET,
		.rsi = BOOT_PARAMS_ADDR,
		.cr3 = PML4_ADDR,
		.gdt_base = GDT_ADDR,
		.gdt_limit = sizeof(gdt) - 1,
		.initrd_addr = initrd_addr,
	};
	*why = NULL;
	return 0;
}
