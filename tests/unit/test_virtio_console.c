/* virtio-console driven by a fake guest driver through the virtio-mmio
 * transport: output to a pipe, input into posted buffers, the rx_room
 * hand-shake, config space, and recovery from malformed chains. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fake_virtq.h"
#include "virtio_console.h"

#define MEM_GPA		0x100000ULL
#define MEM_SIZE	(1ULL << 20)
#define QSIZE		16
#define RXQ		VIRTIO_CONSOLE_RXQ
#define TXQ		VIRTIO_CONSOLE_TXQ
#define F_SIZE		(1ULL << VIRTIO_CONSOLE_F_SIZE)

struct env {
	struct fvq_mem m;
	struct fvq v[2];
	struct fvq_irq irq;
	struct irq_line line;
	struct virtio_console *c;
	struct virtio_dev *d;
	int p[2];		/* out_fd is p[1]; p[0] non-blocking */
	unsigned rooms;		/* rx_room calls */
};

static void on_room(void *ctx)
{
	struct env *e = ctx;

	e->rooms++;
}

/* A console writing to a pipe, not yet started. */
static void setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	fvq_mem_init(&e->m, MEM_GPA, MEM_SIZE);
	e->line = fvq_irq_line(&e->irq, 17);
	if (pipe(e->p))
		abort();
	fcntl(e->p[0], F_SETFL, O_NONBLOCK);
	e->c = virtio_console_create(&e->m.gm, &e->line, e->p[1]);
	if (!e->c)
		abort();
	e->d = virtio_console_dev(e->c);
	e->c->rx_room = on_room;
	e->c->rx_room_ctx = e;
}

/* Fresh rings and Linux's probe sequence to its end: the config change
 * the device sends at DRIVER_OK is taken once the probe is over
 * (virtio_config_enable), and config_work_handler reads cols and rows,
 * which lets input in.  Interrupts are counted from there. */
static int start(struct env *e, uint64_t features)
{
	unsigned pulses = e->irq.pulses;
	uint32_t isr;

	fvq_init(&e->v[RXQ], &e->m, QSIZE, NULL);
	fvq_init(&e->v[TXQ], &e->m, QSIZE, NULL);
	if (fvq_start(e->d, e->v, 2, features))
		return -1;
	isr = fvq_mmio_read(e->d, VIRTIO_MMIO_INTERRUPT_STATUS);
	fvq_mmio_write(e->d, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	if (isr != VIRTIO_ISR_CONFIG || e->irq.pulses != pulses + 1)
		return -1;
	fvq_mmio_read(e->d, VIRTIO_MMIO_CONFIG);
	e->irq.pulses = 0;
	return 0;
}

static void teardown(struct env *e)
{
	virtio_console_destroy(e->c);
	if (e->p[0] >= 0)
		close(e->p[0]);
	if (e->p[1] >= 0)
		close(e->p[1]);
	fvq_mem_free(&e->m);
}

static size_t drain(struct env *e, uint8_t *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap && (n = read(e->p[0], buf + got, cap - got)) > 0)
		got += (size_t)n;
	return got;
}

static uint32_t status(struct env *e)
{
	return fvq_mmio_read(e->d, VIRTIO_MMIO_STATUS);
}

static size_t rx(struct env *e, const char *s)
{
	return virtio_console_receive(e->c, (const uint8_t *)s, strlen(s));
}

/* ---- identity and config --------------------------------------------- */

