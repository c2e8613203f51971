/* serial: the 16550A as Linux's 8250 driver sees it - the probe that must
 * conclude "16550A", THRE and IRQ semantics, the RX FIFO and its
 * back-pressure, and bytes reaching the output fd. */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include "aml.h"
#include "check.h"
#include "serial.h"

/* Register offsets and bits, spelled as Linux's serial_reg.h does. */
enum { RX = 0, TX = 0, DLL = 0, DLM = 1, IER = 1, IIR = 2, FCR = 2, EFR = 2,
       LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
#define IER_RDI		0x01
#define IER_THRI	0x02
#define IER_RLSI	0x04
#define IER_MSI		0x08
#define IIR_NO_INT	0x01
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RCVR	0x02
#define FCR_CLEAR_XMIT	0x04
#define FCR7_64BYTE	0x20
#define LCR_DLAB	0x80
#define LCR_CONF_MODE_A	0x80
#define LCR_CONF_MODE_B	0xbf
#define LCR_WLEN8	0x03
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

struct fake_irq {
	int level, calls;
	unsigned gsi;
};

static void fake_set_level(void *ctx, unsigned gsi, int level)
{
	struct fake_irq *f = ctx;

	f->level = level;
	f->gsi = gsi;
	f->calls++;
}

static struct fake_irq irq;
static struct serial uart;

/* A fresh UART on IRQ 4 writing to fd. */
static struct serial *setup(int fd)
{
	struct irq_line line = { fake_set_level, &irq, 4 };

