/* fuzz_pio: the guest's port I/O - the 8250 UART (devices/serial.c) and
 * the platform ports (devices/platform.c: ACPI sleep and reset, i8042,
 * pvpanic) - through the PIO bus dispatch (vmm/bus.c), as a vCPU's exits
 * would reach them, interleaved with host input for the UART.
 *
 * Input: [0] the UART's output (/dev/null or a 4 KiB pipe nobody
 * drains), then ops (op byte % 8): 0-3 an access (port near the devices,
 * size 1/2/4/8, read or write, value); 4 a byte access to COM1's
 * registers; 5 host input (serial_receive); 6 every COM1 register read;
 * 7 an LCR write (DLAB on or off) then a write to another register.
 *
 * Checks besides the sanitizers: unclaimed ports read as all ones and
 * say so; the receive FIFO stays within its size; the interrupt line
 * goes only to 0 or 1 and matches what the UART says; host input taken
 * never exceeds the room reported; the platform ports stop the VM only
 * with the documented reasons.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bus.h"
#include "fuzz_common.h"
#include "layout.h"
#include "platform.h"
#include "serial.h"

static int devnull = -1;
static unsigned stops;
static int irq_level = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0)
		abort();
	return 0;
}

static void irq_set_level(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	FZ_CHECK(gsi == COM1_IRQ);
	FZ_CHECK(level == 0 || level == 1);
	irq_level = level;
}

static void stop(void *ctx, enum minivmm_exit why)
{
	(void)ctx;
	FZ_CHECK(why == EXIT_POWEROFF || why == EXIT_REBOOT || why == EXIT_PANIC);
	stops++;
}

/* Ports worth hitting: each device's range and its neighbours. */
static const uint16_t ports[] = {
	COM1_PORT - 1, COM1_PORT, COM1_PORT + 1, COM1_PORT + 2, COM1_PORT + 3,
	COM1_PORT + 4, COM1_PORT + 5, COM1_PORT + 6, COM1_PORT + 7, COM1_PORT + 8,
	ACPI_SLEEP_PORT, ACPI_RESET_PORT, ACPI_SLEEP_PORT - 1, ACPI_RESET_PORT + 1,
	I8042_CMD_PORT, I8042_CMD_PORT - 4, PVPANIC_PORT, PVPANIC_PORT + 1,
};

static void pio_access(struct bus *bus, struct fz *f, int com1_only)
{
	static const unsigned lens[4] = { 1, 2, 4, 8 };
	uint8_t k = fz_u8(f), data[8];
	uint16_t port = com1_only ? COM1_PORT + (k >> 5) :
			k < 0xf0 ? ports[k % (sizeof(ports) / sizeof(ports[0]))] :
			fz_u16(f);
	uint8_t m = fz_u8(f);
	unsigned len = com1_only ? 1 : lens[m & 3];
	int write = m & 4, r;

	fz_take(f, data, 8);
	r = bus_access(bus, port, data, len, write);
	if (r < 0 && !write)
		for (unsigned i = 0; i < len; i++)
			FZ_CHECK(data[i] == 0xff);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct fz f = { in, size };
	struct irq_line line = { irq_set_level, NULL, COM1_IRQ };
	struct vm_stopper stopper = { stop, NULL };
	struct bus bus = { 0 };
	struct serial s;
	struct platform p;
	int pipefd[2] = { -1, -1 };
	unsigned ops = 0;

	irq_level = -1;
	stops = 0;
	if (fz_u8(&f) & 1) {
		if (pipe2(pipefd, O_CLOEXEC) < 0)
			abort();
		fcntl(pipefd[1], F_SETPIPE_SZ, 4096);
	}
	serial_init(&s, pipefd[1] >= 0 ? pipefd[1] : devnull, &line);
	s.tx_timeout_ms = 1;
	platform_init(&p, &stopper);
	if (bus_register(&bus, COM1_PORT, 8, &serial_bus_ops, &s, "com1") ||
	    bus_register(&bus, ACPI_SLEEP_PORT, 1, &acpi_sleep_ops, &p, "sleep") ||
	    bus_register(&bus, ACPI_RESET_PORT, 1, &acpi_reset_ops, &p, "reset") ||
	    bus_register(&bus, I8042_CMD_PORT, 1, &i8042_ops, &p, "i8042") ||
	    bus_register(&bus, PVPANIC_PORT, 1, &pvpanic_ops, &p, "pvpanic"))
		abort();

	while (f.n && ops++ < 1024) {
		uint8_t op = fz_u8(&f);

		switch (op % 8) {
		case 0 ... 3:
			pio_access(&bus, &f, 0);
			break;
		case 4:
			pio_access(&bus, &f, 1);
			break;
		case 5: {
			uint8_t buf[128];
			unsigned room = serial_rx_room(&s), n = fz_u8(&f) % sizeof(buf);
			size_t taken;

			fz_take(&f, buf, n);
			taken = serial_receive(&s, buf, n);
			FZ_CHECK(taken <= n && taken <= room);
			break;
		}
		case 6:		/* a driver's status poll: every register read */
			for (unsigned r = 0; r < 8; r++) {
				uint8_t v;

				bus_access(&bus, COM1_PORT + r, &v, 1, 0);
			}
			break;
		case 7: {	/* LCR, then a register write under it */
			uint8_t v[2];

			v[0] = fz_u8(&f);
			v[1] = fz_u8(&f);
			bus_access(&bus, COM1_PORT + 3, &v[0], 1, 1);
			bus_access(&bus, COM1_PORT + (op >> 5), &v[1], 1, 1);
			break;
		}
		}
		pthread_mutex_lock(&s.lock);
		FZ_CHECK(s.rx_count <= SERIAL_FIFO_SIZE && s.rx_head < SERIAL_FIFO_SIZE);
		FZ_CHECK(s.irq_level == 0 || s.irq_level == 1);
		if (irq_level >= 0)
			FZ_CHECK(irq_level == s.irq_level);
		pthread_mutex_unlock(&s.lock);
	}
	serial_destroy(&s);
	bus_free(&bus);
	for (int i = 0; i < 2; i++)
		if (pipefd[i] >= 0)
			close(pipefd[i]);
	return 0;
}
