/* virtio-input driven by a fake guest driver through the virtio-mmio
 * transport: the config selectors byte for byte, events into posted
 * buffers in order and only whole groups, the bounded backlog, statusq,
 * hostile chains, and two host threads feeding one device at once. */
#include <endian.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fake_virtq.h"
#include "virtio_input.h"

#define MEM_GPA		0x100000ULL
#define MEM_SIZE	(4ULL << 20)
#define QSIZE		16
#define EVQ		VIRTIO_INPUT_EVENTQ
#define STQ		VIRTIO_INPUT_STATUSQ

struct env {
	struct fvq_mem m;
	struct fvq v[2];
	struct fvq_irq irq;
	struct irq_line line;
	struct virtio_input *in;
	struct virtio_dev *d;
	struct input_sink sink;
};

struct ev {
	uint16_t type, code;
	int32_t value;
};

static void setup(struct env *e, enum virtio_input_kind kind, uint16_t qsize)
{
	memset(e, 0, sizeof(*e));
	fvq_mem_init(&e->m, MEM_GPA, MEM_SIZE);
	e->line = fvq_irq_line(&e->irq, 20);
	e->in = virtio_input_create(&e->m.gm, &e->line, kind);
	if (!e->in)
		abort();
	e->d = virtio_input_dev(e->in);
	e->sink = virtio_input_sink(e->in);
	fvq_init(&e->v[EVQ], &e->m, qsize, NULL);
	fvq_init(&e->v[STQ], &e->m, qsize, NULL);
}

static int start(struct env *e)
{
	return fvq_start(e->d, e->v, 2, 0);
}

static void teardown(struct env *e)
{
	virtio_input_destroy(e->in);
	fvq_mem_free(&e->m);
}

static uint32_t status(struct env *e)
{
	return fvq_mmio_read(e->d, VIRTIO_MMIO_STATUS);
}

static void send(struct env *e, uint16_t type, uint16_t code, int32_t value)
{
	input_send(&e->sink, type, code, value);
}

static void syn(struct env *e)
{
	send(e, EV_SYN, SYN_REPORT, 0);
}

/* Posts n empty 8-byte event buffers and kicks. */
static void post(struct env *e, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		FVQ_ADD(&e->v[EVQ], { fvq_alloc(&e->m, 8, 8), 8, 1 });
	fvq_kick(e->d, EVQ);
}

/* The next used event buffer, decoded; 0 when there is none. */
static int next_event(struct env *e, struct ev *out)
{
	struct fvq_used u;
	uint64_t desc;
	uint8_t *p;

	if (!fvq_get_used(&e->v[EVQ], &u))
		return 0;
	if (u.len != 8 || u.id >= e->v[EVQ].size)
		return -1;
	/* The buffer's address, from the descriptor we wrote. */
	memcpy(&desc, fvq_ptr(&e->m, e->v[EVQ].desc + 16 * (uint64_t)u.id, 8), 8);
	p = fvq_ptr(&e->m, le64toh(desc), 8);
	memcpy(&out->type, p, 2);
	memcpy(&out->code, p + 2, 2);
	memcpy(&out->value, p + 4, 4);
	out->type = le16toh(out->type);
	out->code = le16toh(out->code);
	out->value = (int32_t)le32toh((uint32_t)out->value);
	return 1;
}

static int expect(struct env *e, uint16_t type, uint16_t code, int32_t value)
{
	struct ev ev;

	return next_event(e, &ev) == 1 && ev.type == type && ev.code == code &&
	       ev.value == value;
}

/* ---- config space ---------------------------------------------------- */

static void cfg_select(struct env *e, uint8_t sel, uint8_t subsel)
{
	virtio_mmio_ops.write(e->d, VIRTIO_MMIO_CONFIG + 0, &sel, 1);
	virtio_mmio_ops.write(e->d, VIRTIO_MMIO_CONFIG + 1, &subsel, 1);
}

/* The whole config space, as 32-bit reads. */
static void cfg_read(struct env *e, uint8_t *cfg)
{
	for (unsigned o = 0; o < VIRTIO_INPUT_CFG_SIZE; o += 4) {
		uint32_t v = htole32(fvq_mmio_read(e->d, VIRTIO_MMIO_CONFIG + o));

		memcpy(cfg + o, &v, 4);
	}
}

