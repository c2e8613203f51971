/* The reboot stub at the reset vector: the exact bytes at 0xffff0, and
 * nothing written elsewhere. */
#include <stdlib.h>
#include "boot.h"
#include "check.h"
#include "layout.h"

TEST(test_stub_bytes_at_reset_vector)
{
	static const uint8_t want[] = { 0xb0, 0xfe, 0xe6, 0x64, 0xf4, 0xeb, 0xfd };
	uint8_t *ram = calloc(1, 2 << 20);
	struct guest_mem gm = { 0 };
	size_t nonzero = 0;

	CHECK(ram != NULL);
	CHECK_EQ(guest_mem_add(&gm, 0, 2 << 20, ram), 0);
	CHECK_EQ(x86_reset_vector_write(&gm), 0);
	CHECK(memcmp(ram + RESET_VECTOR_ADDR, want, sizeof(want)) == 0);
	for (size_t i = 0; i < (2u << 20); i++)
		nonzero += ram[i] != 0;
	CHECK_EQ(nonzero, sizeof(want));	/* none of the 7 is zero */
	free(ram);
}

TEST(test_stub_clear_of_acpi_tables)
{
	CHECK(ACPI_TABLES_ADDR + ACPI_TABLES_SIZE <= RESET_VECTOR_ADDR);
}

TEST(test_no_ram_refused)
{
	uint8_t *ram = calloc(1, 4096);
	struct guest_mem gm = { 0 };

	CHECK_EQ(guest_mem_add(&gm, 0, 4096, ram), 0);
	CHECK_EQ(x86_reset_vector_write(&gm), -1);
	free(ram);
}

int main(void)
{
	RUN(test_stub_bytes_at_reset_vector);
	RUN(test_stub_clear_of_acpi_tables);
	RUN(test_no_ram_refused);
	return CHECK_DONE();
}
