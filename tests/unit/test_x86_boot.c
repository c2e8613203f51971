/* x86_boot_load against fake guest memory: what the 64-bit boot protocol
 * needs is where the kernel will look for it, nothing else is written, and
 * loads that cannot work are refused before any write. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "boot.h"
#include "check.h"
#include "fake_bzimage.h"
#include "layout.h"

#define MiB	(1ULL << 20)
#define GiB	(1ULL << 30)
#define PAYLOAD	0x3001
#define POISON	0xa5
/* fake_bzimage: decompression buffer at 16 MiB + 4 MiB init_size. */
#define FAKE_KERNEL_END	(FAKE_PREF_ADDRESS + FAKE_INIT_SIZE)

struct fake_vm {
	struct guest_mem gm;
	uint8_t *low, *high;
	uint64_t low_size, high_size;
};

/* RAM as minivmm lays it out; untouched pages of the mapping cost nothing,
 * so even the 8 GiB case is cheap. */
static void vm_init(struct fake_vm *vm, uint64_t ram, int poison)
{
	struct ram_layout rl;

	memset(vm, 0, sizeof(*vm));
	ram_layout_for(ram, &rl);
	vm->low_size = rl.low_size;
	vm->high_size = rl.high_size;
	vm->low = mmap(NULL, rl.low_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->low == MAP_FAILED)
		abort();
	if (poison)
		memset(vm->low, POISON, rl.low_size);
	if (guest_mem_add(&vm->gm, 0, rl.low_size, vm->low))
		abort();
	if (rl.high_size) {
		vm->high = mmap(NULL, rl.high_size, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (vm->high == MAP_FAILED ||
		    guest_mem_add(&vm->gm, MMIO_HOLE_END, rl.high_size, vm->high))
			abort();
	}
}

static void vm_free(struct fake_vm *vm)
{
	munmap(vm->low, vm->low_size);
	if (vm->high)
		munmap(vm->high, vm->high_size);
}

static const uint8_t *gptr(const struct fake_vm *vm, uint64_t gpa, uint64_t len)
{
	const uint8_t *p = guest_mem_ptr(&vm->gm, gpa, len);

	if (!p) {
		fprintf(stderr, "  gpa 0x%llx+0x%llx not mapped\n",
			(unsigned long long)gpa, (unsigned long long)len);
		abort();
	}
	return p;
}

static uint64_t g64(const struct fake_vm *vm, uint64_t gpa)
{
	return get64(gptr(vm, gpa, 8), 0);
}

static uint8_t initrd[0x5003];

static void fill_initrd(void)
{
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 13 + 1);
}

struct load {
	struct fake_vm vm;
	uint8_t *img;
	struct boot_config cfg;
	struct boot_entry entry;
	const char *why;
	int ret;
};

/* A good configuration: fake kernel, initrd, cmdline, 32 MiB, an RSDP. */
static void load_prepare(struct load *l, uint64_t ram, int poison)
{
	size_t size;

	fill_initrd();
	vm_init(&l->vm, ram, poison);
	l->img = fake_bzimage(PAYLOAD, &size);
	l->cfg = (struct boot_config){
		.kernel = l->img, .kernel_size = size,
		.initrd = initrd, .initrd_size = sizeof(initrd),
		.cmdline = "console=ttyS0 panic=-1",
		.ram_size = ram,
		.rsdp_addr = ACPI_TABLES_ADDR,
	};
	memset(&l->entry, 0, sizeof(l->entry));
	l->why = "unset";
}

static int load_run(struct load *l)
{
	l->ret = x86_boot_load(&l->vm.gm, &l->cfg, &l->entry, &l->why);
	return l->ret;
}

static void load_free(struct load *l)
{
	vm_free(&l->vm);
	free(l->img);
}

/* Boots the default configuration; most tests inspect the result. */
static void load_default(struct load *l)
{
	load_prepare(l, 32 * MiB, 0);
	CHECK_EQ(load_run(l), 0);
	CHECK(l->why == NULL);
}

