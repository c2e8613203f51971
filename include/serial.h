/* A 16550A-compatible UART (COM1 at 0x3f8, IRQ 4).  Transmitted bytes go to
 * an output fd; received bytes come from serial_receive(), called by the
 * event thread with what it read from stdin.  Interrupt-driven: the IRQ
 * line follows IER/IIR (THR empty, received data), level-triggered. */
#ifndef MINIVMM_SERIAL_H
#define MINIVMM_SERIAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "bus.h"
#include "irq.h"

#define SERIAL_FIFO_SIZE 64

struct serial {
	pthread_mutex_t lock;	/* vCPU threads and the event thread */
	struct irq_line irq;
	int out_fd;		/* -1 discards output */
	int tx_timeout_ms;	/* longest wait for a blocked out_fd */
	int tx_stalled;		/* out_fd timed out: drop until it drains */
	int tx_logged;		/* output trouble reported once */
	uint8_t ier, iir_pending, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	int thr_ipending;	/* THR-empty interrupt latched */
	uint8_t rx[SERIAL_FIFO_SIZE];
	unsigned rx_head, rx_count;
	int irq_level;
	/* Called (with the lock held) when room for host input reappears
	 * (the guest read a full FIFO, reset it, or left loopback), so the
	 * event thread can feed bytes it had to hold back. */
	void (*rx_room)(void *ctx);
	void *rx_room_ctx;
};

extern const struct bus_ops serial_bus_ops;	/* 8 ports */

void serial_init(struct serial *s, int out_fd, const struct irq_line *irq);

/* Queues received bytes; returns how many were taken (the FIFO may be
 * full: the caller keeps the rest and retries when serial_rx_room() > 0). */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);
unsigned serial_rx_room(struct serial *s);

void serial_destroy(struct serial *s);

/* DSDT entry: Device(COM1) { _HID PNP0501, _UID 1, _CRS IO 0x3f8/8, IRQ 4 } */
struct aml;
void serial_write_aml(void *serial, struct aml *a);

#endif
