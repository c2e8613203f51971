/* The host-decompressed kernel (boot/vmlinux.c): vmlinux ELFs are checked
 * against the bzImage they came from before a byte is written, loaded
 * segment by segment with their bss cleared, and entered at e_entry; the
 * xz payload of a real Debian kernel decompresses, garbage does not. */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "boot.h"
#include "check.h"
#include "fake_bzimage.h"
#include "layout.h"

#define MiB		(1ULL << 20)
#define RAM		(512 * MiB)
#define POISON		0xa5
#define REAL_KERNEL	"build/guest/vmlinuz"

static uint8_t *ram;
static struct guest_mem gm;

static void vm_init(void)
{
	memset(&gm, 0, sizeof(gm));
	ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED || guest_mem_add(&gm, 0, RAM, ram))
		abort();
}

static void vm_free(void)
{
	munmap(ram, RAM);
}

/* A vmlinux like Debian's, in small: text at pref_address (entry at its
 * start + 0x40), data with a bss tail 2 MiB above. */
#define TEXT_PADDR	FAKE_PREF_ADDRESS
#define TEXT_SIZE	0x3000u
#define DATA_PADDR	(FAKE_PREF_ADDRESS + 0x200000u)
#define DATA_FILESZ	0x1000u
#define DATA_MEMSZ	0x5000u
#define TEXT_OFF	0x1000u
#define DATA_OFF	(TEXT_OFF + TEXT_SIZE)
#define ELF_SIZE	(DATA_OFF + DATA_FILESZ)

static uint8_t *fake_vmlinux(void)
{
	uint8_t *e = calloc(1, ELF_SIZE);
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph[3] = { { 0 } };

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_entry = TEXT_PADDR + 0x40;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 3;
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
		.p_offset = TEXT_OFF, .p_vaddr = 0xffffffff81000000ULL,
		.p_paddr = TEXT_PADDR, .p_filesz = TEXT_SIZE,
		.p_memsz = TEXT_SIZE };
	ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0,
		.p_paddr = 0, .p_filesz = 0x10, .p_memsz = 0x10 };
	ph[2] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W,
		.p_offset = DATA_OFF, .p_paddr = DATA_PADDR,
		.p_filesz = DATA_FILESZ, .p_memsz = DATA_MEMSZ };
	memcpy(e, &eh, sizeof(eh));
	memcpy(e + sizeof(eh), ph, sizeof(ph));
	for (size_t i = TEXT_OFF; i < ELF_SIZE; i++)
		e[i] = (uint8_t)(i * 13 + 1);
	return e;
}

static Elf64_Phdr *phdr(uint8_t *e, unsigned i)
{
	return (Elf64_Phdr *)(e + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}

static int load(const uint8_t *kern, size_t ksize, const uint8_t *vml,
		size_t vsize, struct boot_entry *entry, const char **why)
{
	struct boot_config cfg = {
		.kernel = kern, .kernel_size = ksize,
		.vmlinux = vml, .vmlinux_size = vsize,
		.cmdline = "console=ttyS0", .ram_size = RAM,
	};

	return x86_boot_load(&gm, &cfg, entry, why);
}

TEST(test_segments_loaded_bss_cleared_entry_used)
{
	size_t ksize;
	uint8_t *k = fake_bzimage(0x3001, &ksize), *v = fake_vmlinux();
	struct boot_entry entry;
	const char *why = "unset";

	vm_init();
	memset(ram, POISON, 64 * MiB);
	CHECK_EQ(load(k, ksize, v, ELF_SIZE, &entry, &why), 0);
	CHECK(why == NULL);
	CHECK_EQ(entry.rip, TEXT_PADDR + 0x40);
	CHECK_EQ(entry.rsi, BOOT_PARAMS_ADDR);
	CHECK(!memcmp(ram + TEXT_PADDR, v + TEXT_OFF, TEXT_SIZE));
	CHECK(!memcmp(ram + DATA_PADDR, v + DATA_OFF, DATA_FILESZ));
	for (size_t i = DATA_FILESZ; i < DATA_MEMSZ; i++)
		if (ram[DATA_PADDR + i]) {
			CHECK(!"bss not cleared");
			break;
		}
	/* The compressed payload is not loaded at all. */
	CHECK_EQ(ram[KERNEL_LOAD_ADDR], POISON);
	CHECK_EQ(ram[TEXT_PADDR + TEXT_SIZE], POISON);
	vm_free();
	free(k);
	free(v);
}

/* Each mutation must be refused with guest memory untouched. */
TEST(test_bad_vmlinux_refused_before_any_write)
{
	static const char *const names[] = {
		"magic", "class", "machine", "phnum 0", "phoff past end",
		"segment past file", "below pref_address",
		"past init_size", "filesz > memsz", "entry outside",
		"entry not executable", "paddr wraps", "no PT_LOAD",
		"too many phdrs",
	};
	size_t ksize;
	uint8_t *k = fake_bzimage(0x3001, &ksize);

	vm_init();
	for (unsigned c = 0; c < sizeof(names) / sizeof(names[0]); c++) {
		uint8_t *v = fake_vmlinux();
		Elf64_Ehdr *eh = (Elf64_Ehdr *)v;
		struct boot_entry entry;
		const char *why = NULL;
		size_t vsize = ELF_SIZE;

		switch (c) {
		case 0: v[1] = 'X'; break;
		case 1: eh->e_ident[EI_CLASS] = ELFCLASS32; break;
		case 2: eh->e_machine = EM_386; break;
		case 3: eh->e_phnum = 0; break;
		case 4: eh->e_phoff = ELF_SIZE - 8; break;
		case 5: phdr(v, 2)->p_filesz = 0x100000; phdr(v, 2)->p_memsz = 0x100000; break;
		case 6: phdr(v, 0)->p_paddr = FAKE_PREF_ADDRESS - 0x1000; break;
		case 7: phdr(v, 2)->p_memsz = FAKE_INIT_SIZE; break;
		case 8: phdr(v, 2)->p_filesz = DATA_MEMSZ + 1; break;
		case 9: eh->e_entry = DATA_PADDR + DATA_MEMSZ + 0x1000; break;
		case 10: eh->e_entry = DATA_PADDR; break;
		case 11: phdr(v, 2)->p_paddr = UINT64_MAX - 0x100; break;
		case 12: phdr(v, 0)->p_type = PT_NOTE; phdr(v, 2)->p_type = PT_NOTE; break;
		case 13: eh->e_phnum = 200; vsize = ELF_SIZE; break;
		}
		memset(ram, POISON, 64 * MiB);
		if (load(k, ksize, v, vsize, &entry, &why) != -1 || !why) {
			fprintf(stderr, "  case '%s' was accepted\n", names[c]);
			CHECK(0);
		}
		for (size_t i = 0; i < 64 * MiB; i += 4096)
			if (ram[i] != POISON) {
				fprintf(stderr, "  case '%s' wrote at 0x%zx\n",
					names[c], i);
				CHECK(0);
				break;
			}
		free(v);
	}
	vm_free();
	free(k);
}

static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	*size = (size_t)n;
	return buf;
}

