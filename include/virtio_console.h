/* virtio-console (virtio 1.2, 5.3): one port, no MULTIPORT, the guest's
 * hvc0.  It mirrors the UART's interface (serial.h) so the host's stdin
 * feeder can target either: output goes to an fd, input comes from
 * virtio_console_receive() on the event thread, and rx_room says when a
 * short receive may be retried.
 *
 * Queues: receiveq (0) holds the guest's empty input buffers, transmitq
 * (1) its output.  VIRTIO_CONSOLE_F_SIZE is offered (80x25 until
 * virtio_console_set_size says otherwise); EMERG_WRITE and MULTIPORT are
 * not.
 *
 * Wiring:
 *	struct virtio_console *c = virtio_console_create(mem, &irq, 1);
 *	c->rx_room = wake_feeder; c->rx_room_ctx = feeder;
 *	register virtio_console_dev(c) on the MMIO bus with virtio_mmio_ops
 *	... virtio_console_receive(c, bytes, n) on the event thread ...
 *	virtio_console_destroy(c);	(event thread and vCPUs stopped) */
#ifndef MINIVMM_VIRTIO_CONSOLE_H
#define MINIVMM_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>
#include "virtio.h"

#define VIRTIO_ID_CONSOLE		3

/* Feature bits (5.3.3). */
#define VIRTIO_CONSOLE_F_SIZE		0
#define VIRTIO_CONSOLE_F_MULTIPORT	1
#define VIRTIO_CONSOLE_F_EMERG_WRITE	2

/* Config space (struct virtio_console_config, little-endian). */
#define VIRTIO_CONSOLE_CFG_COLS		0	/* le16 */
#define VIRTIO_CONSOLE_CFG_ROWS		2	/* le16 */
#define VIRTIO_CONSOLE_CFG_MAX_NR_PORTS	4	/* le32, MULTIPORT only */
#define VIRTIO_CONSOLE_CFG_EMERG_WR	8	/* le32, EMERG_WRITE only */
#define VIRTIO_CONSOLE_CFG_SIZE		12

#define VIRTIO_CONSOLE_RXQ		0	/* receiveq: host to guest */
#define VIRTIO_CONSOLE_TXQ		1	/* transmitq: guest to host */
#define VIRTIO_CONSOLE_QUEUE_SIZE	128

#define VIRTIO_CONSOLE_TX_TIMEOUT_MS	1000

struct virtio_console {
	struct virtio_dev dev;	/* dev.lock guards everything below */
	int out_fd;		/* -1 discards output; not closed by us */
	int tx_timeout_ms;	/* longest wait for a blocked out_fd */
	int tx_stalled;		/* out_fd timed out: drop until it drains */
	int tx_logged;		/* output trouble reported once */
	int rx_wanted;		/* a receive came back short */
	uint16_t cols, rows;
	/* Called with dev.lock held, on the event thread (the guest posted
	 * receive buffers) or a vCPU thread (DRIVER_OK), after a receive
	 * returned short: signal the feeder (an eventfd), do not call
	 * virtio_console_receive from here.  Set it before the guest runs
	 * or under dev.lock. */
	void (*rx_room)(void *ctx);
	void *rx_room_ctx;
	struct virtq_chain chain;	/* scratch for the chain in hand */
	uint8_t tx_buf[4096];		/* PIPE_BUF: one write never blocks a pipe */
};

/* NULL when out of memory.  out_fd stays the caller's. */
struct virtio_console *virtio_console_create(const struct guest_mem *mem,
					     const struct irq_line *irq,
					     int out_fd);

struct virtio_dev *virtio_console_dev(struct virtio_console *c);

/* Host input for the guest: copies into the receive buffers the guest has
 * posted, returns them and interrupts (at most once per call).  Returns
 * how many bytes were taken: short, even 0, when the guest has posted too
 * few buffers or the device is not running; rx_room then fires when it
 * posts more.  Event thread; takes dev.lock. */
size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf,
			      size_t len);

/* The host terminal was resized: new config and a config interrupt.
 * Takes dev.lock. */
void virtio_console_set_size(struct virtio_console *c, uint16_t cols,
			     uint16_t rows);

/* NULL is ignored. */
void virtio_console_destroy(struct virtio_console *c);

#endif