/* select/subsel answer exactly `want` (size bytes), zeros after it. */
static int cfg_is(struct env *e, uint8_t sel, uint8_t subsel,
		  const void *want, unsigned size)
{
	uint8_t cfg[VIRTIO_INPUT_CFG_SIZE], exp[VIRTIO_INPUT_CFG_SIZE] = { 0 };

	cfg_select(e, sel, subsel);
	cfg_read(e, cfg);
	exp[0] = sel;
	exp[1] = subsel;
	exp[2] = (uint8_t)size;
	if (size)
		memcpy(exp + VIRTIO_INPUT_CFG_UNION, want, size);
	if (memcmp(cfg, exp, sizeof(cfg))) {
		fprintf(stderr, "  config %#x/%#x differs\n", sel, subsel);
		return 0;
	}
	return 1;
}

TEST(test_identity)
{
	struct env e;

	setup(&e, VIRTIO_INPUT_KEYBOARD, QSIZE);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_INPUT);
	fvq_mmio_write(e.d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_DEVICE_FEATURES),
		 1u << VIRTIO_F_RING_INDIRECT_DESC |
		 1u << VIRTIO_F_RING_EVENT_IDX);
	for (unsigned q = 0; q < 3; q++) {
		fvq_mmio_write(e.d, VIRTIO_MMIO_QUEUE_SEL, q);
		CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_QUEUE_NUM_MAX),
			 q < 2 ? VIRTIO_INPUT_QUEUE_SIZE : 0);
	}
	teardown(&e);
	CHECK(!virtio_input_create(NULL, NULL, (enum virtio_input_kind)7));
}

TEST(test_keyboard_config)
{
	static const uint8_t ids[] = { 0x06, 0, 0x4d, 0x4d, 0x01, 0, 0x01, 0 };
	uint8_t keys[32], syn_bits[] = { 0x01 }, rep[] = { 0x03 };
	struct env e;

	setup(&e, VIRTIO_INPUT_KEYBOARD, QSIZE);
	/* Bits 1..248: bit 0 of byte 0 clear, up to bit 0 of byte 31. */
	memset(keys, 0xff, sizeof(keys));
	keys[0] = 0xfe;
	keys[31] = 0x01;
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_UNSET, 0, NULL, 0));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_ID_NAME, 0, "minivmm keyboard", 16));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_ID_NAME, 1, NULL, 0));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_ID_SERIAL, 0, "minivmm-kbd-0", 13));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_ID_DEVIDS, 0, ids, 8));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_PROP_BITS, 0, NULL, 0));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_EV_BITS, EV_SYN, syn_bits, 1));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY, keys, 32));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_EV_BITS, EV_REP, rep, 1));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_EV_BITS, EV_REL, NULL, 0));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_EV_BITS, EV_ABS, NULL, 0));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_EV_BITS, EV_LED, NULL, 0));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_EV_BITS, 0xff, NULL, 0));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_ABS_INFO, ABS_X, NULL, 0));
	CHECK(cfg_is(&e, 0x42, 0, NULL, 0));
	CHECK(cfg_is(&e, 0xff, 0xff, NULL, 0));
	teardown(&e);
}

TEST(test_tablet_config)
{
	static const uint8_t ids[] = { 0x06, 0, 0x4d, 0x4d, 0x02, 0, 0x01, 0 };
	static const uint8_t abs[20] = { 0, 0, 0, 0, 0xff, 0x7f, 0, 0 };
	uint8_t btns[35] = { 0 }, ptr[] = { 0x01 }, rel[] = { 0, 0x01 };
	uint8_t xy[] = { 0x03 };
	struct env e;

	setup(&e, VIRTIO_INPUT_TABLET, QSIZE);
	btns[BTN_LEFT / 8] = 0x07;	/* LEFT, RIGHT, MIDDLE */
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_ID_NAME, 0, "minivmm tablet", 14));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_ID_SERIAL, 0, "minivmm-tablet-0", 16));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_ID_DEVIDS, 0, ids, 8));
	/* A pointer, not INPUT_PROP_DIRECT (a touchscreen). */
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_PROP_BITS, 0, ptr, 1));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY, btns, 35));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_EV_BITS, EV_ABS, xy, 1));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_EV_BITS, EV_REL, rel, 2));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_EV_BITS, EV_REP, NULL, 0));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_ABS_INFO, ABS_X, abs, 20));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_ABS_INFO, ABS_Y, abs, 20));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_ABS_INFO, ABS_Z, NULL, 0));
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_ABS_INFO, ABS_MT_POSITION_X, NULL, 0));
	teardown(&e);
}