static int all_poison(const struct fake_vm *vm, uint64_t from, uint64_t to)
{
	const uint8_t *p = gptr(vm, 0, vm->low_size);

	for (uint64_t a = from; a < to; a++) {
		if (p[a] != POISON) {
			fprintf(stderr, "  byte at 0x%llx was written\n",
				(unsigned long long)a);
			return 0;
		}
	}
	return 1;
}

TEST(test_entry_registers)
{
	struct load l;

	load_default(&l);
	CHECK_EQ(l.entry.rip, KERNEL_LOAD_ADDR + 0x200);
	CHECK_EQ(l.entry.rsi, BOOT_PARAMS_ADDR);
	CHECK_EQ(l.entry.cr3, PML4_ADDR);
	CHECK_EQ(l.entry.gdt_base, GDT_ADDR);
	CHECK_EQ(l.entry.gdt_limit, 4 * 8 - 1);
	CHECK_EQ(l.entry.initrd_addr, 32 * MiB - 0x6000);
	load_free(&l);
}

TEST(test_boot_params_fields)
{
	struct load l;
	const uint8_t *bp;

	load_prepare(&l, 32 * MiB, 0);
	put64(l.img, 0x250, 0xdeadbeef);	/* setup_data must not survive */
	CHECK_EQ(load_run(&l), 0);
	bp = gptr(&l.vm, BOOT_PARAMS_ADDR, 0x1000);
	/* Copied from the image. */
	CHECK_EQ(bp[0x1f1], FAKE_SETUP_SECTS);
	CHECK_EQ(get16(bp, 0x1fe), 0xaa55);
	CHECK(!memcmp(bp + 0x202, "HdrS", 4));
	CHECK_EQ(get16(bp, 0x206), 0x020f);
	CHECK_EQ(get32(bp, 0x22c), FAKE_INITRD_ADDR_MAX);
	CHECK_EQ(get32(bp, 0x238), FAKE_CMDLINE_SIZE);
	CHECK_EQ(get32(bp, 0x260), FAKE_INIT_SIZE);
	CHECK_EQ(get64(bp, 0x258), FAKE_PREF_ADDRESS);
	/* Written by the loader. */
	CHECK_EQ(bp[0x210], 0xff);			/* type_of_loader */
	CHECK_EQ(bp[0x211], 0x81);			/* LOADED_HIGH|CAN_USE_HEAP */
	CHECK_EQ(get16(bp, 0x224), 0xfe00);		/* heap_end_ptr */
	CHECK_EQ(get16(bp, 0x1fa), 0xffff);		/* vid_mode */
	CHECK_EQ(get32(bp, 0x228), CMDLINE_ADDR);	/* cmd_line_ptr */
	CHECK_EQ(get32(bp, 0x0c8), 0);			/* ext_cmd_line_ptr */
	CHECK_EQ(get32(bp, 0x218), 32 * MiB - 0x6000);	/* ramdisk_image */
	CHECK_EQ(get32(bp, 0x21c), sizeof(initrd));	/* ramdisk_size */
	CHECK_EQ(get32(bp, 0x0c0), 0);
	CHECK_EQ(get32(bp, 0x0c4), 0);
	CHECK_EQ(get64(bp, 0x070), ACPI_TABLES_ADDR);	/* acpi_rsdp_addr */
	CHECK_EQ(get64(bp, 0x250), 0);			/* setup_data */
	CHECK_EQ(bp[0x1ef], 0);				/* sentinel */
	/* The rest of the page is zero (screen_info, EDD, ...). */
	for (unsigned i = 0; i < 0x70; i++)
		CHECK_EQ(bp[i], 0);
	for (unsigned i = 0xd00; i < 0x1000; i++)
		CHECK_EQ(bp[i], 0);
	load_free(&l);
}

