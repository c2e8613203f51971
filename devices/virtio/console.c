/* virtio-console, single port; see virtio_console.h.
 *
 * Receive buffers are popped only when host input arrives, so the guest's
 * posted buffers wait in the avail ring, not here: nothing to drop on
 * reset.  A receive that finds the ring empty leaves rx_wanted set (and,
 * with EVENT_IDX, virtq_pop has asked for a kick at the next add); the
 * receiveq kick that follows fires rx_room.
 *
 * Input waits until the driver has finished its probe.  Linux's driver
 * (no MULTIPORT) sets DRIVER_OK, then fills and kicks the receiveq, and
 * only after hvc_alloc() puts the port on the list its interrupt handler
 * searches: a buffer used before then is freed unread (in_intr finds no
 * port and calls flush_bufs), which is where stdin that was ready at boot
 * (a file, a pipe) went.  No register access marks the end of the probe,
 * so at DRIVER_OK we send a config change; the virtio core holds it until
 * the probe has returned (virtio_config_enable), and the driver's handler
 * then reads cols and rows.  That config read opens the receive side and
 * wakes the feeder.  A reset closes it again.
 *
 * Output mirrors the UART: out_fd may be a blocking stdout shared with
 * the shell, so poll() bounds every wait and a reader that stops costs
 * bytes, never a hung event thread.
 *
 * Guest mistakes that make a chain meaningless (writable buffers on
 * transmitq, readable ones on receiveq, memory the walker or the copy
 * refuses) set DEVICE_NEEDS_RESET; the transport then ignores kicks and
 * receive takes nothing until the driver resets us. */
#include "virtio_console.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The device's private state around the public struct (first member, so
 * d->priv and the struct virtio_console pointer are the same address). */
enum rx_gate {
	RX_CLOSED,	/* before DRIVER_OK, or reset */
	RX_ASKED,	/* config change sent at DRIVER_OK, not read yet */
	RX_OPEN,	/* the driver read the config: its probe is over */
};

struct console_priv {
	struct virtio_console c;
	enum rx_gate rx_gate;	/* under c.dev.lock */
};

static struct console_priv *priv_of(struct virtio_console *c)
{
	return (struct console_priv *)c;
}

static int running(const struct virtio_dev *d, unsigned q)
{
	return d->vq[q].ready && (d->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(d->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

/* The feeder may go on; only after a short receive, so an idle console
 * does not wake it on every kick, and only once input is let in. */
static void wake_feeder(struct virtio_console *c)
{
	if (!c->rx_wanted || priv_of(c)->rx_gate != RX_OPEN)
		return;
	c->rx_wanted = 0;
	if (c->rx_room)
		c->rx_room(c->rx_room_ctx);
}

/* ---- transmit -------------------------------------------------------- */

static void log_tx_once(struct virtio_console *c, const char *why)
{
	if (!c->tx_logged) {
		c->tx_logged = 1;
		fprintf(stderr, "minivmm: virtio-console output: %s; dropping "
			"bytes\n", why);
	}
}

/* Writes all of buf or gives up (returns -1): the rest of the chain is
 * then dropped.  len <= PIPE_BUF, so once poll says a pipe is writable
 * the write does not block. */
static int tx_out(struct virtio_console *c, const uint8_t *buf, size_t len)
{
	unsigned idle = 0;

	while (len) {
		struct pollfd p = { .fd = c->out_fd, .events = POLLOUT };
		int r = poll(&p, 1, c->tx_stalled ? 0 : c->tx_timeout_ms);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			c->tx_stalled = 1;
			log_tx_once(c, "output blocked");
			return -1;
		}
		n = write(c->out_fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			c->tx_stalled = 0;
			idle = 0;
			continue;
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN ||
			      errno == EWOULDBLOCK) && ++idle < 16)
			continue;
		/* EPIPE lands here too (SIGPIPE is ignored by main). */
		log_tx_once(c, n < 0 ? strerror(errno) : "write made no progress");
		return -1;
	}
	return 0;
}

/* Copies the chain's readable bytes out piece by piece; -1 when guest
 * memory refuses a buffer. */
static int tx_chain(struct virtio_console *c, const struct virtq_chain *ch)
{
	const struct virtq *q = &c->dev.vq[VIRTIO_CONSOLE_TXQ];
	int dropping = c->out_fd < 0;

	for (uint64_t off = 0; off < ch->out_len;) {
		long n = virtq_chain_read(q, ch, off, c->tx_buf,
					  sizeof(c->tx_buf));

		if (n <= 0)
			return -1;	/* 0: out_len promised more */
		/* Keep reading after a failed write: the chain is still
		 * checked, so a bad one is caught whatever out_fd does. */
		if (!dropping && tx_out(c, c->tx_buf, (size_t)n) < 0)
			dropping = 1;
		off += (uint64_t)n;
	}
	return 0;
}

static void transmit(struct virtio_dev *d)
{
	struct virtio_console *c = d->priv;
	struct virtq *q = &d->vq[VIRTIO_CONSOLE_TXQ];
	int pushed = 0;

	while (running(d, VIRTIO_CONSOLE_TXQ)) {
		int r = virtq_pop(q, &c->chain);

		if (r == VIRTQ_EMPTY)
			break;
		if (r < 0) {
			virtio_set_needs_reset(d, "bad descriptor chain on transmitq");
			break;
		}
		if (c->chain.nr_in) {
			virtio_set_needs_reset(d, "writable buffer on transmitq");
			break;
		}
		if (tx_chain(c, &c->chain) < 0) {
			virtio_set_needs_reset(d, "transmit buffer outside guest memory");
			break;
		}
		if (virtq_push(q, c->chain.head, 0) != VIRTQ_OK) {
			virtio_set_needs_reset(d, "used ring unwritable");
			break;
		}
		pushed = 1;
	}
	if (pushed)
		virtio_notify_used(d, VIRTIO_CONSOLE_TXQ);
}

/* ---- receive --------------------------------------------------------- */

size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf,
			      size_t len)
{
	struct virtio_dev *d = &c->dev;
	struct virtq *q = &d->vq[VIRTIO_CONSOLE_RXQ];
	size_t taken = 0;
	int pushed = 0;

	pthread_mutex_lock(&d->lock);
	while (taken < len && priv_of(c)->rx_gate == RX_OPEN &&
	       running(d, VIRTIO_CONSOLE_RXQ)) {
		int r = virtq_pop(q, &c->chain);
		size_t n = len - taken;
		long w;

		if (r == VIRTQ_EMPTY)
			break;
		if (r < 0) {
			virtio_set_needs_reset(d, "bad descriptor chain on receiveq");
			break;
		}
		if (c->chain.nr_out) {
			virtio_set_needs_reset(d, "readable buffer on receiveq");
			break;
		}
		if (n > c->chain.in_len)
			n = (size_t)c->chain.in_len;
		if (n > UINT32_MAX)	/* the used length is 32 bits */
			n = UINT32_MAX;
		/* A chain of empty buffers carries nothing but must go back. */
		w = virtq_chain_write(q, &c->chain, 0, buf + taken, n);
		if (w < 0 || (size_t)w != n) {
			virtio_set_needs_reset(d, "receive buffer outside guest memory");
			break;
		}
		if (virtq_push(q, c->chain.head, (uint32_t)n) != VIRTQ_OK) {
			virtio_set_needs_reset(d, "used ring unwritable");
			break;
		}
		pushed = 1;
		taken += n;
	}
	if (pushed)
		virtio_notify_used(d, VIRTIO_CONSOLE_RXQ);
	if (taken < len)
		c->rx_wanted = 1;
	pthread_mutex_unlock(&d->lock);
	return taken;
}