TEST(test_real_kernel_decompresses_and_loads)
{
	size_t ksize, vsize;
	uint8_t *k = slurp(REAL_KERNEL, &ksize), *v = NULL;
	struct bzimage_info bi;
	struct vmlinux_info vi;
	struct boot_entry entry;
	const char *why;

	if (!k)
		return;
	CHECK_EQ(bzimage_parse(k, ksize, &bi, &why), 0);
	CHECK_EQ(bzimage_decompress(k, ksize, &v, &vsize, &why), 0);
	if (!v) {
		fprintf(stderr, "  %s\n", why);
		free(k);
		return;
	}
	CHECK_EQ(vmlinux_parse(v, vsize, &bi, &vi, &why), 0);
	CHECK_EQ(vi.entry, bi.pref_address);	/* startup_64 at _text */
	vm_init();
	CHECK_EQ(load(k, ksize, v, vsize, &entry, &why), 0);
	CHECK_EQ(entry.rip, vi.entry);
	CHECK(!memcmp(ram + vi.seg[0].paddr, v + vi.seg[0].offset,
		      vi.seg[0].filesz));
	vm_free();
	free(v);

	/* One flipped byte in the middle of the xz stream: refused. */
	k[ksize / 2] ^= 0x55;
	CHECK_EQ(bzimage_decompress(k, ksize, &v, &vsize, &why), -1);
	CHECK(v == NULL && why != NULL);
	free(k);
}

TEST(test_payload_not_xz_refused)
{
	size_t ksize, vsize;
	uint8_t *k = fake_bzimage(0x3001, &ksize), *v = (uint8_t *)1;
	const char *why = NULL;

	/* fake_bzimage has payload_offset/length 0: outside, then not xz. */
	CHECK_EQ(bzimage_decompress(k, ksize, &v, &vsize, &why), -1);
	CHECK(v == NULL && why != NULL);
	put32(k, 0x248, 0);		/* payload_offset */
	put32(k, 0x24c, 0x1000);	/* payload_length */
	CHECK_EQ(bzimage_decompress(k, ksize, &v, &vsize, &why), -1);
	CHECK(why && strstr(why, "not xz"));
	put32(k, 0x24c, 0x100000);	/* past the end of the file */
	CHECK_EQ(bzimage_decompress(k, ksize, &v, &vsize, &why), -1);
	CHECK(why && strstr(why, "outside"));
	free(k);
}

int main(void)
{
	FILE *f;

	RUN(test_segments_loaded_bss_cleared_entry_used);
	RUN(test_bad_vmlinux_refused_before_any_write);
	RUN(test_payload_not_xz_refused);
	if ((f = fopen(REAL_KERNEL, "rb"))) {
		fclose(f);
		RUN(test_real_kernel_decompresses_and_loads);
	} else {
		printf("SKIP test_real_kernel_decompresses_and_loads (no %s: "
		       "run make guest)\n", REAL_KERNEL);
	}
	return CHECK_DONE();
}