/* acpi_rsdp_addr exists from protocol 2.14 on; older kernels scan 0xe0000. */
TEST(test_rsdp_needs_protocol_2_14)
{
	struct load l;

	load_prepare(&l, 32 * MiB, 0);
	put16(l.img, 0x206, 0x020d);
	CHECK_EQ(load_run(&l), 0);
	CHECK_EQ(g64(&l.vm, BOOT_PARAMS_ADDR + 0x070), 0);
	put16(l.img, 0x206, 0x020e);
	CHECK_EQ(load_run(&l), 0);
	CHECK_EQ(g64(&l.vm, BOOT_PARAMS_ADDR + 0x070), ACPI_TABLES_ADDR);
	load_free(&l);
}

TEST(test_e820_in_zero_page)
{
	struct load l;
	struct e820_entry want[E820_MAX];
	const uint8_t *bp;
	unsigned n;

	load_prepare(&l, 8 * GiB, 0);
	CHECK_EQ(load_run(&l), 0);
	n = e820_build(8 * GiB, want, E820_MAX);
	bp = gptr(&l.vm, BOOT_PARAMS_ADDR, 0x1000);
	CHECK_EQ(n, 4);
	CHECK_EQ(bp[0x1e8], n);
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ(get64(bp, 0x2d0 + i * 20), want[i].addr);
		CHECK_EQ(get64(bp, 0x2d0 + i * 20 + 8), want[i].size);
		CHECK_EQ(get32(bp, 0x2d0 + i * 20 + 16), want[i].type);
	}
	CHECK_EQ(get64(bp, 0x2d0 + n * 20 + 8), 0);	/* no stray entry */
	load_free(&l);
}

TEST(test_cmdline_copied)
{
	struct load l;
	const char *want = "console=ttyS0 panic=-1";

	load_default(&l);
	CHECK(!memcmp(gptr(&l.vm, CMDLINE_ADDR, strlen(want) + 1), want,
		      strlen(want) + 1));
	load_free(&l);
}

TEST(test_page_tables_identity_map_4g)
{
	struct load l;
	unsigned bad = 0;

	load_default(&l);
	CHECK_EQ(g64(&l.vm, PML4_ADDR), PDPT_ADDR | 0x3);
	for (unsigned i = 1; i < 512; i++)
		bad += g64(&l.vm, PML4_ADDR + i * 8) != 0;
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(g64(&l.vm, PDPT_ADDR + i * 8), (PD_ADDR + i * 0x1000) | 0x3);
	for (unsigned i = 4; i < 512; i++)
		bad += g64(&l.vm, PDPT_ADDR + i * 8) != 0;
	/* Four directories back to back: entry k maps k * 2 MiB. */
	for (uint64_t k = 0; k < 4 * 512; k++)
		bad += g64(&l.vm, PD_ADDR + k * 8) != ((k << 21) | 0x83);
	CHECK_EQ(bad, 0);
	CHECK_EQ(g64(&l.vm, PD_ADDR + 2047 * 8), 0xffe00083ULL);
	load_free(&l);
}

TEST(test_gdt)
{
	struct load l;
	uint64_t code, data;

	load_default(&l);
	CHECK_EQ(g64(&l.vm, GDT_ADDR), 0);
	CHECK_EQ(g64(&l.vm, GDT_ADDR + 8), 0);
	code = g64(&l.vm, GDT_ADDR + BOOT_GDT_CODE);
	data = g64(&l.vm, GDT_ADDR + BOOT_GDT_DATA);
	CHECK_EQ(code, 0x00af9b000000ffffULL);
	CHECK_EQ(data, 0x00cf93000000ffffULL);
	/* Decoded: present, long mode (L=1, D=0) code; present writable data. */
	CHECK((code >> 47) & 1);
	CHECK((code >> 53) & 1);
	CHECK(!((code >> 54) & 1));
	CHECK_EQ((code >> 40) & 0xf, 0xb);
	CHECK((data >> 47) & 1);
	CHECK_EQ((data >> 40) & 0xf, 0x3);
	CHECK_EQ(BOOT_GDT_CODE, 0x10);
	CHECK_EQ(BOOT_GDT_DATA, 0x18);
	load_free(&l);
}