/* ---- the ops table --------------------------------------------------- */

static uint64_t console_features(struct virtio_dev *d)
{
	(void)d;
	return 1ULL << VIRTIO_CONSOLE_F_SIZE;
}

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static void console_config_read(struct virtio_dev *d, uint32_t off,
				void *data, unsigned len)
{
	struct virtio_console *c = d->priv;
	uint8_t cfg[VIRTIO_CONSOLE_CFG_SIZE] = { 0 };

	put16(cfg + VIRTIO_CONSOLE_CFG_COLS, c->cols);
	put16(cfg + VIRTIO_CONSOLE_CFG_ROWS, c->rows);
	/* The transport checked off + len <= config_size. */
	memcpy(data, cfg + off, len);
	/* The answer to activation's config change: the probe is over. */
	if (priv_of(c)->rx_gate == RX_ASKED &&
	    (d->status & VIRTIO_STATUS_DRIVER_OK)) {
		priv_of(c)->rx_gate = RX_OPEN;
		wake_feeder(c);
	}
}

/* Only emerg_wr is writable, and only with EMERG_WRITE, not offered. */
static void console_config_write(struct virtio_dev *d, uint32_t off,
				 const void *data, unsigned len)
{
	(void)d, (void)off, (void)data, (void)len;
}

/* Input waits for the driver to answer this config change (see the top
 * of the file); the feeder is woken then, for buffers posted meanwhile. */
static int console_activate(struct virtio_dev *d)
{
	priv_of(d->priv)->rx_gate = RX_ASKED;
	virtio_config_changed(d);
	return 0;
}

static void console_queue_notify(struct virtio_dev *d, unsigned q)
{
	if (q == VIRTIO_CONSOLE_RXQ)
		wake_feeder(d->priv);
	else if (q == VIRTIO_CONSOLE_TXQ)
		transmit(d);
}

/* No chain is ever held across calls, so a reset has nothing to drop;
 * rx_wanted survives, so the feeder is woken once the driver is back
 * (and has finished probing again). */
static void console_reset(struct virtio_dev *d)
{
	priv_of(d->priv)->rx_gate = RX_CLOSED;
}

static const struct virtio_dev_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.nr_queues = 2,
	.queue_max = VIRTIO_CONSOLE_QUEUE_SIZE,
	.features = console_features,
	.config_size = VIRTIO_CONSOLE_CFG_SIZE,
	.config_read = console_config_read,
	.config_write = console_config_write,
	.activate = console_activate,
	.queue_notify = console_queue_notify,
	.reset = console_reset,
};

struct virtio_console *virtio_console_create(const struct guest_mem *mem,
					     const struct irq_line *irq,
					     int out_fd)
{
	struct console_priv *p = calloc(1, sizeof(*p));
	struct virtio_console *c;

	if (!p)
		return NULL;
	c = &p->c;
	virtio_dev_init(&c->dev, &console_ops, c, mem, irq);
	c->out_fd = out_fd;
	c->tx_timeout_ms = VIRTIO_CONSOLE_TX_TIMEOUT_MS;
	c->cols = 80;
	c->rows = 25;
	return c;
}

struct virtio_dev *virtio_console_dev(struct virtio_console *c)
{
	return &c->dev;
}

void virtio_console_set_size(struct virtio_console *c, uint16_t cols,
			     uint16_t rows)
{
	pthread_mutex_lock(&c->dev.lock);
	if (c->cols != cols || c->rows != rows) {
		c->cols = cols;
		c->rows = rows;
		virtio_config_changed(&c->dev);
	}
	pthread_mutex_unlock(&c->dev.lock);
}

void virtio_console_destroy(struct virtio_console *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->dev.lock);
	free(priv_of(c));
}