TEST(test_id_features_config)
{
	struct env e;
	uint32_t gen;

	setup(&e);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	fvq_mmio_write(e.d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CHECK(fvq_mmio_read(e.d, VIRTIO_MMIO_DEVICE_FEATURES) & F_SIZE);
	/* No MULTIPORT, no EMERG_WRITE: nothing we did not build. */
	CHECK(!(fvq_mmio_read(e.d, VIRTIO_MMIO_DEVICE_FEATURES) &
		(1u << VIRTIO_CONSOLE_F_MULTIPORT |
		 1u << VIRTIO_CONSOLE_F_EMERG_WRITE)));
	fvq_mmio_write(e.d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_DEVICE_FEATURES) & 1, 1);
	for (unsigned q = 0; q < 3; q++) {
		fvq_mmio_write(e.d, VIRTIO_MMIO_QUEUE_SEL, q);
		CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_QUEUE_NUM_MAX),
			 q < 2 ? VIRTIO_CONSOLE_QUEUE_SIZE : 0);
	}

	CHECK_EQ(start(&e, F_SIZE), 0);
	/* cols 80 and rows 25, little-endian, in one 32-bit read. */
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG), 80 | 25u << 16);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG + 4), 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG + 8), 0);
	/* emerg_wr without EMERG_WRITE: ignored, nothing written out. */
	fvq_mmio_write(e.d, VIRTIO_MMIO_CONFIG + 8, 'x');
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG + 8), 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG), 80 | 25u << 16);
	{
		uint8_t b[4];

		CHECK_EQ(drain(&e, b, sizeof(b)), 0);
	}

	/* A resize: new values, a new generation, one config interrupt. */
	gen = fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG_GENERATION);
	virtio_console_set_size(e.c, 132, 43);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG), 132 | 43u << 16);
	CHECK(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG_GENERATION) != gen);
	CHECK(fvq_mmio_read(e.d, VIRTIO_MMIO_INTERRUPT_STATUS) &
	      VIRTIO_ISR_CONFIG);
	CHECK_EQ(e.irq.pulses, 1);
	CHECK_EQ(e.irq.gsi, 17);
	virtio_console_set_size(e.c, 132, 43);	/* no change, no interrupt */
	CHECK_EQ(e.irq.pulses, 1);
	teardown(&e);
}

/* ---- transmit -------------------------------------------------------- */

TEST(test_tx_multi_buffer_byte_exact)
{
	static uint8_t big[3][5000], got[16000];
	struct env e;
	struct fvq_used u;
	uint64_t g[3];
	uint16_t h1, h2, h3;
	size_t n;

	setup(&e);
	CHECK_EQ(start(&e, 1ULL << VIRTIO_F_RING_INDIRECT_DESC), 0);
	/* Small pieces, then buffers bigger than the device's copy buffer
	 * (so chunks straddle descriptors), then an indirect chain. */
	h1 = FVQ_ADD(&e.v[TXQ], { fvq_put(&e.m, "hello, ", 7), 7, 0 },
		     { fvq_put(&e.m, "virtio ", 7), 7, 0 },
		     { fvq_put(&e.m, "console\n", 8), 8, 0 });
	for (unsigned i = 0; i < 3; i++) {
		for (unsigned k = 0; k < sizeof(big[i]); k++)
			big[i][k] = (uint8_t)(k * 31 + i * 7 + (k >> 8));
		g[i] = fvq_put(&e.m, big[i], sizeof(big[i]));
	}
	h2 = FVQ_ADD(&e.v[TXQ], { g[0], 5000, 0 }, { g[1], 5000, 0 },
		     { g[2], 1, 0 });
	h3 = fvq_add_indirect(&e.v[TXQ], (const struct fvq_buf[]){
		{ fvq_put(&e.m, "in", 2), 2, 0 },
		{ fvq_put(&e.m, "direct", 6), 6, 0 } }, 2);
	fvq_kick(e.d, TXQ);

	n = drain(&e, got, sizeof(got));
	CHECK_EQ(n, 22 + 10001 + 8);
	CHECK(!memcmp(got, "hello, virtio console\n", 22));
	CHECK(!memcmp(got + 22, big[0], 5000));
	CHECK(!memcmp(got + 5022, big[1], 5000));
	CHECK_EQ(got[10022], big[2][0]);
	CHECK(!memcmp(got + 10023, "indirect", 8));

	/* Each chain back with 0 bytes written, one interrupt per kick. */
	CHECK(fvq_get_used(&e.v[TXQ], &u) && u.id == h1 && u.len == 0);
	CHECK(fvq_get_used(&e.v[TXQ], &u) && u.id == h2 && u.len == 0);
	CHECK(fvq_get_used(&e.v[TXQ], &u) && u.id == h3 && u.len == 0);
	CHECK(!fvq_get_used(&e.v[TXQ], &u));
	CHECK_EQ(e.irq.pulses, 1);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_INTERRUPT_STATUS),
		 VIRTIO_ISR_USED);
	fvq_mmio_write(e.d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_USED);

	/* The driver asked for no interrupts: none. */
	fvq_set_avail_flags(&e.v[TXQ], VIRTQ_AVAIL_F_NO_INTERRUPT);
	FVQ_ADD(&e.v[TXQ], { fvq_put(&e.m, "q", 1), 1, 0 });
	fvq_kick(e.d, TXQ);
	CHECK_EQ(drain(&e, got, sizeof(got)), 1);
	CHECK_EQ(e.irq.pulses, 1);
	CHECK(!(status(&e) & VIRTIO_STATUS_NEEDS_RESET));
	teardown(&e);
}

