/* The kernel inside a bzImage: decompressing its payload on the host (so
 * the guest need not - that is about a second of every boot for an
 * xz-compressed distribution kernel) and checking the resulting vmlinux
 * ELF before x86_boot_load() puts its segments where the bzImage's own
 * decompressor would have.  Input is untrusted (a user's kernel, a cache
 * file): every offset and size is checked. */
#include <elf.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include "boot.h"
#include "bootparam.h"

#define VMLINUX_MAX_SIZE	(512u << 20)

static int fail(const char **why, const char *msg)
{
	*why = msg;
	return -1;
}

int vmlinux_parse(const uint8_t *elf, size_t size,
		  const struct bzimage_info *bi, struct vmlinux_info *out,
		  const char **why)
{
	Elf64_Ehdr eh;
	uint64_t run_lo = bi->pref_address, run_hi, ph_end;

	memset(out, 0, sizeof(*out));
	if (size < sizeof(eh))
		return fail(why, "vmlinux: too short for an ELF header");
	memcpy(&eh, elf, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_type != ET_EXEC ||
	    eh.e_machine != EM_X86_64)
		return fail(why, "vmlinux: not an x86-64 executable ELF");
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > VMLINUX_MAX_SEGMENTS ||
	    !range_add_ok(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr),
			  &ph_end) || ph_end > size)
		return fail(why, "vmlinux: bad program headers");
	/* Where the bzImage's decompressor would run it, unrelocated. */
	if (!range_add_ok(run_lo, bi->init_size, &run_hi))
		return fail(why, "vmlinux: pref_address + init_size overflows");
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint64_t file_end, mem_end;

		memcpy(&ph, elf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz ||
		    !range_add_ok(ph.p_offset, ph.p_filesz, &file_end) ||
		    file_end > size ||
		    !range_add_ok(ph.p_paddr, ph.p_memsz, &mem_end) ||
		    ph.p_paddr < run_lo || mem_end > run_hi)
			return fail(why, "vmlinux: a segment lies outside the "
				    "file or the kernel's memory");
		out->seg[out->nr_segs++] = (struct vmlinux_segment){
			.paddr = ph.p_paddr, .offset = ph.p_offset,
			.filesz = ph.p_filesz, .memsz = ph.p_memsz,
		};
		if (ph.p_paddr <= eh.e_entry && eh.e_entry < mem_end &&
		    (ph.p_flags & PF_X))
			out->entry = eh.e_entry;
	}
	if (!out->nr_segs)
		return fail(why, "vmlinux: no loadable segment");
	if (!out->entry)
		return fail(why, "vmlinux: the entry point is not in an "
			    "executable segment");
	*why = NULL;
	return 0;
}

int bzimage_decompress(const uint8_t *img, size_t size, uint8_t **out,
		       size_t *out_size, const char **why)
{
	struct bzimage_info bi;
	struct setup_header h;
	lzma_stream s = LZMA_STREAM_INIT;
	uint64_t start, end, cap;
	uint8_t *buf = NULL;
	lzma_ret r;

	*out = NULL;
	*out_size = 0;
	if (bzimage_parse(img, size, &bi, why))
		return -1;
	memcpy(&h, img + SETUP_HDR_OFFSET, sizeof(h));
	/* payload_offset/length count from the protected-mode code; the
	 * last 4 bytes of the payload are the decompressed size. */
	if (!range_add_ok(bi.payload_offset, h.payload_offset, &start) ||
	    !range_add_ok(start, h.payload_length, &end) || end > size ||
	    h.payload_length < 16)
		return fail(why, "bzImage: payload outside the file");
	if (memcmp(img + start, "\xfd" "7zXZ", 6))
		return fail(why, "bzImage: payload is not xz-compressed");
	/* The build appends the decompressed size (le32). */
	cap = (uint64_t)img[end - 4] | (uint64_t)img[end - 3] << 8 |
	      (uint64_t)img[end - 2] << 16 | (uint64_t)img[end - 1] << 24;
	if (cap < sizeof(Elf64_Ehdr) || cap > VMLINUX_MAX_SIZE)
		return fail(why, "bzImage: implausible decompressed size");
	buf = malloc(cap);
	if (!buf)
		return fail(why, "out of memory decompressing the kernel");
	if (lzma_stream_decoder(&s, 256u << 20, 0) != LZMA_OK) {
		free(buf);
		return fail(why, "cannot start the xz decoder");
	}
	s.next_in = img + start;
	s.avail_in = h.payload_length - 4;
	s.next_out = buf;
	s.avail_out = cap;
	r = lzma_code(&s, LZMA_FINISH);
	*out_size = cap - s.avail_out;
	lzma_end(&s);
	if (r != LZMA_STREAM_END || *out_size != cap) {
		free(buf);
		*out_size = 0;
		return fail(why, r == LZMA_STREAM_END || r == LZMA_OK ||
			    r == LZMA_BUF_ERROR ?
			    "bzImage: the kernel does not decompress to the size "
			    "its build recorded" : "bzImage: corrupt xz payload");
	}
	*out = buf;
	*why = NULL;
	return 0;
}
