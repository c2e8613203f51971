/* virtio-input keyboard and tablet; see virtio_input.h.
 *
 * The backlog is one array of events under dev.lock: q[0..closed) are
 * whole groups, each ending in SYN_REPORT and ready for the guest;
 * q[closed..n) is the group still being built.  Delivery copies from the
 * front into the eventq buffers the guest posted, one event per buffer.
 * When the guest posts too few, a group may be cut between two batches
 * (head_started): Linux's input core holds events until their SYN_REPORT
 * anyway, but that group is then never dropped, so the guest does not see
 * half of one group glued to another.
 *
 * Guest mistakes (a chain the walker refuses, device-readable buffers on
 * eventq or writable ones on statusq, an event buffer under 8 bytes,
 * memory the copy refuses) set DEVICE_NEEDS_RESET; events keep queueing,
 * bounded, until the driver resets us. */
#include "virtio_input.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

struct input_ev {
	uint16_t type, code;
	int32_t value;
};

#define QCAP VIRTIO_INPUT_QUEUE_EVENTS

struct virtio_input {
	struct virtio_dev dev;		/* dev.lock guards everything below */
	enum virtio_input_kind kind;
	uint8_t select, subsel;		/* the driver's config selectors */
	struct input_ev q[QCAP];
	unsigned n;			/* events queued */
	unsigned closed;		/* q[0..closed): whole groups */
	int head_started;		/* q[0]'s group is partly delivered */
	int discarding;			/* open group overflowed: drop it
					 * through its SYN_REPORT */
	unsigned long dropped;		/* whole groups lost */
	struct virtq_chain chain;	/* scratch for the chain in hand */
};

static int is_syn(const struct input_ev *e)
{
	return e->type == EV_SYN && e->code == SYN_REPORT;
}