/* The output's reader went away: bytes dropped, chains still returned,
 * no SIGPIPE death (main ignores it; so do we), no reset. */
TEST(test_tx_broken_pipe)
{
	struct env e;
	struct fvq_used u;

	setup(&e);
	CHECK_EQ(start(&e, 0), 0);
	close(e.p[0]);
	e.p[0] = -1;
	for (int i = 0; i < 3; i++)
		FVQ_ADD(&e.v[TXQ], { fvq_put(&e.m, "lost", 4), 4, 0 });
	fvq_kick(e.d, TXQ);
	for (int i = 0; i < 3; i++)
		CHECK(fvq_get_used(&e.v[TXQ], &u) && u.len == 0);
	CHECK(e.c->tx_logged);
	CHECK(!(status(&e) & VIRTIO_STATUS_NEEDS_RESET));
	teardown(&e);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* A blocking out_fd whose reader stopped: one bounded wait, then drops
 * without waiting until the reader drains. */
TEST(test_tx_stalled_reader)
{
	static uint8_t junk[65536];
	struct env e;
	struct fvq_used u;
	uint8_t c[8];
	double t;
	int fl;

	setup(&e);
	fl = fcntl(e.p[1], F_GETFL);
	fcntl(e.p[1], F_SETFL, fl | O_NONBLOCK);
	while (write(e.p[1], junk, sizeof(junk)) > 0)
		;
	while (write(e.p[1], junk, 1) > 0)
		;
	fcntl(e.p[1], F_SETFL, fl);
	e.c->tx_timeout_ms = 50;
	CHECK_EQ(start(&e, 0), 0);

	t = now_s();
	for (int i = 0; i < 10; i++) {
		FVQ_ADD(&e.v[TXQ], { fvq_put(&e.m, "stuck", 5), 5, 0 });
		fvq_kick(e.d, TXQ);
		CHECK(fvq_get_used(&e.v[TXQ], &u) && u.len == 0);
	}
	CHECK(now_s() - t < 1.0);
	CHECK(e.c->tx_stalled);

	/* The reader catches up: output flows again. */
	drain(&e, junk, sizeof(junk));
	drain(&e, junk, sizeof(junk));
	FVQ_ADD(&e.v[TXQ], { fvq_put(&e.m, "flow", 4), 4, 0 });
	fvq_kick(e.d, TXQ);
	CHECK(!e.c->tx_stalled);
	CHECK_EQ(drain(&e, c, sizeof(c)), 4);
	CHECK(!memcmp(c, "flow", 4));
	teardown(&e);
}

TEST(test_tx_discarded_without_fd)
{
	struct env e;
	struct fvq_used u;

	setup(&e);
	e.c->out_fd = -1;
	CHECK_EQ(start(&e, 0), 0);
	FVQ_ADD(&e.v[TXQ], { fvq_put(&e.m, "void", 4), 4, 0 });
	fvq_kick(e.d, TXQ);
	CHECK(fvq_get_used(&e.v[TXQ], &u) && u.len == 0);
	CHECK_EQ(e.irq.pulses, 1);
	CHECK(!e.c->tx_logged);
	teardown(&e);
}

/* ---- receive --------------------------------------------------------- */

TEST(test_rx_fills_posted_buffers)
{
	struct env e;
	struct fvq_used u;
	uint64_t a, b, c1, c2;
	uint16_t ha, hb, hc;

	setup(&e);
	CHECK_EQ(start(&e, 0), 0);
	a = fvq_alloc(&e.m, 4, 8);
	b = fvq_alloc(&e.m, 8, 8);
	c1 = fvq_alloc(&e.m, 3, 8);
	c2 = fvq_alloc(&e.m, 5, 8);
	ha = FVQ_ADD(&e.v[RXQ], { a, 4, 1 });
	hb = FVQ_ADD(&e.v[RXQ], { b, 8, 1 });
	hc = FVQ_ADD(&e.v[RXQ], { c1, 3, 1 }, { c2, 5, 1 });
	fvq_kick(e.d, RXQ);
	CHECK_EQ(e.rooms, 0);	/* nobody was waiting */

	/* 14 bytes: fills a and b, then 2 of the two-buffer chain. */
	CHECK_EQ(rx(&e, "abcdefghijklmn"), 14);
	CHECK_EQ(e.irq.pulses, 1);
	CHECK(fvq_get_used(&e.v[RXQ], &u) && u.id == ha && u.len == 4);
	CHECK(fvq_get_used(&e.v[RXQ], &u) && u.id == hb && u.len == 8);
	CHECK(fvq_get_used(&e.v[RXQ], &u) && u.id == hc && u.len == 2);
	CHECK(!fvq_get_used(&e.v[RXQ], &u));
	CHECK(!memcmp(fvq_ptr(&e.m, a, 4), "abcd", 4));
	CHECK(!memcmp(fvq_ptr(&e.m, b, 8), "efghijkl", 8));
	CHECK(!memcmp(fvq_ptr(&e.m, c1, 2), "mn", 2));

	/* Across the buffers of one chain. */
	hc = FVQ_ADD(&e.v[RXQ], { c1, 3, 1 }, { c2, 5, 1 });
	CHECK_EQ(rx(&e, "0123456789"), 8);	/* short: no more buffers */
	CHECK(fvq_get_used(&e.v[RXQ], &u) && u.id == hc && u.len == 8);
	CHECK(!memcmp(fvq_ptr(&e.m, c1, 3), "012", 3));
	CHECK(!memcmp(fvq_ptr(&e.m, c2, 5), "34567", 5));
	CHECK_EQ(e.irq.pulses, 2);

	/* Nothing posted: nothing taken, no interrupt. */
	CHECK_EQ(rx(&e, "89"), 0);
	CHECK_EQ(e.irq.pulses, 2);
	CHECK_EQ(virtio_console_receive(e.c, NULL, 0), 0);
	CHECK(!(status(&e) & VIRTIO_STATUS_NEEDS_RESET));
	teardown(&e);
}

/* The feeder's hand-shake: a short receive, then a kick on receiveq when
 * the guest posts buffers, wakes it once; with and without EVENT_IDX. */
TEST(test_rx_room_after_short_receive)
{
	for (int ev = 0; ev < 2; ev++) {
		struct env e;
		struct fvq_used u;
		uint64_t a = 0;

		setup(&e);
		/* Not running yet: nothing taken, woken once the driver
		 * has finished probing. */
		CHECK_EQ(rx(&e, "early"), 0);
		CHECK_EQ(e.rooms, 0);
		CHECK_EQ(start(&e, ev ? 1ULL << VIRTIO_F_RING_EVENT_IDX : 0), 0);
		CHECK_EQ(e.rooms, 1);

		CHECK_EQ(rx(&e, "early"), 0);	/* still no buffers */
		if (ev)	/* the empty pop asked for a kick at the next add */
			CHECK_EQ(fvq_avail_event(&e.v[RXQ]), 0);
		a = fvq_alloc(&e.m, 16, 8);
		FVQ_ADD(&e.v[RXQ], { a, 16, 1 });
		fvq_kick(e.d, RXQ);
		CHECK_EQ(e.rooms, 2);
		CHECK_EQ(rx(&e, "early"), 5);
		CHECK(fvq_get_used(&e.v[RXQ], &u) && u.len == 5);
		CHECK(!memcmp(fvq_ptr(&e.m, a, 5), "early", 5));

		/* No receive came back short since: no wake-up. */
		FVQ_ADD(&e.v[RXQ], { a, 16, 1 });
		fvq_kick(e.d, RXQ);
		CHECK_EQ(e.rooms, 2);
		CHECK_EQ(rx(&e, "more"), 4);
		teardown(&e);
	}
}

/* Linux posts and kicks receive buffers after DRIVER_OK but before its
 * interrupt handler can find the port; anything used then is freed
 * unread.  Input waits until the driver answers the config change sent at
 * DRIVER_OK by reading the config (after its probe), and again after a
 * reset. */
TEST(test_rx_waits_for_probe_end)
{
	struct env e;
	struct fvq_used u;
	uint64_t a;

	setup(&e);
	fvq_init(&e.v[RXQ], &e.m, QSIZE, NULL);
	fvq_init(&e.v[TXQ], &e.m, QSIZE, NULL);
	CHECK_EQ(rx(&e, "held"), 0);
	/* A config read before DRIVER_OK is no answer. */
	fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG);
	CHECK_EQ(fvq_start(e.d, e.v, 2,
			   F_SIZE | 1ULL << VIRTIO_F_RING_EVENT_IDX), 0);
	CHECK_EQ(e.irq.pulses, 1);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_INTERRUPT_STATUS),
		 VIRTIO_ISR_CONFIG);
	fvq_mmio_write(e.d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_CONFIG);
	CHECK_EQ(e.rooms, 0);

	/* fill_queue: buffers and a kick, but the probe is not over. */
	a = fvq_alloc(&e.m, 16, 8);
	FVQ_ADD(&e.v[RXQ], { a, 16, 1 });
	fvq_kick(e.d, RXQ);
	CHECK_EQ(rx(&e, "held"), 0);
	CHECK(!fvq_get_used(&e.v[RXQ], &u));
	CHECK_EQ(e.irq.pulses, 1);
	/* Output is not held. */
	FVQ_ADD(&e.v[TXQ], { fvq_put(&e.m, "out", 3), 3, 0 });
	fvq_kick(e.d, TXQ);
	CHECK(fvq_get_used(&e.v[TXQ], &u));
	CHECK_EQ(e.irq.pulses, 2);
	fvq_mmio_write(e.d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_USED);

	/* The status read-back at the end of virtio_dev_probe, then the
	 * config change handler's reads: input flows, the feeder is woken. */
	CHECK(status(&e) & VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(e.rooms, 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG), 80 | 25u << 16);
	CHECK_EQ(e.rooms, 1);
	fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG);
	CHECK_EQ(e.rooms, 1);
	CHECK_EQ(rx(&e, "held"), 4);
	CHECK(fvq_get_used(&e.v[RXQ], &u) && u.len == 4);
	CHECK(!memcmp(fvq_ptr(&e.m, a, 4), "held", 4));
	CHECK_EQ(e.irq.pulses, 3);

	/* A reset: held again until the next probe is over. */
	fvq_mmio_write(e.d, VIRTIO_MMIO_STATUS, 0);
	fvq_init(&e.v[RXQ], &e.m, QSIZE, NULL);
	fvq_init(&e.v[TXQ], &e.m, QSIZE, NULL);
	CHECK_EQ(fvq_start(e.d, e.v, 2, 0), 0);
	FVQ_ADD(&e.v[RXQ], { a, 16, 1 });
	fvq_kick(e.d, RXQ);
	CHECK_EQ(rx(&e, "again"), 0);
	CHECK_EQ(e.rooms, 1);
	fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG);
	CHECK_EQ(e.rooms, 2);
	CHECK_EQ(rx(&e, "again"), 5);
	CHECK(fvq_get_used(&e.v[RXQ], &u) && u.len == 5);
	CHECK(!(status(&e) & VIRTIO_STATUS_NEEDS_RESET));
	teardown(&e);
}