/* Only select and subsel take writes; reads and writes past the config
 * space are refused by the transport (reads as 0). */
TEST(test_config_writes_and_bounds)
{
	struct env e;
	uint8_t b[4] = { 0x77, 0x77, 0x77, 0x77 };
	uint32_t v;

	setup(&e, VIRTIO_INPUT_KEYBOARD, QSIZE);
	/* One 16-bit write sets both selectors. */
	b[0] = VIRTIO_INPUT_CFG_ID_NAME;
	b[1] = 0;
	virtio_mmio_ops.write(e.d, VIRTIO_MMIO_CONFIG, b, 2);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG), 0x00100001);
	/* size, reserved and the union are read-only. */
	memset(b, 0x77, 4);
	virtio_mmio_ops.write(e.d, VIRTIO_MMIO_CONFIG + 2, b, 2);
	virtio_mmio_ops.write(e.d, VIRTIO_MMIO_CONFIG + 4, b, 4);
	virtio_mmio_ops.write(e.d, VIRTIO_MMIO_CONFIG + 8, b, 4);
	virtio_mmio_ops.write(e.d, VIRTIO_MMIO_CONFIG + 100, b, 4);
	CHECK(cfg_is(&e, VIRTIO_INPUT_CFG_ID_NAME, 0, "minivmm keyboard", 16));
	/* The last dword is in bounds, the next one is not. */
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG + 132), 0);
	memset(b, 0x55, 4);
	virtio_mmio_ops.read(e.d, VIRTIO_MMIO_CONFIG + VIRTIO_INPUT_CFG_SIZE,
			     b, 4);
	memcpy(&v, b, 4);
	CHECK_EQ(v, 0);
	virtio_mmio_ops.read(e.d, VIRTIO_MMIO_CONFIG + 134, b, 4);
	memcpy(&v, b, 4);
	CHECK_EQ(v, 0);
	/* Byte reads of the name. */
	virtio_mmio_ops.read(e.d, VIRTIO_MMIO_CONFIG + 8, b, 1);
	CHECK_EQ(b[0], 'm');
	/* A reset clears the selectors. */
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG), 0);
	teardown(&e);
}

/* ---- events ---------------------------------------------------------- */

TEST(test_events_in_order_batched_at_syn)
{
	struct env e;
	struct ev ev;

	setup(&e, VIRTIO_INPUT_KEYBOARD, QSIZE);
	CHECK_EQ(start(&e), 0);
	post(&e, 8);
	CHECK_EQ(e.irq.pulses, 0);
	send(&e, EV_KEY, KEY_A, 1);
	send(&e, EV_KEY, KEY_B, 1);
	/* No SYN_REPORT yet: nothing in the guest. */
	CHECK_EQ(next_event(&e, &ev), 0);
	CHECK_EQ(e.irq.pulses, 0);
	syn(&e);
	CHECK(expect(&e, EV_KEY, KEY_A, 1));
	CHECK(expect(&e, EV_KEY, KEY_B, 1));
	CHECK(expect(&e, EV_SYN, SYN_REPORT, 0));
	CHECK_EQ(next_event(&e, &ev), 0);
	CHECK_EQ(e.irq.pulses, 1);
	/* Negative values survive (a wheel turned down). */
	send(&e, EV_KEY, KEY_A, 0);
	send(&e, EV_REL, REL_WHEEL, -1);
	syn(&e);
	CHECK(expect(&e, EV_KEY, KEY_A, 0));
	CHECK(expect(&e, EV_REL, REL_WHEEL, -1));
	CHECK(expect(&e, EV_SYN, SYN_REPORT, 0));
	CHECK_EQ(e.irq.pulses, 2);
	CHECK_EQ(virtio_input_dropped(e.in), 0);
	CHECK(!(status(&e) & VIRTIO_STATUS_NEEDS_RESET));
	teardown(&e);
}

