/* virtio-input (virtio 1.2, 5.8): a keyboard or an absolute pointer
 * ("tablet") the guest's virtio_input driver turns into evdev devices.
 *
 * Queues: eventq (0) holds the guest's empty 8-byte buffers, filled with
 * one struct virtio_input_event each; statusq (1) brings LED and similar
 * state back from the guest, which we take and ignore.
 *
 * Host input arrives through virtio_input_sink() from any thread (SDL's,
 * the event thread's control socket).  Events are held until the
 * SYN_REPORT that closes their group, so the guest never sees half a key
 * press; when the guest has posted too few buffers they wait in a bounded
 * host-side queue (VIRTIO_INPUT_QUEUE_EVENTS) and the oldest whole groups
 * are dropped when it overflows.  A reset drops what was queued: a new
 * driver should not replay keys typed before it existed.
 *
 * Wiring:
 *	struct virtio_input *kbd = virtio_input_create(mem, &irq,
 *						       VIRTIO_INPUT_KEYBOARD);
 *	register virtio_input_dev(kbd) on the MMIO bus with virtio_mmio_ops
 *	display->keyboard = virtio_input_sink(kbd);
 *	virtio_input_destroy(kbd);	(input sources, event thread and
 *					 vCPUs stopped) */
#ifndef MINIVMM_VIRTIO_INPUT_H
#define MINIVMM_VIRTIO_INPUT_H

/* Event types and codes: the kernel's own (EV_*, KEY_*, BTN_*, ...). */
#include <linux/input-event-codes.h>
#include "input_event.h"
#include "virtio.h"

#define VIRTIO_ID_INPUT			18

#define VIRTIO_INPUT_EVENTQ		0
#define VIRTIO_INPUT_STATUSQ		1
#define VIRTIO_INPUT_QUEUE_SIZE		64	/* Linux posts one 8-byte
						 * buffer per entry */
#define VIRTIO_INPUT_QUEUE_EVENTS	256	/* host-side backlog bound */

/* Config space: struct virtio_input_config (5.8.4). */
#define VIRTIO_INPUT_CFG_SELECT		0	/* u8, driver-written */
#define VIRTIO_INPUT_CFG_SUBSEL		1	/* u8, driver-written */
#define VIRTIO_INPUT_CFG_SIZE_OFF	2	/* u8: valid bytes of u */
#define VIRTIO_INPUT_CFG_UNION		8	/* 128 bytes */
#define VIRTIO_INPUT_CFG_UNION_SIZE	128
#define VIRTIO_INPUT_CFG_SIZE		136

/* Values of select. */
#define VIRTIO_INPUT_CFG_UNSET		0x00
#define VIRTIO_INPUT_CFG_ID_NAME	0x01
#define VIRTIO_INPUT_CFG_ID_SERIAL	0x02
#define VIRTIO_INPUT_CFG_ID_DEVIDS	0x03
#define VIRTIO_INPUT_CFG_PROP_BITS	0x10
#define VIRTIO_INPUT_CFG_EV_BITS	0x11
#define VIRTIO_INPUT_CFG_ABS_INFO	0x12

/* What ID_DEVIDS reports: our own vendor number, one product each. */
#ifndef BUS_VIRTUAL
#define BUS_VIRTUAL		0x06	/* as linux/input.h */
#endif
#define VIRTIO_INPUT_VENDOR		0x4d4d	/* "MM" */
#define VIRTIO_INPUT_PRODUCT_KEYBOARD	0x0001
#define VIRTIO_INPUT_PRODUCT_TABLET	0x0002
#define VIRTIO_INPUT_VERSION		0x0001

/* The keyboard offers every key code KEY_ESC (1) .. KEY_MICMUTE (248). */
#define VIRTIO_INPUT_KEY_FIRST		1
#define VIRTIO_INPUT_KEY_LAST		248

enum virtio_input_kind {
	VIRTIO_INPUT_KEYBOARD,
	VIRTIO_INPUT_TABLET,	/* absolute X/Y, three buttons, a wheel */
};

struct virtio_input;

/* NULL when out of memory or kind is unknown. */
struct virtio_input *virtio_input_create(const struct guest_mem *mem,
					 const struct irq_line *irq,
					 enum virtio_input_kind kind);

struct virtio_dev *virtio_input_dev(struct virtio_input *in);

/* The sink host input goes into; its event() is thread-safe (takes the
 * device lock, may write guest memory and interrupt from the caller's
 * thread).  Valid until virtio_input_destroy. */
struct input_sink virtio_input_sink(struct virtio_input *in);

/* Events queued host-side that the guest has not taken yet, the group
 * being built included: 0 means everything sent so far is in the guest's
 * buffers.  Lets a sender pace itself (the control socket's typing).
 * Takes the device lock. */
unsigned virtio_input_pending(struct virtio_input *in);

/* Whole groups dropped so far because the backlog overflowed (tests,
 * diagnostics).  Takes the device lock. */
unsigned long virtio_input_dropped(struct virtio_input *in);

/* NULL is ignored. */
void virtio_input_destroy(struct virtio_input *in);

#endif