/* ---- guest mistakes -------------------------------------------------- */

static void check_recovers(struct env *e)
{
	struct fvq_used u;
	uint8_t got[8];
	uint64_t a;

	CHECK_EQ(start(e, 0), 0);
	CHECK(!(status(e) & VIRTIO_STATUS_NEEDS_RESET));
	FVQ_ADD(&e->v[TXQ], { fvq_put(&e->m, "back", 4), 4, 0 });
	fvq_kick(e->d, TXQ);
	CHECK_EQ(drain(e, got, sizeof(got)), 4);
	CHECK(!memcmp(got, "back", 4));
	CHECK(fvq_get_used(&e->v[TXQ], &u) && u.len == 0);
	a = fvq_alloc(&e->m, 4, 8);
	FVQ_ADD(&e->v[RXQ], { a, 4, 1 });
	CHECK_EQ(rx(e, "ok"), 2);
	CHECK(fvq_get_used(&e->v[RXQ], &u) && u.len == 2);
}

/* After a guest mistake: NEEDS_RESET, a config interrupt, and the device
 * does nothing more until reset. */
static void check_stopped(struct env *e, unsigned pulses_before)
{
	uint8_t got[8];
	uint64_t a = fvq_alloc(&e->m, 4, 8);

	CHECK(status(e) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(fvq_mmio_read(e->d, VIRTIO_MMIO_INTERRUPT_STATUS) &
	      VIRTIO_ISR_CONFIG);
	CHECK_EQ(e->irq.pulses, pulses_before + 1);
	FVQ_ADD(&e->v[TXQ], { fvq_put(&e->m, "no", 2), 2, 0 });
	fvq_kick(e->d, TXQ);
	FVQ_ADD(&e->v[RXQ], { a, 4, 1 });
	CHECK_EQ(rx(e, "no"), 0);
	CHECK_EQ(drain(e, got, sizeof(got)), 0);
}

TEST(test_tx_writable_buffer_needs_reset)
{
	struct env e;
	uint8_t got[8];

	setup(&e);
	CHECK_EQ(start(&e, 0), 0);
	FVQ_ADD(&e.v[TXQ], { fvq_put(&e.m, "ab", 2), 2, 0 },
		{ fvq_alloc(&e.m, 8, 8), 8, 1 });
	fvq_kick(e.d, TXQ);
	CHECK_EQ(drain(&e, got, sizeof(got)), 0);
	check_stopped(&e, 0);
	check_recovers(&e);
	teardown(&e);
}

TEST(test_rx_readable_buffer_needs_reset)
{
	struct env e;
	struct fvq_used u;

	setup(&e);
	CHECK_EQ(start(&e, 0), 0);
	FVQ_ADD(&e.v[RXQ], { fvq_put(&e.m, "ro", 2), 2, 0 });
	CHECK_EQ(rx(&e, "x"), 0);
	CHECK(!fvq_get_used(&e.v[RXQ], &u));
	check_stopped(&e, 0);
	check_recovers(&e);
	teardown(&e);
}

TEST(test_buffers_outside_memory_need_reset)
{
	static const struct fvq_buf bad[] = {
		{ MEM_GPA + MEM_SIZE, 4, 0 },		/* just past the end */
		{ MEM_GPA + MEM_SIZE - 2, 4, 0 },	/* straddles the end */
		{ 0xffffffffffffff00ULL, 0x200, 0 },	/* wraps past 2^64 */
		{ 0, 4, 0 },				/* below the region */
	};

	for (unsigned i = 0; i < 2 * sizeof(bad) / sizeof(bad[0]); i++) {
		struct fvq_buf b = bad[i / 2];
		int is_rx = i & 1;
		struct env e;

		setup(&e);
		CHECK_EQ(start(&e, 0), 0);
		b.write = is_rx;
		fvq_add(&e.v[is_rx ? RXQ : TXQ], &b, 1);
		if (is_rx)
			CHECK_EQ(rx(&e, "abcdefgh"), 0);
		else
			fvq_kick(e.d, TXQ);
		check_stopped(&e, 0);
		check_recovers(&e);
		teardown(&e);
	}
}

/* A chain of empty buffers carries nothing; it goes back with 0. */
TEST(test_rx_empty_chain_returned)
{
	struct env e;
	struct fvq_used u;
	uint64_t a;
	uint16_t h;

	setup(&e);
	CHECK_EQ(start(&e, 0), 0);
	h = FVQ_ADD(&e.v[RXQ], { fvq_alloc(&e.m, 1, 8), 0, 1 });
	a = fvq_alloc(&e.m, 4, 8);
	FVQ_ADD(&e.v[RXQ], { a, 4, 1 });
	CHECK_EQ(rx(&e, "hey"), 3);
	CHECK(fvq_get_used(&e.v[RXQ], &u) && u.id == h && u.len == 0);
	CHECK(fvq_get_used(&e.v[RXQ], &u) && u.len == 3);
	CHECK(!(status(&e) & VIRTIO_STATUS_NEEDS_RESET));
	teardown(&e);
}

int main(void)
{
	/* As in main.c: a closed reader is an EPIPE, not a death. */
	signal(SIGPIPE, SIG_IGN);
	RUN(test_id_features_config);
	RUN(test_tx_multi_buffer_byte_exact);
	RUN(test_tx_broken_pipe);
	RUN(test_tx_stalled_reader);
	RUN(test_tx_discarded_without_fd);
	RUN(test_rx_fills_posted_buffers);
	RUN(test_rx_room_after_short_receive);
	RUN(test_rx_waits_for_probe_end);
	RUN(test_tx_writable_buffer_needs_reset);
	RUN(test_rx_readable_buffer_needs_reset);
	RUN(test_buffers_outside_memory_need_reset);
	RUN(test_rx_empty_chain_returned);
	virtio_console_destroy(NULL);
	return CHECK_DONE();
}