/* No buffers: events wait; a kick with buffers delivers them; too few
 * buffers deliver a prefix and the rest follows on the next kick. */
TEST(test_queued_until_buffers_posted)
{
	struct env e;
	struct ev ev;

	setup(&e, VIRTIO_INPUT_KEYBOARD, QSIZE);
	CHECK_EQ(start(&e), 0);
	for (int i = 0; i < 3; i++) {
		send(&e, EV_KEY, (uint16_t)(KEY_1 + i), 1);
		syn(&e);
	}
	CHECK_EQ(next_event(&e, &ev), 0);
	CHECK_EQ(virtio_input_pending(e.in), 6);
	post(&e, 4);
	CHECK_EQ(virtio_input_pending(e.in), 2);
	CHECK(expect(&e, EV_KEY, KEY_1, 1));
	CHECK(expect(&e, EV_SYN, SYN_REPORT, 0));
	CHECK(expect(&e, EV_KEY, KEY_2, 1));
	CHECK(expect(&e, EV_SYN, SYN_REPORT, 0));
	CHECK_EQ(next_event(&e, &ev), 0);
	CHECK_EQ(e.irq.pulses, 1);
	post(&e, 1);
	CHECK(expect(&e, EV_KEY, KEY_3, 1));
	CHECK_EQ(next_event(&e, &ev), 0);
	/* A new group queues behind the rest of the old one; the open
	 * group counts as pending too. */
	send(&e, EV_KEY, KEY_4, 1);
	CHECK_EQ(virtio_input_pending(e.in), 2);
	syn(&e);
	post(&e, 8);
	CHECK_EQ(virtio_input_pending(e.in), 0);
	CHECK(expect(&e, EV_SYN, SYN_REPORT, 0));
	CHECK(expect(&e, EV_KEY, KEY_4, 1));
	CHECK(expect(&e, EV_SYN, SYN_REPORT, 0));
	CHECK_EQ(next_event(&e, &ev), 0);
	/* The remaining buffers take the next events at once. */
	send(&e, EV_KEY, KEY_5, 1);
	syn(&e);
	CHECK(expect(&e, EV_KEY, KEY_5, 1));
	CHECK(expect(&e, EV_SYN, SYN_REPORT, 0));
	CHECK_EQ(virtio_input_dropped(e.in), 0);
	teardown(&e);
}

/* With EVENT_IDX, finding no buffer asks the driver to kick at its next
 * one, and that kick delivers. */
TEST(test_event_idx_kick)
{
	struct env e;
	struct ev ev;

	setup(&e, VIRTIO_INPUT_KEYBOARD, QSIZE);
	CHECK_EQ(fvq_start(e.d, e.v, 2, 1ULL << VIRTIO_F_RING_EVENT_IDX), 0);
	post(&e, 1);
	send(&e, EV_KEY, KEY_A, 1);
	syn(&e);
	CHECK(expect(&e, EV_KEY, KEY_A, 1));
	CHECK_EQ(next_event(&e, &ev), 0);
	CHECK_EQ(fvq_avail_event(&e.v[EVQ]), e.v[EVQ].avail_idx);
	post(&e, 1);
	CHECK(expect(&e, EV_SYN, SYN_REPORT, 0));
	CHECK_EQ(virtio_input_pending(e.in), 0);
	teardown(&e);
}

