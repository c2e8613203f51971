/* A 16550A UART as Linux's 8250 driver probes and drives it.  The line is
 * infinitely fast: a byte written to THR leaves at once, so THR and the
 * transmitter are always empty and only the receive side has a FIFO. */
#include "serial.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aml.h"
#include "layout.h"

/* Register offsets; DLAB in LCR turns 0 and 1 into the divisor latch. */
enum { REG_DATA, REG_IER, REG_IIR_FCR, REG_LCR, REG_MCR, REG_LSR, REG_MSR,
       REG_SCR, NR_REGS };

#define IER_ERBFI	0x01	/* received data available */
#define IER_ETBEI	0x02	/* THR empty */
#define IER_ELSI	0x04	/* receiver line status */
#define IER_EDSSI	0x08	/* modem status */
#define IER_MASK	0x0f	/* upper bits read 0 on a 16550A */

#define IIR_NONE	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_FIFO_ON	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_KEEP	0xc9	/* enable, DMA mode, RX trigger level */

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08	/* gates the IRQ line on a PC */
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_ERRORS	0x1e	/* OE, PE, FE, BI: cleared by reading LSR */
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_DELTAS	0x0f
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

/* A real 16550A's FIFO depth.  Loopback honours it so that Linux's FIFO
 * size probe (size_fifo(), with CONFIG_SERIAL_8250_16550A_VARIANTS) counts
 * 16 and still calls the chip a 16550A, not a 64-byte U6_16550A; host
 * input may use all of SERIAL_FIFO_SIZE, where nothing can tell. */
#define HW_FIFO_DEPTH	16

#define TX_TIMEOUT_MS	1000

static int loopback(const struct serial *s)
{
	return s->mcr & MCR_LOOP;
}

static int fifo_on(const struct serial *s)
{
	return s->fcr & FCR_ENABLE;
}

/* Room for host input; none in loopback, where the receiver is wired to
 * the transmitter instead of the line, and none until the port is open:
 * OUT2 (the PC's interrupt gate) and the receive interrupt both on.  Linux
 * clears the FIFOs when it opens the port, and its probe flips IER alone
 * for a moment, so input offered earlier (a pipe on stdin) would be lost. */
static unsigned host_room(const struct serial *s)
{
	if (loopback(s) || !(s->ier & IER_ERBFI) || !(s->mcr & MCR_OUT2))
		return 0;
	return SERIAL_FIFO_SIZE - s->rx_count;
}

/* Tells the input feeder when room for host input reappears. */
static void notify_room(struct serial *s, unsigned room_before)
{
	if (room_before == 0 && host_room(s) > 0 && s->rx_room)
		s->rx_room(s->rx_room_ctx);
}

static void rx_push(struct serial *s, uint8_t c)
{
	s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = c;
	s->rx_count++;
	s->lsr |= LSR_DR;
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t c = s->rx[s->rx_head];

	s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
	if (--s->rx_count == 0)
		s->lsr &= ~LSR_DR;
	return c;
}

static void rx_clear(struct serial *s)
{
	s->rx_head = s->rx_count = 0;
	s->lsr &= ~LSR_DR;
}