TEST(test_kernel_payload_copied)
{
	struct load l;
	const uint8_t *k;
	unsigned bad = 0;

	load_default(&l);
	k = gptr(&l.vm, KERNEL_LOAD_ADDR, PAYLOAD);
	for (size_t i = 0; i < PAYLOAD; i++)
		bad += k[i] != fake_payload_byte(i);
	CHECK_EQ(bad, 0);
	load_free(&l);
}

/* As high as possible, page aligned, below both limits, above the kernel. */
TEST(test_initrd_placement)
{
	struct load l;
	uint64_t a;

	load_default(&l);
	a = l.entry.initrd_addr;
	CHECK_EQ(a % 0x1000, 0);
	CHECK(a >= FAKE_KERNEL_END);
	CHECK(a + sizeof(initrd) <= 32 * MiB);
	CHECK(a + sizeof(initrd) + 0x1000 > 32 * MiB);	/* no higher page fits */
	CHECK(!memcmp(gptr(&l.vm, a, sizeof(initrd)), initrd, sizeof(initrd)));
	load_free(&l);
}

TEST(test_initrd_below_initrd_addr_max)
{
	struct load l;
	uint64_t a;

	/* The kernel's limit is lower than RAM: it wins. */
	load_prepare(&l, 32 * MiB, 0);
	put32(l.img, 0x22c, 28 * MiB - 1);
	CHECK_EQ(load_run(&l), 0);
	a = l.entry.initrd_addr;
	CHECK(a + sizeof(initrd) <= 28 * MiB);
	CHECK(a + sizeof(initrd) + 0x1000 > 28 * MiB);
	CHECK(a >= FAKE_KERNEL_END);
	CHECK_EQ(a % 0x1000, 0);
	load_free(&l);

	/* With 8 GiB, RAM goes to 3 GiB but initrd_addr_max stops at 2 GiB. */
	load_prepare(&l, 8 * GiB, 0);
	CHECK_EQ(load_run(&l), 0);
	a = l.entry.initrd_addr;
	CHECK(a + sizeof(initrd) <= (uint64_t)FAKE_INITRD_ADDR_MAX + 1);
	CHECK(a + sizeof(initrd) + 0x1000 > (uint64_t)FAKE_INITRD_ADDR_MAX + 1);
	CHECK(!memcmp(gptr(&l.vm, a, sizeof(initrd)), initrd, sizeof(initrd)));
	load_free(&l);
}

TEST(test_no_initrd)
{
	struct load l;

	load_prepare(&l, 32 * MiB, 0);
	l.cfg.initrd = NULL;
	l.cfg.initrd_size = 0;
	CHECK_EQ(load_run(&l), 0);
	CHECK_EQ(l.entry.initrd_addr, 0);
	CHECK_EQ(get32(gptr(&l.vm, BOOT_PARAMS_ADDR, 0x1000), 0x218), 0);
	CHECK_EQ(get32(gptr(&l.vm, BOOT_PARAMS_ADDR, 0x1000), 0x21c), 0);
	load_free(&l);
}

/* Everything outside the documented ranges keeps its old contents. */
TEST(test_nothing_else_written)
{
	struct load l;
	const char *cl = "console=ttyS0 panic=-1";
	uint64_t rd;

	load_prepare(&l, 32 * MiB, 1);
	CHECK_EQ(load_run(&l), 0);
	rd = l.entry.initrd_addr;
	CHECK(all_poison(&l.vm, 0, GDT_ADDR));
	CHECK(all_poison(&l.vm, GDT_ADDR + 32, BOOT_PARAMS_ADDR));
	CHECK(all_poison(&l.vm, BOOT_PARAMS_ADDR + 0x1000, PML4_ADDR));
	CHECK(all_poison(&l.vm, PD_ADDR + 4 * 0x1000, CMDLINE_ADDR));
	CHECK(all_poison(&l.vm, CMDLINE_ADDR + strlen(cl) + 1, KERNEL_LOAD_ADDR));
	CHECK(all_poison(&l.vm, KERNEL_LOAD_ADDR + PAYLOAD, rd));
	CHECK(all_poison(&l.vm, rd + sizeof(initrd), 32 * MiB));
	load_free(&l);
}