/* Events sent before the driver is up wait; a reset drops them. */
TEST(test_before_driver_ok_and_reset)
{
	struct env e;
	struct ev ev;

	setup(&e, VIRTIO_INPUT_KEYBOARD, QSIZE);
	send(&e, EV_KEY, KEY_Q, 1);
	syn(&e);
	CHECK_EQ(start(&e), 0);		/* starts with a reset */
	post(&e, 4);
	CHECK_EQ(next_event(&e, &ev), 0);
	/* Buffers posted, device running: the next group goes through. */
	send(&e, EV_KEY, KEY_W, 1);
	syn(&e);
	CHECK(expect(&e, EV_KEY, KEY_W, 1));
	CHECK(expect(&e, EV_SYN, SYN_REPORT, 0));

	/* Queued without buffers, then the driver resets: gone.  A group
	 * being built across the reset survives. */
	send(&e, EV_KEY, KEY_E, 1);
	syn(&e);
	send(&e, EV_KEY, KEY_R, 1);
	fvq_init(&e.v[EVQ], &e.m, QSIZE, NULL);
	fvq_init(&e.v[STQ], &e.m, QSIZE, NULL);
	CHECK_EQ(start(&e), 0);
	post(&e, 4);
	CHECK_EQ(next_event(&e, &ev), 0);
	syn(&e);
	CHECK(expect(&e, EV_KEY, KEY_R, 1));
	CHECK(expect(&e, EV_SYN, SYN_REPORT, 0));
	CHECK_EQ(next_event(&e, &ev), 0);
	teardown(&e);
}

/* The backlog holds VIRTIO_INPUT_QUEUE_EVENTS; the oldest whole groups
 * go first, and the newest arrive intact. */
TEST(test_overflow_drops_oldest_groups)
{
	const unsigned groups = 200, keep = VIRTIO_INPUT_QUEUE_EVENTS / 2;
	struct env e;
	struct ev ev;
	unsigned got = 0, n;
	int ok = 1;

	setup(&e, VIRTIO_INPUT_TABLET, 64);
	CHECK_EQ(start(&e), 0);
	for (unsigned i = 0; i < groups; i++) {
		send(&e, EV_ABS, ABS_X, (int32_t)i);
		syn(&e);
	}
	CHECK_EQ(virtio_input_dropped(e.in), groups - keep);
	/* Rounds of 32 buffers until one comes back short. */
	do {
		post(&e, 32);
		for (n = 0; next_event(&e, &ev) == 1; n++, got++) {
			unsigned g = groups - keep + got / 2;

			if (got % 2 == 0)
				ok &= ev.type == EV_ABS && ev.value == (int32_t)g;
			else
				ok &= ev.type == EV_SYN;
		}
	} while (n == 32);
	CHECK(ok);
	CHECK_EQ(got, 2 * keep);
	teardown(&e);
}

/* A group the guest has seen part of is never dropped: it finishes
 * first, then the newest groups that fit. */
TEST(test_overflow_keeps_started_group)
{
	struct env e;
	struct ev ev;
	unsigned n = 0, last = 0, got;

	setup(&e, VIRTIO_INPUT_TABLET, 64);
	CHECK_EQ(start(&e), 0);
	post(&e, 1);
	send(&e, EV_KEY, BTN_LEFT, 1);
	send(&e, EV_KEY, BTN_RIGHT, 1);
	syn(&e);
	CHECK(expect(&e, EV_KEY, BTN_LEFT, 1));
	for (unsigned i = 0; i < 500; i++) {
		send(&e, EV_ABS, ABS_Y, (int32_t)i);
		syn(&e);
	}
	CHECK(virtio_input_dropped(e.in) > 0);
	post(&e, 2);
	CHECK(expect(&e, EV_KEY, BTN_RIGHT, 1));
	CHECK(expect(&e, EV_SYN, SYN_REPORT, 0));
	do {
		post(&e, 32);
		for (got = 0; next_event(&e, &ev) == 1; got++, n++)
			if (ev.type == EV_ABS)
				last = (unsigned)ev.value;
	} while (got == 32);
	CHECK_EQ(n, VIRTIO_INPUT_QUEUE_EVENTS - 2);
	CHECK_EQ(last, 499);
	teardown(&e);
}

/* A "group" longer than the whole backlog is dropped through its
 * SYN_REPORT (after the older group it pushed out while growing); what
 * follows is delivered normally. */