/* The highest-priority enabled interrupt, as IIR bits 0-3. */
static uint8_t pending_id(const struct serial *s)
{
	if ((s->ier & IER_ELSI) && (s->lsr & LSR_ERRORS))
		return IIR_RLSI;
	if ((s->ier & IER_ERBFI) && s->rx_count)
		return IIR_RDI;
	if ((s->ier & IER_ETBEI) && s->thr_ipending)
		return IIR_THRI;
	if ((s->ier & IER_EDSSI) && (s->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NONE;
}

/* Runs after every register access; the PC wires the IRQ through OUT2. */
static void update_irq(struct serial *s)
{
	int level;

	s->iir_pending = pending_id(s);
	level = s->iir_pending != IIR_NONE && (s->mcr & MCR_OUT2);
	if (level != s->irq_level) {
		s->irq_level = level;
		irq_set(&s->irq, level);
	}
}

/* Modem inputs: looped back from MCR, or a line that is always ready. */
static void update_modem_inputs(struct serial *s)
{
	uint8_t old = s->msr, now, changed, deltas = 0;

	if (loopback(s))
		now = (s->mcr & MCR_DTR ? MSR_DSR : 0) |
		      (s->mcr & MCR_RTS ? MSR_CTS : 0) |
		      (s->mcr & MCR_OUT1 ? MSR_RI : 0) |
		      (s->mcr & MCR_OUT2 ? MSR_DCD : 0);
	else
		now = MSR_CTS | MSR_DSR | MSR_DCD;
	changed = old ^ now;
	if (changed & MSR_CTS)
		deltas |= MSR_DCTS;
	if (changed & MSR_DSR)
		deltas |= MSR_DDSR;
	if (changed & MSR_DCD)
		deltas |= MSR_DDCD;
	if ((old & MSR_RI) && !(now & MSR_RI))
		deltas |= MSR_TERI;	/* trailing edge only */
	s->msr = now | (old & MSR_DELTAS) | deltas;
}

static void log_tx_once(struct serial *s, const char *why)
{
	if (!s->tx_logged) {
		s->tx_logged = 1;
		fprintf(stderr, "minivmm: serial output: %s; dropping bytes\n",
			why);
	}
}

/* out_fd is usually a blocking stdout we must not make non-blocking (the
 * file description is shared with the shell), so poll bounds the wait: a
 * reader that stops for TX_TIMEOUT_MS costs bytes, not a hung vCPU.  Once
 * stalled, bytes are dropped without waiting until the fd drains. */
static void tx_out(struct serial *s, const uint8_t *buf, size_t len)
{
	unsigned idle = 0;

	while (len && s->out_fd >= 0) {
		struct pollfd p = { .fd = s->out_fd, .events = POLLOUT };
		int r = poll(&p, 1, s->tx_stalled ? 0 : s->tx_timeout_ms);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			s->tx_stalled = 1;
			log_tx_once(s, "output blocked");
			return;
		}
		n = write(s->out_fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			s->tx_stalled = 0;
			idle = 0;
			continue;
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN ||
			      errno == EWOULDBLOCK) && ++idle < 16)
			continue;
		log_tx_once(s, n < 0 ? strerror(errno) : "write made no progress");
		return;
	}
}

static void thr_write(struct serial *s, uint8_t c)
{
	s->thr_ipending = 0;
	if (loopback(s)) {
		/* The receiver holds what a 16550A would (1 byte in 16450
		 * mode); more is an overrun. */
		if (s->rx_count < (fifo_on(s) ? HW_FIFO_DEPTH : 1u))
			rx_push(s, c);
		else
			s->lsr |= LSR_OE;
	} else {
		tx_out(s, &c, 1);
	}
	/* The byte left at once: THR is empty again. */
	if (s->ier & IER_ETBEI)
		s->thr_ipending = 1;
}

static void ier_write(struct serial *s, uint8_t v)
{
	uint8_t changed = (s->ier ^ v) & IER_MASK;
	unsigned room = host_room(s);

	s->ier = v & IER_MASK;
	notify_room(s, room);	/* the guest now listens for input */
	/* Enabling ETBEI with THR empty (always) raises THRE, even if an IIR
	 * read had consumed it; Linux's startup THRE test relies on that. */
	if (changed & IER_ETBEI)
		s->thr_ipending = !!(s->ier & IER_ETBEI);
}

static void fcr_write(struct serial *s, uint8_t v)
{
	unsigned room = host_room(s);

	/* Only the explicit clear bit empties the receive FIFO.  (A real
	 * 16550 also drops it when the enable bit toggles, but Linux opens
	 * the port by enabling the RX interrupt and only then re-enabling
	 * the FIFO, so host input offered in between would be lost.)  The
	 * other bits count only when enable is written as 1. */
	if (v & FCR_ENABLE) {
		if (v & FCR_CLEAR_RX)
			rx_clear(s);
		s->fcr = v & FCR_KEEP;
	} else {
		s->fcr = 0;
	}
	notify_room(s, room);
}

