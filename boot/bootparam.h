/* The x86 "zero page" (struct boot_params) and the setup header inside it,
 * per Documentation/arch/x86/boot.rst.  Only the fields minivmm reads or
 * writes are named; the rest is padding, pinned by the offset asserts so a
 * typo cannot silently move a field the kernel reads. */
#ifndef MINIVMM_BOOTPARAM_H
#define MINIVMM_BOOTPARAM_H

#include <stddef.h>
#include <stdint.h>
#include "boot.h"

/* Offsets in the bzImage file (sector 0 is laid out like boot_params). */
#define SETUP_HDR_OFFSET	0x1f1
#define SETUP_HDR_JUMP		0x200	/* 2-byte jump; 0x202 + byte 0x201 = end */
#define BOOT_FLAG_MAGIC		0xaa55
#define HDRS_MAGIC		0x53726448	/* "HdrS" little-endian */

/* loadflags */
#define LOADED_HIGH		(1u << 0)
#define CAN_USE_HEAP		(1u << 7)
/* xloadflags (protocol 2.12+) */
#define XLF_KERNEL_64		(1u << 0)

#define LOADER_TYPE_UNDEFINED	0xff	/* "no assigned loader id" */
#define VID_MODE_NORMAL		0xffff
#define E820_MAX_ZEROPAGE	128

struct setup_header {
	uint8_t  setup_sects;		/* 0x1f1 */
	uint16_t root_flags;
	uint32_t syssize;		/* 16-byte paragraphs of payload */
	uint16_t ram_size;
	uint16_t vid_mode;		/* 0x1fa */
	uint16_t root_dev;
	uint16_t boot_flag;		/* 0x1fe */
	uint16_t jump;			/* 0x200 */
	uint32_t header;		/* 0x202 "HdrS" */
	uint16_t version;		/* 0x206 */
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t  type_of_loader;	/* 0x210 */
	uint8_t  loadflags;		/* 0x211 */
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;		/* 0x218 */
	uint32_t ramdisk_size;		/* 0x21c */
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;		/* 0x224 */
	uint8_t  ext_loader_ver;
	uint8_t  ext_loader_type;
	uint32_t cmd_line_ptr;		/* 0x228 */
	uint32_t initrd_addr_max;	/* 0x22c, 2.03+ */
	uint32_t kernel_alignment;	/* 0x230, 2.05+ */
	uint8_t  relocatable_kernel;	/* 0x234, 2.05+ */
	uint8_t  min_alignment;
	uint16_t xloadflags;		/* 0x236, 2.12+ */
	uint32_t cmdline_size;		/* 0x238, 2.06+ */
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;		/* 0x250: linked list the kernel walks */
	uint64_t pref_address;		/* 0x258, 2.10+ */
	uint32_t init_size;		/* 0x260, 2.10+ */
	uint32_t handover_offset;
	uint32_t kernel_info_offset;	/* 0x268, 2.15+ */
} __attribute__((packed));

#define HDR_AT(field)	(SETUP_HDR_OFFSET + offsetof(struct setup_header, field))
_Static_assert(HDR_AT(syssize) == 0x1f4, "syssize");
_Static_assert(HDR_AT(boot_flag) == 0x1fe, "boot_flag");
_Static_assert(HDR_AT(header) == 0x202, "header");
_Static_assert(HDR_AT(type_of_loader) == 0x210, "type_of_loader");
_Static_assert(HDR_AT(ramdisk_image) == 0x218, "ramdisk_image");
_Static_assert(HDR_AT(heap_end_ptr) == 0x224, "heap_end_ptr");
_Static_assert(HDR_AT(cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(HDR_AT(xloadflags) == 0x236, "xloadflags");
_Static_assert(HDR_AT(cmdline_size) == 0x238, "cmdline_size");
_Static_assert(HDR_AT(setup_data) == 0x250, "setup_data");
_Static_assert(HDR_AT(pref_address) == 0x258, "pref_address");
_Static_assert(HDR_AT(init_size) == 0x260, "init_size");
_Static_assert(HDR_AT(kernel_info_offset) == 0x268, "kernel_info_offset");

/* Where the header's bytes may extend to: edd_mbr_sig_buffer follows. */
#define SETUP_HDR_LIMIT		0x290

struct boot_params {
	uint8_t  _pad0[0x070];
	uint64_t acpi_rsdp_addr;	/* 0x070, read by 2.14+ kernels */
	uint8_t  _pad1[0x0c0 - 0x078];
	uint32_t ext_ramdisk_image;	/* 0x0c0: high 32 bits */
	uint32_t ext_ramdisk_size;	/* 0x0c4 */
	uint32_t ext_cmd_line_ptr;	/* 0x0c8 */
	uint8_t  _pad2[0x1e8 - 0x0cc];
	uint8_t  e820_entries;		/* 0x1e8 */
	uint8_t  _pad3[SETUP_HDR_OFFSET - 0x1e9];
	struct setup_header hdr;	/* 0x1f1 */
	uint8_t  _pad4[0x2d0 - SETUP_HDR_OFFSET - sizeof(struct setup_header)];
	struct e820_entry e820_table[E820_MAX_ZEROPAGE];	/* 0x2d0 */
	uint8_t  _pad5[0x1000 - 0x2d0 - E820_MAX_ZEROPAGE * sizeof(struct e820_entry)];
} __attribute__((packed));

_Static_assert(sizeof(struct e820_entry) == 20, "e820 entry");
_Static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x070, "rsdp");
_Static_assert(offsetof(struct boot_params, ext_ramdisk_image) == 0x0c0, "ext_ri");
_Static_assert(offsetof(struct boot_params, ext_ramdisk_size) == 0x0c4, "ext_rs");
_Static_assert(offsetof(struct boot_params, ext_cmd_line_ptr) == 0x0c8, "ext_cl");
_Static_assert(offsetof(struct boot_params, e820_entries) == 0x1e8, "e820_entries");
_Static_assert(offsetof(struct boot_params, hdr) == SETUP_HDR_OFFSET, "hdr");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2d0, "e820_table");
_Static_assert(sizeof(struct boot_params) == 0x1000, "zero page is one page");

#endif