TEST(test_overflow_open_group)
{
	struct env e;
	struct ev ev;

	setup(&e, VIRTIO_INPUT_TABLET, QSIZE);
	CHECK_EQ(start(&e), 0);
	send(&e, EV_ABS, ABS_X, 1);
	syn(&e);
	for (unsigned i = 0; i < VIRTIO_INPUT_QUEUE_EVENTS + 10; i++)
		send(&e, EV_ABS, ABS_Y, (int32_t)i);
	syn(&e);
	CHECK_EQ(virtio_input_dropped(e.in), 2);
	send(&e, EV_ABS, ABS_X, 2);
	syn(&e);
	post(&e, QSIZE);
	CHECK(expect(&e, EV_ABS, ABS_X, 2));
	CHECK(expect(&e, EV_SYN, SYN_REPORT, 0));
	CHECK_EQ(next_event(&e, &ev), 0);
	teardown(&e);
}

/* ---- statusq and hostile chains ------------------------------------- */

TEST(test_statusq_consumed)
{
	struct env e;
	struct fvq_used u;
	uint8_t led[8] = { 0x11, 0, 1, 0, 1, 0, 0, 0 };	/* EV_LED CAPSL on */
	uint16_t h;

	setup(&e, VIRTIO_INPUT_KEYBOARD, QSIZE);
	CHECK_EQ(start(&e), 0);
	h = FVQ_ADD(&e.v[STQ], { fvq_put(&e.m, led, 8), 8, 0 });
	fvq_kick(e.d, STQ);
	CHECK(fvq_get_used(&e.v[STQ], &u) && u.id == h && u.len == 0);
	CHECK_EQ(e.irq.pulses, 1);
	CHECK(!(status(&e) & VIRTIO_STATUS_NEEDS_RESET));
	/* A writable buffer has no business there. */
	FVQ_ADD(&e.v[STQ], { fvq_alloc(&e.m, 8, 8), 8, 1 });
	fvq_kick(e.d, STQ);
	CHECK(status(&e) & VIRTIO_STATUS_NEEDS_RESET);
	teardown(&e);
}

/* After a hostile eventq chain: NEEDS_RESET, no more events; after a
 * reset, delivery works again. */
TEST(test_malformed_eventq_needs_reset)
{
	for (int k = 0; k < 4; k++) {
		struct env e;
		struct ev ev;
		uint64_t a;

		setup(&e, VIRTIO_INPUT_KEYBOARD, QSIZE);
		CHECK_EQ(start(&e), 0);
		a = fvq_alloc(&e.m, 16, 8);
		if (k == 0)		/* device-readable */
			FVQ_ADD(&e.v[EVQ], { a, 8, 0 });
		else if (k == 1)	/* readable then writable */
			FVQ_ADD(&e.v[EVQ], { a, 8, 0 }, { a + 8, 8, 1 });
		else if (k == 2)	/* shorter than one event */
			FVQ_ADD(&e.v[EVQ], { a, 4, 1 });
		else			/* outside guest memory */
			FVQ_ADD(&e.v[EVQ], { MEM_GPA + MEM_SIZE - 4, 8, 1 });
		fvq_kick(e.d, EVQ);
		send(&e, EV_KEY, KEY_X, 1);
		syn(&e);
		CHECK(status(&e) & VIRTIO_STATUS_NEEDS_RESET);
		CHECK(fvq_mmio_read(e.d, VIRTIO_MMIO_INTERRUPT_STATUS) &
		      VIRTIO_ISR_CONFIG);
		CHECK(!fvq_get_used(&e.v[EVQ], &(struct fvq_used){ 0 }));
		/* Stopped: more buffers get nothing. */
		post(&e, 2);
		send(&e, EV_KEY, KEY_X, 0);
		syn(&e);
		CHECK_EQ(next_event(&e, &ev), 0);

		fvq_init(&e.v[EVQ], &e.m, QSIZE, NULL);
		fvq_init(&e.v[STQ], &e.m, QSIZE, NULL);
		CHECK_EQ(start(&e), 0);
		post(&e, 2);
		send(&e, EV_KEY, KEY_Y, 1);
		syn(&e);
		CHECK(expect(&e, EV_KEY, KEY_Y, 1));
		CHECK(expect(&e, EV_SYN, SYN_REPORT, 0));
		teardown(&e);
	}
}