TEST(test_refuses_too_small_memory)
{
	struct load l;

	/* The decompressed kernel needs up to 20 MiB; 19 MiB cannot work. */
	load_prepare(&l, 19 * MiB, 1);
	CHECK_EQ(load_run(&l), -1);
	CHECK(l.why && strstr(l.why, "--mem"));
	CHECK(l.why && strstr(l.why, "kernel needs 20 MiB"));
	CHECK(all_poison(&l.vm, 0, l.vm.low_size));
	load_free(&l);

	/* A bigger init_size moves the need up with it. */
	load_prepare(&l, 64 * MiB, 1);
	put32(l.img, 0x260, 48 * MiB + 1);
	CHECK_EQ(load_run(&l), -1);
	CHECK(l.why && strstr(l.why, "needs 65 MiB"));
	CHECK(all_poison(&l.vm, 0, l.vm.low_size));
	load_free(&l);

	/* Without an initrd, exactly the kernel's end is enough. */
	load_prepare(&l, FAKE_KERNEL_END, 0);
	l.cfg.initrd_size = 0;
	CHECK_EQ(load_run(&l), 0);
	load_free(&l);
}

TEST(test_refuses_long_cmdline)
{
	struct load l;
	char *cl = malloc(CMDLINE_MAX + 1);

	load_prepare(&l, 32 * MiB, 1);
	memset(cl, 'x', CMDLINE_MAX);
	/* cmdline_size counts bytes without the NUL. */
	cl[FAKE_CMDLINE_SIZE + 1] = 0;
	l.cfg.cmdline = cl;
	CHECK_EQ(load_run(&l), -1);
	CHECK(l.why && strstr(l.why, "cmdline_size"));
	CHECK(all_poison(&l.vm, 0, l.vm.low_size));
	cl[FAKE_CMDLINE_SIZE] = 0;
	CHECK_EQ(load_run(&l), 0);
	CHECK_EQ(*gptr(&l.vm, CMDLINE_ADDR + FAKE_CMDLINE_SIZE, 1), 0);
	load_free(&l);

	/* A kernel that takes anything still meets our 64 KiB window. */
	load_prepare(&l, 32 * MiB, 1);
	put32(l.img, 0x238, 0xffffffff);
	memset(cl, 'x', CMDLINE_MAX);
	cl[CMDLINE_MAX] = 0;
	l.cfg.cmdline = cl;
	CHECK_EQ(load_run(&l), -1);
	CHECK(l.why && strstr(l.why, "64 KiB"));
	CHECK(all_poison(&l.vm, 0, l.vm.low_size));
	cl[CMDLINE_MAX - 1] = 0;
	CHECK_EQ(load_run(&l), 0);
	CHECK_EQ(*gptr(&l.vm, CMDLINE_ADDR + CMDLINE_MAX - 1, 1), 0);
	load_free(&l);
	free(cl);
}

TEST(test_refuses_initrd_too_big)
{
	struct load l;
	uint8_t *big = calloc(1, 13 * MiB);

	/* 32 MiB RAM, kernel to 20 MiB: 12 MiB left; more RAM would help. */
	load_prepare(&l, 32 * MiB, 1);
	l.cfg.initrd = big;
	l.cfg.initrd_size = 12 * MiB + 1;
	CHECK_EQ(load_run(&l), -1);
	CHECK(l.why && strstr(l.why, "initrd"));
	CHECK(l.why && strstr(l.why, "--mem"));
	CHECK(all_poison(&l.vm, 0, l.vm.low_size));
	l.cfg.initrd_size = 12 * MiB;	/* exactly fits */
	CHECK_EQ(load_run(&l), 0);
	CHECK_EQ(l.entry.initrd_addr, FAKE_KERNEL_END);
	load_free(&l);

	/* initrd_addr_max below RAM's end: more RAM would not help. */
	load_prepare(&l, 64 * MiB, 1);
	put32(l.img, 0x22c, 32 * MiB - 1);
	l.cfg.initrd = big;
	l.cfg.initrd_size = 13 * MiB;
	CHECK_EQ(load_run(&l), -1);
	CHECK(l.why && strstr(l.why, "initrd_addr_max"));
	CHECK(all_poison(&l.vm, 0, l.vm.low_size));
	load_free(&l);
	free(big);
}

