/* platform: each port, reached through the bus at its layout.h address,
 * ends the VM only for the values that mean it, through a fake stopper. */
#include <stdint.h>
#include <unistd.h>
#include "aml.h"
#include "bus.h"
#include "check.h"
#include "layout.h"
#include "platform.h"

struct fake_stopper {
	int calls;
	enum minivmm_exit why;
};

static void fake_stop(void *ctx, enum minivmm_exit why)
{
	struct fake_stopper *f = ctx;

	f->calls++;
	f->why = why;
}

static struct fake_stopper stopped;
static struct platform plat;
static struct bus pio;

/* The four ports registered as main.c does. */
static void setup(void)
{
	struct vm_stopper st = { fake_stop, &stopped };

	stopped = (struct fake_stopper){ 0 };
	bus_free(&pio);
	platform_init(&plat, &st);
	CHECK_EQ(bus_register(&pio, ACPI_SLEEP_PORT, 1, &acpi_sleep_ops, &plat,
			      "acpi-sleep"), 0);
	CHECK_EQ(bus_register(&pio, ACPI_RESET_PORT, 1, &acpi_reset_ops, &plat,
			      "acpi-reset"), 0);
	CHECK_EQ(bus_register(&pio, I8042_CMD_PORT, 1, &i8042_ops, &plat,
			      "i8042"), 0);
	CHECK_EQ(bus_register(&pio, PVPANIC_PORT, 1, &pvpanic_ops, &plat,
			      "pvpanic"), 0);
}

static void outb(uint16_t port, uint8_t v)
{
	CHECK_EQ(bus_access(&pio, port, &v, 1, 1), 0);
}

static int inb(uint16_t port)
{
	uint8_t v = 0x5a;

	return bus_access(&pio, port, &v, 1, 0) ? -1 : v;
}