/* A longer buffer and a chain of two: one event each, 8 bytes used. */
TEST(test_odd_but_valid_buffers)
{
	static const uint8_t want_a[8] = { 1, 0, 30, 0, 1, 0, 0, 0 };
	static const uint8_t want_b[8] = { 1, 0, 48, 0, 0xfe, 0xff, 0xff, 0xff };
	struct env e;
	struct fvq_used u;
	uint64_t a, b;

	setup(&e, VIRTIO_INPUT_KEYBOARD, QSIZE);
	CHECK_EQ(start(&e), 0);
	a = fvq_alloc(&e.m, 64, 8);
	b = fvq_alloc(&e.m, 8, 8);
	FVQ_ADD(&e.v[EVQ], { a, 64, 1 });
	FVQ_ADD(&e.v[EVQ], { b, 3, 1 }, { b + 3, 5, 1 });
	fvq_kick(e.d, EVQ);
	send(&e, EV_KEY, KEY_A, 1);
	send(&e, EV_KEY, KEY_B, -2);
	syn(&e);
	CHECK(fvq_get_used(&e.v[EVQ], &u) && u.len == 8);
	CHECK(!memcmp(fvq_ptr(&e.m, a, 8), want_a, 8));
	CHECK(fvq_get_used(&e.v[EVQ], &u) && u.len == 8);
	CHECK(!memcmp(fvq_ptr(&e.m, b, 8), want_b, 8));
	CHECK(!(status(&e) & VIRTIO_STATUS_NEEDS_RESET));
	teardown(&e);
}

/* ---- two host threads at once ----------------------------------------- */

#define PER_THREAD 60	/* 2 threads x 60 groups x 2 events < backlog */

struct feeder {
	struct input_sink sink;
	uint16_t code;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		input_send(&f->sink, EV_KEY, f->code, i);
		input_send(&f->sink, EV_SYN, SYN_REPORT, 0);
	}
	return NULL;
}

TEST(test_concurrent_sinks)
{
	struct env e;
	struct feeder f[2];
	pthread_t t[2];
	int next[2] = { 0, 0 }, ok = 1, idle = 0;
	unsigned syns = 0;

	setup(&e, VIRTIO_INPUT_KEYBOARD, 64);
	CHECK_EQ(start(&e), 0);
	for (int i = 0; i < 2; i++) {
		f[i].sink = e.sink;
		f[i].code = i ? KEY_B : KEY_A;
		if (pthread_create(&t[i], NULL, feed, &f[i]))
			abort();
	}
	/* The guest recycles buffers while both threads send. */
	post(&e, 32);
	while (next[0] + next[1] < 2 * PER_THREAD || syns < 2 * PER_THREAD) {
		struct ev ev;
		unsigned got = 0;
		int r;

		while ((r = next_event(&e, &ev)) == 1) {
			got++;
			if (ev.type == EV_SYN) {
				syns++;
			} else {
				int w = ev.code == KEY_B;

				ok &= ev.type == EV_KEY &&
				      (ev.code == KEY_A || ev.code == KEY_B) &&
				      ev.value == next[w];
				next[w]++;
			}
		}
		if (r < 0 || ++idle > 1000000)
			break;
		if (got)
			post(&e, got);
		else
			fvq_kick(e.d, EVQ);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK(ok);
	CHECK_EQ(next[0], PER_THREAD);
	CHECK_EQ(next[1], PER_THREAD);
	CHECK_EQ(syns, 2 * PER_THREAD);
	CHECK_EQ(virtio_input_dropped(e.in), 0);
	teardown(&e);
}

int main(void)
{
	RUN(test_identity);
	RUN(test_keyboard_config);
	RUN(test_tablet_config);
	RUN(test_config_writes_and_bounds);
	RUN(test_events_in_order_batched_at_syn);
	RUN(test_queued_until_buffers_posted);
	RUN(test_event_idx_kick);
	RUN(test_before_driver_ok_and_reset);
	RUN(test_overflow_drops_oldest_groups);
	RUN(test_overflow_keeps_started_group);
	RUN(test_overflow_open_group);
	RUN(test_statusq_consumed);
	RUN(test_malformed_eventq_needs_reset);
	RUN(test_odd_but_valid_buffers);
	RUN(test_concurrent_sinks);
	virtio_input_destroy(NULL);
	return CHECK_DONE();
}