TEST(test_refuses_bad_kernel)
{
	struct load l;

	load_prepare(&l, 32 * MiB, 1);
	memcpy(l.img, "\177ELF", 4);
	CHECK_EQ(load_run(&l), -1);
	CHECK(l.why && strstr(l.why, "ELF"));
	CHECK(all_poison(&l.vm, 0, l.vm.low_size));
	load_free(&l);
}

/* A guest_mem that lacks part of the layout is refused before any write. */
TEST(test_unmapped_layout_is_refused)
{
	struct load l;

	load_prepare(&l, 32 * MiB, 1);
	l.vm.gm.region[0].size = 16 * MiB;	/* initrd would land above */
	CHECK_EQ(load_run(&l), -1);
	CHECK(l.why != NULL);
	l.vm.gm.region[0].size = 32 * MiB;
	CHECK(all_poison(&l.vm, 0, l.vm.low_size));
	load_free(&l);
}

static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len = 0;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc(len)) &&
	    fread(buf, 1, len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = buf ? (size_t)len : 0;
	return buf;
}

#define REAL_KERNEL "build/guest/vmlinuz"
#define REAL_INITRD "build/guest/initrd.img"

TEST(test_real_kernel_loads)
{
	struct fake_vm vm;
	struct boot_config cfg = { .cmdline = "console=ttyS0", .ram_size = 256 * MiB };
	struct boot_entry entry;
	const char *why = NULL;
	uint8_t *k = slurp(REAL_KERNEL, &cfg.kernel_size);
	uint8_t *rd = slurp(REAL_INITRD, &cfg.initrd_size);

	cfg.kernel = k;
	cfg.initrd = rd;
	CHECK(k != NULL);
	vm_init(&vm, cfg.ram_size, 0);
	CHECK_EQ(x86_boot_load(&vm.gm, &cfg, &entry, &why), 0);
	if (why)
		fprintf(stderr, "  %s: %s\n", REAL_KERNEL, why);
	CHECK_EQ(entry.rip, KERNEL_LOAD_ADDR + 0x200);
	if (rd) {
		CHECK(entry.initrd_addr > KERNEL_LOAD_ADDR);
		CHECK(entry.initrd_addr + cfg.initrd_size <= cfg.ram_size);
	}
	vm_free(&vm);
	free(k);
	free(rd);
}

int main(void)
{
	FILE *f;

	RUN(test_entry_registers);
	RUN(test_boot_params_fields);
	RUN(test_rsdp_needs_protocol_2_14);
	RUN(test_e820_in_zero_page);
	RUN(test_cmdline_copied);
	RUN(test_page_tables_identity_map_4g);
	RUN(test_gdt);
	RUN(test_kernel_payload_copied);
	RUN(test_initrd_placement);
	RUN(test_initrd_below_initrd_addr_max);
	RUN(test_no_initrd);
	RUN(test_nothing_else_written);
	RUN(test_refuses_too_small_memory);
	RUN(test_refuses_long_cmdline);
	RUN(test_refuses_initrd_too_big);
	RUN(test_refuses_bad_kernel);
	RUN(test_unmapped_layout_is_refused);
	if ((f = fopen(REAL_KERNEL, "rb"))) {
		fclose(f);
		RUN(test_real_kernel_loads);
	} else {
		printf("SKIP test_real_kernel_loads (no %s: run make guest)\n",
		       REAL_KERNEL);
	}
	return CHECK_DONE();
}