static int running(const struct virtio_dev *d, unsigned q)
{
	return d->vq[q].ready && (d->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(d->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

/* ---- the backlog ----------------------------------------------------- */

static void remove_events(struct virtio_input *in, unsigned at, unsigned len)
{
	memmove(&in->q[at], &in->q[at + len],
		(in->n - at - len) * sizeof(in->q[0]));
	in->n -= len;
	if (at < in->closed)
		in->closed -= len;
}

/* Drops the oldest whole group the guest has seen none of; 0 when there
 * is none (only a partly delivered one, or only the open group). */
static int drop_oldest_group(struct virtio_input *in)
{
	unsigned start = 0, end;

	if (in->head_started) {
		while (start < in->closed && !is_syn(&in->q[start]))
			start++;
		start++;		/* past the head group's SYN_REPORT */
	}
	if (start >= in->closed)
		return 0;
	for (end = start; !is_syn(&in->q[end]); end++)
		;			/* closed groups end in SYN_REPORT */
	remove_events(in, start, end + 1 - start);
	in->dropped++;
	return 1;
}

/* Writes one event into the chain; -1 when the guest got it wrong. */
static int put_event(struct virtio_dev *d, const struct virtq_chain *c,
		     const struct input_ev *e)
{
	uint8_t b[8];
	uint16_t t = htole16(e->type), k = htole16(e->code);
	uint32_t v = htole32((uint32_t)e->value);

	if (c->nr_out) {
		virtio_set_needs_reset(d, "readable buffer on eventq");
		return -1;
	}
	/* 5.8.6.1: at least the size of struct virtio_input_event. */
	if (c->in_len < sizeof(b)) {
		virtio_set_needs_reset(d, "event buffer shorter than an event");
		return -1;
	}
	memcpy(b, &t, 2);
	memcpy(b + 2, &k, 2);
	memcpy(b + 4, &v, 4);
	if (virtq_chain_write(&d->vq[VIRTIO_INPUT_EVENTQ], c, 0, b,
			      sizeof(b)) != (long)sizeof(b)) {
		virtio_set_needs_reset(d, "event buffer outside guest memory");
		return -1;
	}
	return 0;
}

/* Moves whole groups into the guest's posted buffers.  dev.lock held. */
static void deliver(struct virtio_input *in)
{
	struct virtio_dev *d = &in->dev;
	struct virtq *q = &d->vq[VIRTIO_INPUT_EVENTQ];
	unsigned sent = 0;
	int pushed = 0;

	while (sent < in->closed && running(d, VIRTIO_INPUT_EVENTQ)) {
		int r = virtq_pop(q, &in->chain);

		if (r == VIRTQ_EMPTY)
			break;
		if (r < 0) {
			virtio_set_needs_reset(d, "bad descriptor chain on eventq");
			break;
		}
		if (put_event(d, &in->chain, &in->q[sent]) < 0)
			break;
		if (virtq_push(q, in->chain.head, 8) != VIRTQ_OK) {
			virtio_set_needs_reset(d, "used ring unwritable");
			break;
		}
		in->head_started = !is_syn(&in->q[sent]);
		sent++;
		pushed = 1;
	}
	if (sent)
		remove_events(in, 0, sent);
	if (pushed)
		virtio_notify_used(d, VIRTIO_INPUT_EVENTQ);
}

static void sink_event(void *ctx, uint16_t type, uint16_t code, int32_t value)
{
	struct virtio_input *in = ctx;
	struct input_ev e = { type, code, value };

	pthread_mutex_lock(&in->dev.lock);
	if (in->discarding) {
		in->discarding = !is_syn(&e);
		goto out;
	}
	while (in->n == QCAP && drop_oldest_group(in))
		;
	if (in->n == QCAP) {
		/* The group being built fills the backlog by itself: it
		 * goes, and what is left of it after this event too. */
		in->n = in->closed;
		in->dropped++;
		in->discarding = !is_syn(&e);
		goto out;
	}
	in->q[in->n++] = e;
	if (is_syn(&e)) {
		in->closed = in->n;
		deliver(in);
	}
out:
	pthread_mutex_unlock(&in->dev.lock);
}

/* ---- statusq: LED state and the like, taken and ignored -------------- */

static void drain_status(struct virtio_input *in)
{
	struct virtio_dev *d = &in->dev;
	struct virtq *q = &d->vq[VIRTIO_INPUT_STATUSQ];
	int pushed = 0;

	while (running(d, VIRTIO_INPUT_STATUSQ)) {
		int r = virtq_pop(q, &in->chain);

		if (r == VIRTQ_EMPTY)
			break;
		if (r < 0) {
			virtio_set_needs_reset(d, "bad descriptor chain on statusq");
			break;
		}
		if (in->chain.nr_in) {
			virtio_set_needs_reset(d, "writable buffer on statusq");
			break;
		}
		if (virtq_push(q, in->chain.head, 0) != VIRTQ_OK) {
			virtio_set_needs_reset(d, "used ring unwritable");
			break;
		}
		pushed = 1;
	}
	if (pushed)
		virtio_notify_used(d, VIRTIO_INPUT_STATUSQ);
}

/* ---- config space ---------------------------------------------------- */

static void put_le16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void set_bit(uint8_t *map, unsigned bit)
{
	map[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

/* A bitmap's size is up to its last non-zero byte: none means "not
 * supported" to the driver. */
static unsigned bitmap_size(const uint8_t *map)
{
	unsigned n = VIRTIO_INPUT_CFG_UNION_SIZE;

	while (n && !map[n - 1])
		n--;
	return n;
}

static unsigned put_string(uint8_t *u, const char *s)
{
	size_t n = strlen(s);

	memcpy(u, s, n);
	return (unsigned)n;
}

/* EV_BITS for event type `type`: which codes the device sends. */
static unsigned ev_bits(enum virtio_input_kind kind, unsigned type,
			uint8_t *u)
{
	int kbd = kind == VIRTIO_INPUT_KEYBOARD;

	switch (type) {
	case EV_SYN:
		set_bit(u, SYN_REPORT);
		break;
	case EV_KEY:
		if (kbd) {
			for (unsigned k = VIRTIO_INPUT_KEY_FIRST;
			     k <= VIRTIO_INPUT_KEY_LAST; k++)
				set_bit(u, k);
		} else {
			set_bit(u, BTN_LEFT);
			set_bit(u, BTN_RIGHT);
			set_bit(u, BTN_MIDDLE);
		}
		break;
	case EV_REP:	/* the guest's own autorepeat, as on real keyboards */
		if (kbd) {
			set_bit(u, REP_DELAY);
			set_bit(u, REP_PERIOD);
		}
		break;
	case EV_REL:
		if (!kbd)
			set_bit(u, REL_WHEEL);
		break;
	case EV_ABS:
		if (!kbd) {
			set_bit(u, ABS_X);
			set_bit(u, ABS_Y);
		}
		break;
	}
	return bitmap_size(u);
}

/* Fills the config union for select/subsel; returns its size (0: the
 * driver asked for something this device does not have). */
static unsigned fill_union(const struct virtio_input *in, uint8_t *u)
{
	int kbd = in->kind == VIRTIO_INPUT_KEYBOARD;

	switch (in->select) {
	case VIRTIO_INPUT_CFG_ID_NAME:
		return in->subsel ? 0 : put_string(u, kbd ? "minivmm keyboard" :
						   "minivmm tablet");
	case VIRTIO_INPUT_CFG_ID_SERIAL:
		return in->subsel ? 0 : put_string(u, kbd ? "minivmm-kbd-0" :
						   "minivmm-tablet-0");
	case VIRTIO_INPUT_CFG_ID_DEVIDS:
		if (in->subsel)
			return 0;
		put_le16(u, BUS_VIRTUAL);
		put_le16(u + 2, VIRTIO_INPUT_VENDOR);
		put_le16(u + 4, kbd ? VIRTIO_INPUT_PRODUCT_KEYBOARD :
				      VIRTIO_INPUT_PRODUCT_TABLET);
		put_le16(u + 6, VIRTIO_INPUT_VERSION);
		return 8;
	case VIRTIO_INPUT_CFG_PROP_BITS:
		/* A pointer that moves a cursor, not a touchscreen
		 * (INPUT_PROP_DIRECT): libinput treats it like a mouse. */
		if (in->subsel || kbd)
			return 0;
		set_bit(u, INPUT_PROP_POINTER);
		return bitmap_size(u);
	case VIRTIO_INPUT_CFG_EV_BITS:
		return ev_bits(in->kind, in->subsel, u);
	case VIRTIO_INPUT_CFG_ABS_INFO:
		if (kbd || (in->subsel != ABS_X && in->subsel != ABS_Y))
			return 0;
		/* min 0, max INPUT_ABS_MAX; fuzz, flat, res 0. */
		put_le32(u + 4, INPUT_ABS_MAX);
		return 20;
	}
	return 0;
}

static void input_config_read(struct virtio_dev *d, uint32_t off, void *data,
			      unsigned len)
{
	struct virtio_input *in = d->priv;
	uint8_t cfg[VIRTIO_INPUT_CFG_SIZE] = { 0 };

	cfg[VIRTIO_INPUT_CFG_SELECT] = in->select;
	cfg[VIRTIO_INPUT_CFG_SUBSEL] = in->subsel;
	cfg[VIRTIO_INPUT_CFG_SIZE_OFF] =
		(uint8_t)fill_union(in, cfg + VIRTIO_INPUT_CFG_UNION);
	/* The transport checked off + len <= config_size. */
	memcpy(data, cfg + off, len);
}

/* Only select and subsel are the driver's to write. */
static void input_config_write(struct virtio_dev *d, uint32_t off,
			       const void *data, unsigned len)
{
	struct virtio_input *in = d->priv;
	const uint8_t *b = data;

	for (unsigned i = 0; i < len; i++) {
		if (off + i == VIRTIO_INPUT_CFG_SELECT)
			in->select = b[i];
		else if (off + i == VIRTIO_INPUT_CFG_SUBSEL)
			in->subsel = b[i];
	}
}

/* ---- the ops table --------------------------------------------------- */

/* Buffers posted before DRIVER_OK came with kicks the transport dropped. */
static int input_activate(struct virtio_dev *d)
{
	deliver(d->priv);
	drain_status(d->priv);
	return 0;
}

static void input_queue_notify(struct virtio_dev *d, unsigned q)
{
	if (q == VIRTIO_INPUT_EVENTQ)
		deliver(d->priv);
	else if (q == VIRTIO_INPUT_STATUSQ)
		drain_status(d->priv);
}

/* The rings are gone, and with them the guest's side of any group cut in
 * two; whole groups go too.  The open group stays: its sender is still
 * writing it. */
static void input_reset(struct virtio_dev *d)
{
	struct virtio_input *in = d->priv;

	in->select = in->subsel = 0;
	remove_events(in, 0, in->closed);
	in->head_started = 0;
}

static const struct virtio_dev_ops input_ops = {
	.name = "virtio-input",
	.device_id = VIRTIO_ID_INPUT,
	.nr_queues = 2,
	.queue_max = VIRTIO_INPUT_QUEUE_SIZE,
	.config_size = VIRTIO_INPUT_CFG_SIZE,
	.config_read = input_config_read,
	.config_write = input_config_write,
	.activate = input_activate,
	.queue_notify = input_queue_notify,
	.reset = input_reset,
};

struct virtio_input *virtio_input_create(const struct guest_mem *mem,
					 const struct irq_line *irq,
					 enum virtio_input_kind kind)
{
	struct virtio_input *in;

	if (kind != VIRTIO_INPUT_KEYBOARD && kind != VIRTIO_INPUT_TABLET)
		return NULL;
	in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	virtio_dev_init(&in->dev, &input_ops, in, mem, irq);
	in->kind = kind;
	return in;
}

struct virtio_dev *virtio_input_dev(struct virtio_input *in)
{
	return &in->dev;
}

struct input_sink virtio_input_sink(struct virtio_input *in)
{
	return (struct input_sink){ sink_event, in };
}

unsigned virtio_input_pending(struct virtio_input *in)
{
	unsigned n;

	pthread_mutex_lock(&in->dev.lock);
	n = in->n;
	pthread_mutex_unlock(&in->dev.lock);
	return n;
}

unsigned long virtio_input_dropped(struct virtio_input *in)
{
	unsigned long n;

	pthread_mutex_lock(&in->dev.lock);
	n = in->dropped;
	pthread_mutex_unlock(&in->dev.lock);
	return n;
}

void virtio_input_destroy(struct virtio_input *in)
{
	if (!in)
		return;
	pthread_mutex_destroy(&in->dev.lock);
	free(in);
}
