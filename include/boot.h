/* Linux x86 boot protocol: bzImage parsing and loading, e820, boot_params.
 * Nothing here touches KVM: it writes into guest memory through guest_mem
 * only, so the loaders are unit-tested against fake memory. */
#ifndef MINIVMM_BOOT_H
#define MINIVMM_BOOT_H

#include <stddef.h>
#include <stdint.h>
#include "guest_mem.h"

/* What the setup header of a bzImage says, after validation. */
struct bzimage_info {
	uint16_t version;		/* boot protocol, e.g. 0x020f */
	uint32_t setup_size;		/* bytes of real-mode setup incl. sector 0 */
	uint64_t payload_offset;	/* == setup_size */
	uint64_t payload_size;		/* protected-mode kernel bytes */
	uint32_t init_size;		/* memory the kernel needs at load addr */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;		/* max bytes excluding NUL */
	uint32_t kernel_alignment;
	uint64_t pref_address;
	int relocatable;
};

/* Validates a bzImage in memory.  On error returns -1 and points *why at a
 * static message such as "not a bzImage (no HdrS signature)". */
int bzimage_parse(const uint8_t *img, size_t size, struct bzimage_info *info,
		  const char **why);

/* The decompressed kernel (vmlinux.c): its PT_LOAD segments, each inside
 * [pref_address, pref_address + init_size) - where the bzImage's own
 * decompressor would have put it - and the entry point (startup_64). */
#define VMLINUX_MAX_SEGMENTS	16
struct vmlinux_segment {
	uint64_t paddr, offset, filesz, memsz;
};
struct vmlinux_info {
	struct vmlinux_segment seg[VMLINUX_MAX_SEGMENTS];
	unsigned nr_segs;
	uint64_t entry;
};

/* Checks a vmlinux ELF against the bzImage it came from; -1 with *why. */
int vmlinux_parse(const uint8_t *elf, size_t size,
		  const struct bzimage_info *bi, struct vmlinux_info *out,
		  const char **why);

/* Decompresses an xz-compressed bzImage payload into a malloc'd vmlinux
 * (at most init_size bytes); -1 with *why (other compressions too). */
int bzimage_decompress(const uint8_t *img, size_t size, uint8_t **out,
		       size_t *out_size, const char **why);

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define E820_RAM	1
#define E820_RESERVED	2
#define E820_ACPI	3
#define E820_MAX	16

/* Fills the map for ram_size bytes of RAM laid out as in layout.h (low RAM,
 * reserved BIOS area, RAM up to the 32-bit hole, RAM above 4 GiB).
 * Returns the number of entries. */
unsigned e820_build(uint64_t ram_size, struct e820_entry *map, unsigned max);

/* Guest RAM regions for ram_size: below the hole and above 4 GiB. */
struct ram_layout {
	uint64_t low_size;	/* [0, low_size) */
	uint64_t high_size;	/* [4 GiB, 4 GiB + high_size) */
};
void ram_layout_for(uint64_t ram_size, struct ram_layout *out);

struct boot_config {
	const uint8_t *kernel;	size_t kernel_size;
	/* Optional: the kernel already decompressed (bzimage_decompress),
	 * loaded instead of the compressed payload and entered directly. */
	const uint8_t *vmlinux;	size_t vmlinux_size;
	const uint8_t *initrd;	size_t initrd_size;	/* may be NULL/0 */
	const char *cmdline;
	uint64_t ram_size;
	uint64_t rsdp_addr;	/* 0 when no ACPI */
};

/* Result of loading: where to start the BSP. */
struct boot_entry {
	uint64_t rip;		/* 64-bit entry point */
	uint64_t rsi;		/* boot_params address */
	uint64_t cr3;		/* PML4 */
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint64_t initrd_addr;	/* 0 when none */
};

/* Loads kernel, initrd and cmdline into guest memory, writes boot_params
 * with the e820 map, the GDT and identity page tables.  On error returns -1
 * with *why set to a message a user can act on ("initrd does not fit below
 * initrd_addr_max: use more --mem", ...). */
int x86_boot_load(struct guest_mem *gm, const struct boot_config *cfg,
		  struct boot_entry *entry, const char **why);

/* Writes the reboot stub at the reset vector (reset_vector.c); 0 or -1. */
int x86_reset_vector_write(struct guest_mem *gm);

/* GDT selectors of the 64-bit entry (Linux expects __BOOT_CS/__BOOT_DS). */
#define BOOT_GDT_CODE	0x10
#define BOOT_GDT_DATA	0x18

#endif