	irq = (struct fake_irq){ 0 };
	serial_init(&uart, fd, &line);
	return &uart;
}

static void out(struct serial *s, unsigned reg, uint8_t v)
{
	serial_bus_ops.write(s, reg, &v, 1);
}

static uint8_t in(struct serial *s, unsigned reg)
{
	uint8_t v = 0x5a;

	serial_bus_ops.read(s, reg, &v, 1);
	return v;
}

static void dl_write(struct serial *s, uint16_t dl)
{
	out(s, DLL, dl & 0xff);
	out(s, DLM, dl >> 8);
}

/* Linux's size_fifo(): loop back 256 bytes at full speed, count what the
 * receiver kept. */
static int size_fifo(struct serial *s)
{
	uint8_t old_lcr = in(s, LCR), old_mcr = in(s, MCR), old_fcr;
	int count;

	out(s, LCR, 0);
	old_fcr = in(s, FCR);
	out(s, FCR, FCR_ENABLE | FCR_CLEAR_RCVR | FCR_CLEAR_XMIT);
	out(s, MCR, MCR_LOOP);
	out(s, LCR, LCR_CONF_MODE_A);
	dl_write(s, 1);
	out(s, LCR, LCR_WLEN8);
	for (count = 0; count < 256; count++)
		out(s, TX, (uint8_t)count);
	for (count = 0; (in(s, LSR) & LSR_DR) && count < 256; count++)
		in(s, RX);
	out(s, FCR, old_fcr);
	out(s, MCR, old_mcr);
	out(s, LCR, old_lcr);
	return count;
}

/* The decisions of Linux's 8250 autoconfig() and autoconfig_16550a() with
 * the loopback test and the full variant probe enabled; returns the type
 * Linux would print. */
static const char *linux_autoconfig(struct serial *s)
{
	uint8_t save, s1, s2, s3, save_mcr, save_lcr;

	/* Existence: IER's low nibble holds what is written. */
	save = in(s, IER);
	out(s, IER, 0);
	s2 = in(s, IER) & 0x0f;
	out(s, IER, 0x0f);
	s3 = in(s, IER) & 0x0f;
	out(s, IER, save);
	if (s2 != 0 || s3 != 0x0f)
		return "none (IER test)";

	save_mcr = in(s, MCR);
	save_lcr = in(s, LCR);
	out(s, MCR, MCR_LOOP | 0x0a);
	s1 = in(s, MSR) & 0xf0;
	out(s, MCR, save_mcr);
	if (s1 != 0x90)
		return "none (loopback test)";

	out(s, LCR, LCR_CONF_MODE_B);
	out(s, EFR, 0);
	out(s, LCR, 0);
	out(s, FCR, FCR_ENABLE);
	switch (in(s, IIR) >> 6) {
	case 0:
		/* autoconfig_8250: a scratch register tells 16450 from 8250. */
		out(s, SCR, 0xa5);
		s1 = in(s, SCR);
		out(s, SCR, 0x5a);
		s2 = in(s, SCR);
		return s1 == 0xa5 && s2 == 0x5a ? "16450" : "8250";
	case 1:
		return "unknown";
	case 2:
		return "16550";
	}

	/* autoconfig_16550a */
	out(s, LCR, LCR_CONF_MODE_A);
	if (in(s, EFR) == 0)
		return "16650 family (EFR with DLAB)";
	out(s, LCR, LCR_CONF_MODE_B);
	if (in(s, EFR) == 0)
		return "16650 family (EFR with 0xbf)";

	/* National Semiconductor SuperIO: EXCR1 mirrors MCR's LOOP bit. */
	out(s, LCR, 0);
	s1 = in(s, MCR);
	out(s, LCR, 0xe0);
	s2 = in(s, 2);
	if (!((s2 ^ s1) & MCR_LOOP)) {
		out(s, LCR, 0);
		out(s, MCR, s1 ^ MCR_LOOP);
		out(s, LCR, 0xe0);
		s2 = in(s, 2);
		out(s, LCR, 0);
		out(s, MCR, s1);
		if ((s2 ^ s1) & MCR_LOOP)
			return "NatSemi";
	}

	/* TI16750: IIR bit 5 follows FCR7_64BYTE only with DLAB set. */
	out(s, LCR, 0);
	out(s, FCR, FCR_ENABLE | FCR7_64BYTE);
	s1 = in(s, IIR) & 0xe0;
	out(s, FCR, FCR_ENABLE);
	out(s, LCR, LCR_CONF_MODE_A);
	out(s, FCR, FCR_ENABLE | FCR7_64BYTE);
	s2 = in(s, IIR) & 0xe0;
	out(s, FCR, FCR_ENABLE);
	out(s, LCR, 0);
	if (s1 == 0xc0 && s2 == 0xe0)
		return "16750";

	/* XScale: IER bit 6 (UUE) sticks. */
	save = in(s, IER);
	out(s, IER, save & ~0x40);
	if (!(in(s, IER) & 0x40)) {
		out(s, IER, save | 0x40);
		if (in(s, IER) & 0x40)
			return "XScale";
	}
	out(s, IER, save);

	if (size_fifo(s) == 64)
		return "U6_16550A";
	out(s, LCR, save_lcr);
	return "16550A";
}

static int pipe_nb(int p[2])
{
	if (pipe(p))
		return -1;
	return fcntl(p[0], F_SETFL, O_NONBLOCK);
}

TEST(test_linux_probe_says_16550a)
{
	int p[2];
	struct serial *s;
	char buf[512];

	CHECK_EQ(pipe_nb(p), 0);
	s = setup(p[1]);
	CHECK(strcmp(linux_autoconfig(s), "16550A") == 0);
	/* Loopback bytes never reach the line. */
	CHECK_EQ(read(p[0], buf, sizeof(buf)), -1);
	/* The probe left no interrupt behind and the IRQ low. */
	CHECK_EQ(irq.level, 0);
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
}

TEST(test_ier_and_scratch_registers)
{
	struct serial *s = setup(-1);

	out(s, IER, 0xff);
	CHECK_EQ(in(s, IER), 0x0f);	/* no UUE or other 16750 bits */
	out(s, IER, 0);
	CHECK_EQ(in(s, IER), 0);
	out(s, SCR, 0xa5);
	CHECK_EQ(in(s, SCR), 0xa5);
	out(s, SCR, 0x5a);
	CHECK_EQ(in(s, SCR), 0x5a);
	out(s, LCR, 0x1b);
	CHECK_EQ(in(s, LCR), 0x1b);
	out(s, MCR, 0xff);
	CHECK_EQ(in(s, MCR), 0x1f);
	serial_destroy(s);
}

TEST(test_loopback_msr)
{
	struct serial *s = setup(-1);

	/* Outside loopback the line is always ready. */
	CHECK_EQ(in(s, MSR) & 0xf0, 0xb0);
	out(s, MCR, MCR_LOOP | MCR_RTS | MCR_OUT2);
	CHECK_EQ(in(s, MSR) & 0xf0, 0x90);	/* CTS | DCD */
	out(s, MCR, MCR_LOOP | MCR_DTR | MCR_OUT1);
	CHECK_EQ(in(s, MSR), 0x60 | 0x0b);	/* DSR | RI; CTS, DSR, DCD moved */
	CHECK_EQ(in(s, MSR), 0x60);		/* deltas cleared by the read */
	out(s, MCR, MCR_LOOP);
	CHECK_EQ(in(s, MSR), 0x02 | 0x04);	/* DSR fell, RI trailing edge */
	out(s, MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT1 | MCR_OUT2);
	CHECK_EQ(in(s, MSR) & 0xf0, 0xf0);
	out(s, MCR, 0);
	CHECK_EQ(in(s, MSR) & 0xf0, 0xb0);
	serial_destroy(s);
}

TEST(test_fifo_detection)
{
	struct serial *s = setup(-1);

	CHECK_EQ(in(s, IIR), IIR_NO_INT);	/* 16450 mode after reset */
	out(s, FCR, FCR_ENABLE);
	CHECK_EQ(in(s, IIR), 0xc0 | IIR_NO_INT);
	/* No 64-byte mode (that would be a 16750), DLAB or not. */
	out(s, FCR, FCR_ENABLE | FCR7_64BYTE);
	CHECK_EQ(in(s, IIR) & 0xe0, 0xc0);
	out(s, LCR, LCR_DLAB);
	out(s, FCR, FCR_ENABLE | FCR7_64BYTE);
	CHECK_EQ(in(s, IIR) & 0xe0, 0xc0);
	/* With DLAB, offset 2 is still IIR (no EFR): never 0. */
	out(s, LCR, LCR_CONF_MODE_B);
	CHECK(in(s, EFR) != 0);
	out(s, LCR, 0);
	out(s, FCR, 0);
	CHECK_EQ(in(s, IIR) >> 6, 0);
	serial_destroy(s);
}

TEST(test_fifo_size_probe_counts_16)
{
	struct serial *s = setup(-1);

	CHECK_EQ(size_fifo(s), 16);
	serial_destroy(s);
}

TEST(test_loopback_overrun)
{
	struct serial *s = setup(-1);

	out(s, MCR, MCR_LOOP);
	out(s, TX, 'a');
	CHECK_EQ(in(s, LSR), LSR_THRE | LSR_TEMT | LSR_DR);
	out(s, TX, 'b');		/* 16450 mode holds one byte */
	CHECK_EQ(in(s, LSR), LSR_THRE | LSR_TEMT | LSR_DR | LSR_OE);
	CHECK_EQ(in(s, LSR), LSR_THRE | LSR_TEMT | LSR_DR);	/* OE read-clears */
	CHECK_EQ(in(s, RX), 'a');
	CHECK_EQ(in(s, LSR), LSR_THRE | LSR_TEMT);
	serial_destroy(s);
}

TEST(test_dlab_divisor_round_trip)
{
	int p[2];
	struct serial *s;
	char c;

	CHECK_EQ(pipe_nb(p), 0);
	s = setup(p[1]);
	out(s, IER, IER_RDI);
	out(s, LCR, LCR_DLAB | LCR_WLEN8);
	out(s, DLL, 0x34);
	out(s, DLM, 0x12);
	CHECK_EQ(in(s, DLL), 0x34);
	CHECK_EQ(in(s, DLM), 0x12);
	CHECK_EQ(read(p[0], &c, 1), -1);	/* DLL is not THR */
	out(s, LCR, LCR_WLEN8);
	CHECK_EQ(in(s, IER), IER_RDI);		/* IER untouched by DLM */
	out(s, TX, 'x');
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(c, 'x');
	out(s, LCR, LCR_DLAB);
	CHECK_EQ(in(s, DLL), 0x34);		/* THR did not touch DLL */
	CHECK_EQ(in(s, DLM), 0x12);
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
}

TEST(test_tx_reaches_fd)
{
	static const char msg[] = "Linux version 6.1\r\n";
	char buf[64] = { 0 };
	int p[2];
	struct serial *s;

	CHECK_EQ(pipe_nb(p), 0);
	s = setup(p[1]);
	for (size_t i = 0; i < sizeof(msg) - 1; i++) {
		CHECK(in(s, LSR) & LSR_THRE);
		out(s, TX, (uint8_t)msg[i]);
	}
	CHECK_EQ(read(p[0], buf, sizeof(buf)), (long)sizeof(msg) - 1);
	CHECK_EQ(memcmp(buf, msg, sizeof(msg) - 1), 0);
	serial_destroy(s);

	/* -1 discards. */
	s = setup(-1);
	out(s, TX, 'z');
	CHECK(in(s, LSR) & LSR_TEMT);
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

TEST(test_tx_blocked_fd_never_hangs)
{
	static char junk[4096];
	int p[2], fl;
	struct serial *s;
	double t;
	char c;

	CHECK_EQ(pipe(p), 0);
	/* Fill the pipe, then make the write end blocking like stdout. */
	fl = fcntl(p[1], F_GETFL);
	fcntl(p[1], F_SETFL, fl | O_NONBLOCK);
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	while (write(p[1], junk, 1) > 0)
		;
	fcntl(p[1], F_SETFL, fl);
	fcntl(p[0], F_SETFL, O_NONBLOCK);

	s = setup(p[1]);
	s->tx_timeout_ms = 50;
	t = now_s();
	out(s, TX, 'a');		/* waits once, then gives up */
	for (int i = 0; i < 100; i++)
		out(s, TX, 'b');	/* stalled: no more waiting */
	t = now_s() - t;
	CHECK(t < 1.0);
	CHECK(s->tx_stalled);

	/* The reader drains: output flows again. */
	while (read(p[0], junk, sizeof(junk)) > 0)
		;
	out(s, TX, 'c');
	CHECK(!s->tx_stalled);
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(c, 'c');
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
}

TEST(test_thre_latch_and_clear)
{
	struct serial *s = setup(-1);

	CHECK_EQ(in(s, IIR), IIR_NO_INT);
	/* Enabling ETBEI with THR empty latches THRE ... */
	out(s, IER, IER_THRI);
	CHECK_EQ(in(s, IIR), 0x02);
	/* ... reading IIR, which reported it, clears it ... */
	CHECK_EQ(in(s, IIR), IIR_NO_INT);
	/* ... and rewriting the same IER does not bring it back, */
	out(s, IER, IER_THRI);
	CHECK_EQ(in(s, IIR), IIR_NO_INT);
	/* but toggling ETBEI does (Linux's startup THRE test). */
	out(s, IER, 0);
	out(s, IER, IER_THRI);
	CHECK_EQ(in(s, IIR), 0x02);
	CHECK_EQ(in(s, IIR), IIR_NO_INT);
	/* A THR write clears it, and since the byte leaves at once THR is
	 * empty again: the latch is back for the next byte. */
	out(s, TX, 'x');
	CHECK_EQ(in(s, IIR), 0x02);
	/* Disabling ETBEI drops a latched THRE. */
	out(s, TX, 'y');
	out(s, IER, 0);
	out(s, IER, IER_RDI);
	CHECK_EQ(in(s, IIR), IIR_NO_INT);
	/* Without ETBEI a THR write latches nothing. */
	out(s, TX, 'z');
	CHECK_EQ(in(s, IIR), IIR_NO_INT);
	serial_destroy(s);
}

TEST(test_irq_level_needs_out2)
{
	struct serial *s = setup(-1);

	out(s, IER, IER_THRI);		/* pending, but OUT2 is low */
	CHECK_EQ(irq.calls, 0);
	CHECK_EQ(irq.level, 0);
	out(s, MCR, MCR_OUT2 | MCR_DTR | MCR_RTS);
	CHECK_EQ(irq.level, 1);
	CHECK_EQ(irq.calls, 1);
	CHECK_EQ(irq.gsi, 4);
	out(s, SCR, 1);			/* no change, no call */
	in(s, LSR);
	CHECK_EQ(irq.calls, 1);
	CHECK_EQ(in(s, IIR), 0x02);	/* acknowledges: line drops */
	CHECK_EQ(irq.level, 0);
	CHECK_EQ(irq.calls, 2);
	out(s, TX, 'a');		/* THR empty again: line up */
	CHECK_EQ(irq.level, 1);
	out(s, MCR, 0);			/* OUT2 low masks it */
	CHECK_EQ(irq.level, 0);
	CHECK_EQ(in(s, IIR), 0x02);	/* still pending inside the chip */
	out(s, MCR, MCR_OUT2);
	CHECK_EQ(irq.level, 0);
	CHECK_EQ(irq.calls, 4);
	serial_destroy(s);
}

static int room_calls;

static void count_room(void *ctx)
{
	(void)ctx;
	room_calls++;
}

TEST(test_rx_fifo_fill_overflow_room)
{
	struct serial *s = setup(-1);
	uint8_t buf[100];

	room_calls = 0;
	out(s, MCR, MCR_OUT2);
	out(s, IER, IER_RDI);	/* the guest listens */
	s->rx_room = count_room;
	for (int i = 0; i < 100; i++)
		buf[i] = (uint8_t)i;
	CHECK_EQ(serial_rx_room(s), SERIAL_FIFO_SIZE);
	CHECK_EQ(in(s, LSR) & LSR_DR, 0);
	CHECK_EQ(serial_receive(s, buf, 100), SERIAL_FIFO_SIZE);
	CHECK_EQ(serial_rx_room(s), 0);
	CHECK_EQ(serial_receive(s, buf, 1), 0);
	CHECK_EQ(in(s, LSR), LSR_THRE | LSR_TEMT | LSR_DR);	/* no OE */

	CHECK_EQ(in(s, RX), 0);
	CHECK_EQ(room_calls, 1);		/* full -> room */
	CHECK_EQ(in(s, RX), 1);
	CHECK_EQ(room_calls, 1);		/* had room already */
	CHECK_EQ(serial_rx_room(s), 2);
	/* Refill across the ring's wrap point, keeping order. */
	CHECK_EQ(serial_receive(s, buf + SERIAL_FIFO_SIZE, 10), 2);
	CHECK_EQ(in(s, RX), 2);
	CHECK_EQ(room_calls, 2);
	for (int i = 3; i < SERIAL_FIFO_SIZE + 2; i++)
		CHECK_EQ(in(s, RX), i);
	CHECK_EQ(in(s, LSR) & LSR_DR, 0);
	CHECK_EQ(in(s, RX), 0);			/* empty RBR */
	CHECK_EQ(room_calls, 2);
	CHECK_EQ(serial_rx_room(s), SERIAL_FIFO_SIZE);
	serial_destroy(s);
}

TEST(test_fifo_reset_and_loopback_gate_host_input)
{
	struct serial *s = setup(-1);
	uint8_t buf[SERIAL_FIFO_SIZE] = { 0 };

	room_calls = 0;
	out(s, MCR, MCR_OUT2);
	out(s, IER, IER_RDI);
	s->rx_room = count_room;
	out(s, FCR, FCR_ENABLE);
	CHECK_EQ(room_calls, 0);
	CHECK_EQ(serial_receive(s, buf, sizeof(buf)), SERIAL_FIFO_SIZE);
	out(s, FCR, FCR_ENABLE | FCR_CLEAR_RCVR);
	CHECK_EQ(in(s, LSR) & LSR_DR, 0);
	CHECK_EQ(room_calls, 1);
	CHECK_EQ(serial_receive(s, buf, sizeof(buf)), SERIAL_FIFO_SIZE);
	/* Toggling the enable bit keeps host input (Linux re-enables the
	 * FIFO after enabling the RX interrupt); the clear bit drops it. */
	out(s, FCR, 0);
	out(s, FCR, FCR_ENABLE);
	CHECK(in(s, LSR) & LSR_DR);
	out(s, FCR, FCR_ENABLE | FCR_CLEAR_RCVR);
	CHECK_EQ(in(s, LSR) & LSR_DR, 0);
	CHECK_EQ(room_calls, 2);

	/* In loopback the receiver listens to the transmitter only. */
	out(s, MCR, MCR_LOOP | MCR_OUT2);
	CHECK_EQ(serial_rx_room(s), 0);
	CHECK_EQ(serial_receive(s, buf, 1), 0);
	out(s, MCR, MCR_OUT2);
	CHECK_EQ(room_calls, 3);
	CHECK_EQ(serial_receive(s, buf, 1), 1);
	serial_destroy(s);
}

TEST(test_data_ready_interrupt)
{
	struct serial *s = setup(-1);

	out(s, FCR, FCR_ENABLE);
	out(s, MCR, MCR_OUT2);
	out(s, IER, IER_RDI);
	CHECK_EQ(irq.level, 0);
	CHECK_EQ(serial_receive(s, (const uint8_t *)"ab", 2), 2);
	CHECK_EQ(irq.level, 1);
	CHECK_EQ(in(s, IIR), 0xc4);
	CHECK_EQ(in(s, IIR), 0xc4);		/* not cleared by IIR */
	CHECK_EQ(in(s, RX), 'a');
	CHECK_EQ(irq.level, 1);
	CHECK_EQ(in(s, RX), 'b');
	CHECK_EQ(irq.level, 0);
	CHECK_EQ(in(s, IIR), 0xc1);
	/* Data waiting when RDI gets disabled stays, without interrupt, and
	 * interrupts at once when RDI is enabled again. */
	serial_receive(s, (const uint8_t *)"c", 1);
	out(s, IER, 0);
	CHECK_EQ(irq.level, 0);
	out(s, IER, IER_RDI);
	CHECK_EQ(irq.level, 1);
	serial_destroy(s);
}

/* Host input waits until the guest enables the receive interrupt (Linux
 * does when it opens the port, after clearing the FIFOs), and the feeder
 * is told when that happens. */
TEST(test_input_waits_for_listener)
{
	struct serial *s = setup(-1);

	room_calls = 0;
	s->rx_room = count_room;
	out(s, FCR, FCR_ENABLE);
	CHECK_EQ(serial_rx_room(s), 0);
	CHECK_EQ(serial_receive(s, (const uint8_t *)"x", 1), 0);
	out(s, IER, 0x0f);			/* Linux's IER probe */
	CHECK_EQ(serial_rx_room(s), 0);
	out(s, IER, 0);
	out(s, FCR, FCR_ENABLE | FCR_CLEAR_RCVR);	/* port open: clear */
	out(s, MCR, MCR_OUT2 | MCR_DTR | MCR_RTS);
	CHECK_EQ(room_calls, 0);
	out(s, IER, IER_RDI | IER_RLSI);
	CHECK_EQ(room_calls, 1);
	CHECK_EQ(serial_receive(s, (const uint8_t *)"x", 1), 1);
	CHECK_EQ(in(s, RX), 'x');
	serial_destroy(s);
}

TEST(test_iir_priorities)
{
	struct serial *s = setup(-1);

	/* Loopback in 16450 mode: two bytes overrun the one-byte RBR, the
	 * MCR change moved the modem lines, THR is empty. */
	out(s, MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS);
	out(s, TX, 'a');
	out(s, TX, 'b');
	out(s, IER, IER_RDI | IER_THRI | IER_RLSI | IER_MSI);
	CHECK_EQ(irq.level, 1);
	CHECK_EQ(in(s, IIR), 0x06);		/* line status */
	CHECK_EQ(in(s, IIR), 0x06);		/* until LSR is read */
	CHECK(in(s, LSR) & LSR_OE);
	CHECK_EQ(in(s, IIR), 0x04);		/* received data */
	CHECK_EQ(in(s, RX), 'a');
	CHECK_EQ(in(s, IIR), 0x02);		/* THR empty, acked by the read */
	CHECK_EQ(in(s, IIR), 0x00);		/* modem status */
	CHECK_EQ(irq.level, 1);
	in(s, MSR);
	CHECK_EQ(in(s, IIR), IIR_NO_INT);
	CHECK_EQ(irq.level, 0);
	/* Disabled sources never show. */
	out(s, IER, 0);
	out(s, TX, 'c');
	out(s, TX, 'd');
	out(s, MCR, MCR_LOOP | MCR_OUT2);
	CHECK_EQ(in(s, IIR), IIR_NO_INT);
	CHECK_EQ(irq.level, 0);
	serial_destroy(s);
}

TEST(test_wide_access_is_bytewise)
{
	struct serial *s = setup(-1);
	const uint8_t w[2] = { 0x03, 0x0b };	/* LCR, MCR */
	uint8_t r[2] = { 0, 0 };

	serial_bus_ops.write(s, LCR, w, 2);
	serial_bus_ops.read(s, LCR, r, 2);
	CHECK_EQ(r[0], 0x03);
	CHECK_EQ(r[1], 0x0b);
	serial_destroy(s);
}

/* The event thread feeds while a vCPU drains: nothing lost, reordered
 * or duplicated, and the room callback keeps the feeder going.  Both
 * sides give up after a deadline, so a lost wake-up fails, not hangs. */
struct feeder {
	struct serial *s;
	pthread_mutex_t m;
	pthread_cond_t c;
	int room, gave_up;
	double deadline;
};

static void feeder_room(void *ctx)
{
	struct feeder *f = ctx;

	pthread_mutex_lock(&f->m);
	f->room = 1;
	pthread_cond_signal(&f->c);
	pthread_mutex_unlock(&f->m);
}

#define STREAM_LEN 300000

static void *feed_thread(void *arg)
{
	struct feeder *f = arg;
	uint8_t buf[37];
	int sent = 0;

	while (sent < STREAM_LEN && !f->gave_up) {
		size_t n = sizeof(buf), took;

		if (n > (size_t)(STREAM_LEN - sent))
			n = (size_t)(STREAM_LEN - sent);
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)((sent + (int)i) * 7);
		pthread_mutex_lock(&f->m);
		f->room = 0;
		pthread_mutex_unlock(&f->m);
		took = serial_receive(f->s, buf, n);
		sent += (int)took;
		if (took)
			continue;
		pthread_mutex_lock(&f->m);
		while (!f->room && !f->gave_up) {
			struct timespec ts = { .tv_sec = time(NULL) + 1 };

			pthread_cond_timedwait(&f->c, &f->m, &ts);
			if (!f->room && now_s() > f->deadline)
				f->gave_up = 1;
		}
		pthread_mutex_unlock(&f->m);
	}
	return NULL;
}

TEST(test_threads_feed_and_drain)
{
	struct serial *s = setup(-1);
	struct feeder f = { .s = s, .m = PTHREAD_MUTEX_INITIALIZER,
			    .c = PTHREAD_COND_INITIALIZER,
			    .deadline = now_s() + 10 };
	pthread_t t;
	int got = 0, bad = 0;
	unsigned spins = 0;

	out(s, MCR, MCR_OUT2);
	out(s, IER, IER_RDI);	/* the guest listens */
	s->rx_room = feeder_room;
	s->rx_room_ctx = &f;
	CHECK_EQ(pthread_create(&t, NULL, feed_thread, &f), 0);
	while (got < STREAM_LEN && !f.gave_up) {
		if (!(in(s, LSR) & LSR_DR)) {
			if (++spins % 4096 == 0 && now_s() > f.deadline) {
				pthread_mutex_lock(&f.m);
				f.gave_up = 1;
				pthread_mutex_unlock(&f.m);
			}
			continue;
		}
		if (in(s, RX) != (uint8_t)(got * 7))
			bad++;
		got++;
	}
	pthread_join(t, NULL);
	CHECK_EQ(f.gave_up, 0);
	CHECK_EQ(got, STREAM_LEN);
	CHECK_EQ(bad, 0);
	CHECK_EQ(in(s, LSR) & LSR_DR, 0);
	serial_destroy(s);
}

static int find(const struct aml *a, const uint8_t *pat, size_t n)
{
	for (size_t i = 0; i + n <= a->len; i++)
		if (!memcmp(a->buf + i, pat, n))
			return 1;
	return 0;
}

TEST(test_aml_com1)
{
	static const uint8_t eisa_pnp0501[] = { 0x0c, 0x41, 0xd0, 0x05, 0x01 };
	static const uint8_t irq4[] = { 0x22, 0x10, 0x00 };
	struct aml a;
	int io = 0;

	aml_init(&a);
	serial_write_aml(&uart, &a);
	CHECK_EQ(a.error, 0);
	CHECK_EQ(a.depth, 0);
	CHECK(a.len > 2 && a.buf[0] == 0x5b && a.buf[1] == 0x82);
	CHECK(find(&a, (const uint8_t *)"COM1", 4));
	CHECK(find(&a, (const uint8_t *)"_HID", 4));
	CHECK(find(&a, (const uint8_t *)"_UID", 4));
	CHECK(find(&a, (const uint8_t *)"_CRS", 4));
	CHECK(find(&a, eisa_pnp0501, sizeof(eisa_pnp0501)));
	CHECK(find(&a, irq4, sizeof(irq4)));
	/* IO descriptor: tag, decode, min 0x3f8, max 0x3f8, align, len 8. */
	for (size_t i = 0; i + 8 <= a.len; i++) {
		const uint8_t *d = a.buf + i;

		if (d[0] == 0x47 && d[2] == 0xf8 && d[3] == 0x03 &&
		    d[4] == 0xf8 && d[5] == 0x03 && d[7] == 8)
			io = 1;
	}
	CHECK(io);
	aml_free(&a);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);	/* results survive a hang */
	alarm(60);	/* a hang (blocked write, lost wake-up) is a failure */
	RUN(test_linux_probe_says_16550a);
	RUN(test_ier_and_scratch_registers);
	RUN(test_loopback_msr);
	RUN(test_fifo_detection);
	RUN(test_fifo_size_probe_counts_16);
	RUN(test_loopback_overrun);
	RUN(test_dlab_divisor_round_trip);
	RUN(test_tx_reaches_fd);
	RUN(test_tx_blocked_fd_never_hangs);
	RUN(test_thre_latch_and_clear);
	RUN(test_irq_level_needs_out2);
	RUN(test_rx_fifo_fill_overflow_room);
	RUN(test_fifo_reset_and_loopback_gate_host_input);
	RUN(test_data_ready_interrupt);
	RUN(test_input_waits_for_listener);
	RUN(test_iir_priorities);
	RUN(test_wide_access_is_bytewise);
	RUN(test_threads_feed_and_drain);
	RUN(test_aml_com1);
	return CHECK_DONE();
}