static void mcr_write(struct serial *s, uint8_t v)
{
	unsigned room = host_room(s);

	s->mcr = v & MCR_MASK;
	update_modem_inputs(s);
	notify_room(s, room);	/* leaving loopback reopens the line */
}

static void reg_write(struct serial *s, unsigned reg, uint8_t v)
{
	int dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case REG_DATA:
		if (dlab)
			s->dll = v;
		else
			thr_write(s, v);
		break;
	case REG_IER:
		if (dlab)
			s->dlm = v;
		else
			ier_write(s, v);
		break;
	case REG_IIR_FCR:
		fcr_write(s, v);
		break;
	case REG_LCR:
		s->lcr = v;
		break;
	case REG_MCR:
		mcr_write(s, v);
		break;
	case REG_SCR:
		s->scr = v;
		break;
	default:		/* LSR and MSR: factory test only */
		break;
	}
}

static uint8_t reg_read(struct serial *s, unsigned reg)
{
	int dlab = s->lcr & LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case REG_DATA:
		if (dlab)
			return s->dll;
		if (!s->rx_count)
			return 0;
		{
			unsigned room = host_room(s);

			v = rx_pop(s);
			notify_room(s, room);
		}
		return v;
	case REG_IER:
		return dlab ? s->dlm : s->ier;
	case REG_IIR_FCR:
		v = pending_id(s);
		if (v == IIR_THRI)
			s->thr_ipending = 0;	/* reading the source acks it */
		return v | (fifo_on(s) ? IIR_FIFO_ON : 0);
	case REG_LCR:
		return s->lcr;
	case REG_MCR:
		return s->mcr;
	case REG_LSR:
		v = s->lsr;
		s->lsr &= ~LSR_ERRORS;
		return v;
	case REG_MSR:
		v = s->msr;
		s->msr &= ~MSR_DELTAS;
		return v;
	default:
		return s->scr;
	}
}

/* Wider accesses touch consecutive registers, a byte each, as on ISA. */
static void serial_read(void *dev, uint64_t offset, uint8_t *data,
			unsigned len)
{
	struct serial *s = dev;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < len; i++)
		data[i] = offset + i < NR_REGS ?
			  reg_read(s, (unsigned)(offset + i)) : 0xff;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_write(void *dev, uint64_t offset, const uint8_t *data,
			 unsigned len)
{
	struct serial *s = dev;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < len; i++)
		if (offset + i < NR_REGS)
			reg_write(s, (unsigned)(offset + i), data[i]);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

const struct bus_ops serial_bus_ops = {
	.read = serial_read,
	.write = serial_write,
};

void serial_init(struct serial *s, int out_fd, const struct irq_line *irq)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	if (irq)
		s->irq = *irq;
	s->out_fd = out_fd;
	s->tx_timeout_ms = TX_TIMEOUT_MS;
	s->iir_pending = IIR_NONE;
	s->lsr = LSR_THRE | LSR_TEMT;
	s->msr = MSR_CTS | MSR_DSR | MSR_DCD;
	s->dll = 1;	/* 115200 baud, as firmware leaves a console */
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = host_room(s);
	if (n > len)
		n = len;
	for (size_t i = 0; i < n; i++)
		rx_push(s, buf[i]);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

unsigned serial_rx_room(struct serial *s)
{
	unsigned room;

	pthread_mutex_lock(&s->lock);
	room = host_room(s);
	pthread_mutex_unlock(&s->lock);
	return room;
}

void serial_destroy(struct serial *s)
{
	pthread_mutex_destroy(&s->lock);
}

void serial_write_aml(void *serial, struct aml *a)
{
	(void)serial;
	aml_device(a, "COM1");
	aml_name_eisaid(a, "_HID", "PNP0501");
	aml_name_integer(a, "_UID", 1);
	aml_crs_begin(a);
	aml_crs_io(a, COM1_PORT, 8);
	aml_crs_irq(a, COM1_IRQ);
	aml_crs_end(a);
	aml_end(a);
}