/* Runs fn with stderr captured; returns what it wrote. */
static const char *capture_stderr(void (*fn)(void))
{
	static char buf[512];
	int p[2], saved;
	ssize_t n;

	if (pipe(p))
		return "";
	fflush(stderr);
	saved = dup(2);
	dup2(p[1], 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

TEST(test_sleep_s5_powers_off)
{
	setup();
	CHECK_EQ(inb(ACPI_SLEEP_PORT), 0);
	outb(ACPI_SLEEP_PORT, 0x80);		/* Linux clears WAK_STS first */
	CHECK_EQ(stopped.calls, 0);
	outb(ACPI_SLEEP_PORT, 5 << 2);		/* S5 without SLP_EN */
	CHECK_EQ(stopped.calls, 0);
	outb(ACPI_SLEEP_PORT, 0x20 | 5 << 2);
	CHECK_EQ(stopped.calls, 1);
	CHECK_EQ(stopped.why, EXIT_POWEROFF);
}

static void ask_for_s3_twice(void)
{
	outb(ACPI_SLEEP_PORT, 0x20 | 3 << 2);
	outb(ACPI_SLEEP_PORT, 0x80);
	outb(ACPI_SLEEP_PORT, 0x20 | 1 << 2);
}

TEST(test_other_sleep_states_ignored_and_logged_once)
{
	const char *log;

	setup();
	log = capture_stderr(ask_for_s3_twice);
	CHECK_EQ(stopped.calls, 0);
	CHECK(strcmp(log, "minivmm: guest asked for sleep state 3, ignored\n") == 0);
	/* An ignored sleep wakes at once, so a guest polling WAK_STS goes on;
	 * writing 1 clears it. */
	CHECK_EQ(inb(ACPI_SLEEP_PORT), 0x80);
	outb(ACPI_SLEEP_PORT, 0x80);
	CHECK_EQ(inb(ACPI_SLEEP_PORT), 0);
	for (unsigned typ = 0; typ < 8; typ++)
		if (typ != 5)
			outb(ACPI_SLEEP_PORT, (uint8_t)(0x20 | typ << 2));
	CHECK_EQ(stopped.calls, 0);
}

TEST(test_acpi_reset_register)
{
	static const uint8_t ignored[] = { 0x00, 0x41, 0x43, 0xfe, 0xff, 0x06 };

	setup();
	for (size_t i = 0; i < sizeof(ignored); i++)
		outb(ACPI_RESET_PORT, ignored[i]);
	CHECK_EQ(stopped.calls, 0);
	CHECK_EQ(inb(ACPI_RESET_PORT), 0);
	outb(ACPI_RESET_PORT, ACPI_RESET_VALUE);
	CHECK_EQ(stopped.calls, 1);
	CHECK_EQ(stopped.why, EXIT_REBOOT);
}

TEST(test_i8042_reset_and_idle_status)
{
	static const uint8_t ignored[] = { 0xaa, 0xad, 0xa7, 0xd1, 0x20, 0xff };

	setup();
	/* Output buffer empty, input buffer empty: nothing to wait for. */
	CHECK_EQ(inb(I8042_CMD_PORT), 0);
	for (size_t i = 0; i < sizeof(ignored); i++)
		outb(I8042_CMD_PORT, ignored[i]);
	CHECK_EQ(stopped.calls, 0);
	CHECK_EQ(inb(I8042_CMD_PORT + 1), -1);	/* only port 0x64 is ours */
	outb(I8042_CMD_PORT, 0xfe);
	CHECK_EQ(stopped.calls, 1);
	CHECK_EQ(stopped.why, EXIT_REBOOT);
}

TEST(test_pvpanic)
{
	setup();
	CHECK_EQ(inb(PVPANIC_PORT), 0x03);	/* PANICKED | CRASH_LOADED */
	outb(PVPANIC_PORT, 0x02);		/* kdump kernel loaded */
	outb(PVPANIC_PORT, 0x00);
	outb(PVPANIC_PORT, 0x04);		/* shutdown: not advertised */
	CHECK_EQ(stopped.calls, 0);
	outb(PVPANIC_PORT, 0x01);
	CHECK_EQ(stopped.calls, 1);
	CHECK_EQ(stopped.why, EXIT_PANIC);
	setup();
	outb(PVPANIC_PORT, 0x03);
	CHECK_EQ(stopped.calls, 1);
	CHECK_EQ(stopped.why, EXIT_PANIC);
}

TEST(test_wide_reads_zero_extend)
{
	uint8_t v[4] = { 0xee, 0xee, 0xee, 0xee };

	setup();
	pvpanic_ops.read(&plat, 0, v, 4);
	CHECK_EQ(v[0], 0x03);
	CHECK_EQ(v[1], 0);
	CHECK_EQ(v[3], 0);
	/* Through the bus a wide access straddles the one-byte port. */
	CHECK_EQ(bus_access(&pio, PVPANIC_PORT, v, 2, 0), -1);
	CHECK_EQ(bus_access(&pio, ACPI_RESET_PORT, v, 2, 1), -1);
	CHECK_EQ(stopped.calls, 0);
}

TEST(test_zeroed_platform_works_without_init)
{
	static struct platform p;	/* as main.c's static machine */
	uint8_t v = 0x20 | 5 << 2;

	stopped = (struct fake_stopper){ 0 };
	p.stopper = (struct vm_stopper){ fake_stop, &stopped };
	acpi_sleep_ops.write(&p, 0, &v, 1);
	CHECK_EQ(stopped.calls, 1);
	CHECK_EQ(stopped.why, EXIT_POWEROFF);
}

static int find(const struct aml *a, const uint8_t *pat, size_t n)
{
	for (size_t i = 0; i + n <= a->len; i++)
		if (!memcmp(a->buf + i, pat, n))
			return 1;
	return 0;
}

TEST(test_aml_pvpanic)
{
	static const uint8_t hid[] = "\x0dQEMU0001";	/* StringPrefix */
	struct aml a;
	int io = 0;

	aml_init(&a);
	pvpanic_write_aml(&plat, &a);
	CHECK_EQ(a.error, 0);
	CHECK_EQ(a.depth, 0);
	CHECK(a.len > 2 && a.buf[0] == 0x5b && a.buf[1] == 0x82);
	CHECK(find(&a, (const uint8_t *)"PEVT", 4));
	CHECK(find(&a, (const uint8_t *)"_HID", 4));
	CHECK(find(&a, hid, sizeof(hid)));	/* with its NUL */
	CHECK(find(&a, (const uint8_t *)"_CRS", 4));
	CHECK(find(&a, (const uint8_t *)"_STA", 4));
	for (size_t i = 0; i + 8 <= a.len; i++) {
		const uint8_t *d = a.buf + i;

		if (d[0] == 0x47 && d[2] == 0x05 && d[3] == 0x05 &&
		    d[4] == 0x05 && d[5] == 0x05 && d[7] == 1)
			io = 1;
	}
	CHECK(io);
	aml_free(&a);
}

int main(void)
{
	RUN(test_sleep_s5_powers_off);
	RUN(test_other_sleep_states_ignored_and_logged_once);
	RUN(test_acpi_reset_register);
	RUN(test_i8042_reset_and_idle_status);
	RUN(test_pvpanic);
	RUN(test_wide_reads_zero_extend);
	RUN(test_zeroed_platform_works_without_init);
	RUN(test_aml_pvpanic);
	bus_free(&pio);
	return CHECK_DONE();
}
