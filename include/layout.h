/* The x86 guest's physical memory map, in one place.
 *
 *   0x00000000  low RAM (real-mode area; the kernel reuses it after boot)
 *     0x00500   GDT used for the 64-bit entry
 *     0x07000   boot_params ("zero page")
 *     0x09000   PML4, 0x0a000 PDPT, 0x0b000-0x0efff four page directories
 *                (identity map of the first 4 GiB with 2 MiB pages)
 *     0x20000   kernel command line (up to 64 KiB)
 *   0x0009fc00  EBDA .. 0x100000: reserved; ACPI tables at 0xe0000,
 *               a reboot stub at the reset vector 0xffff0
 *   0x00100000  protected-mode kernel (bzImage payload)
 *   ...         initrd, as high as initrd_addr_max and RAM allow
 *   0xc0000000  32-bit hole: MMIO devices, IOAPIC, LAPIC (no RAM)
 *   0x100000000 RAM above 4 GiB when --mem exceeds 3 GiB
 */
#ifndef MINIVMM_LAYOUT_H
#define MINIVMM_LAYOUT_H

#define GDT_ADDR		0x500ULL
#define BOOT_PARAMS_ADDR	0x7000ULL
#define BOOT_STACK_ADDR		0x8ff0ULL
#define PML4_ADDR		0x9000ULL
#define PDPT_ADDR		0xa000ULL
#define PD_ADDR			0xb000ULL	/* 4 pages */
#define CMDLINE_ADDR		0x20000ULL
#define CMDLINE_MAX		0x10000ULL
#define EBDA_START		0x9fc00ULL
#define ACPI_TABLES_ADDR	0xe0000ULL	/* RSDP scan area too */
#define ACPI_TABLES_SIZE	0x1f000ULL	/* stops before the reset vector */
#define RESET_VECTOR_ADDR	0xffff0ULL	/* F000:FFF0, see reset_vector.c */
#define HIMEM_START		0x100000ULL
#define KERNEL_LOAD_ADDR	HIMEM_START

#define MMIO_HOLE_START		0xc0000000ULL	/* RAM stops here below 4G */
#define MMIO_HOLE_END		0x100000000ULL
#define VIRTIO_MMIO_BASE	0xd0000000ULL	/* one 4 KiB window each */
#define VIRTIO_MMIO_STRIDE	0x1000ULL
#define IOAPIC_ADDR		0xfec00000ULL
#define LAPIC_ADDR		0xfee00000ULL
#define KVM_IDENTITY_MAP_ADDR	0xfeffc000ULL
#define KVM_TSS_ADDR		0xfeffd000ULL	/* 3 pages */

/* Port I/O used by minivmm's platform devices. */
#define COM1_PORT		0x3f8
#define COM1_IRQ		4
#define I8042_CMD_PORT		0x64	/* only the 0xfe "pulse reset" command */
#define ACPI_SLEEP_PORT		0x600	/* FADT sleep control/status, 1 byte */
#define ACPI_RESET_PORT		0x601	/* FADT reset register, 1 byte */
#define ACPI_RESET_VALUE	0x42
#define PVPANIC_PORT		0x505	/* QEMU0001 pvpanic, 1 byte */

/* Virtio-mmio devices' GSIs: see virtio_slot.c. */
#define IOAPIC_PINS		24

#endif
