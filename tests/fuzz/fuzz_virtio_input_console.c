/* fuzz_virtio_input_console: virtio-input (devices/virtio/input.c) and
 * virtio-console (devices/virtio/console.c) from a negotiated driver.
 *
 * Input byte 0 picks the device: a keyboard, a tablet or the console
 * (then byte 1 its output: /dev/null, a 4 KiB pipe drained only by an
 * op, or a pipe without a reader).  Then the driver's start
 * (fuzz_common.h dr_start) and ops (op % 12):
 *   input:   config select/subsel writes and reads of the whole config
 *            space; eventq buffers (mostly 8 writable bytes, sometimes
 *            anything); statusq events; host events through the sink
 *            (keys, pointer, SYN_REPORT groups, raw triples; floods that
 *            overflow the backlog); kicks
 *   console: receiveq buffers; transmitq chains of input bytes (out_fd
 *            is /dev/null); host input through virtio_console_receive;
 *            terminal resizes; kicks; draining the output pipe
 *   both:    the generic driver ops (restarts, raw ring writes, ...)
 *
 * Checks besides the sanitizers and the used ring: the config size byte
 * is at most 128 and nothing past it is non-zero; the host-side backlog
 * stays within VIRTIO_INPUT_QUEUE_EVENTS; every used eventq buffer holds
 * exactly one 8-byte event, and the events the guest gets follow the
 * rules of virtio_input.h (in order, whole SYN_REPORT groups, a started
 * group never cut short but by a reset: see check_event); and
 * virtio_console_receive takes no more than it was given, and the used
 * receive buffers hold exactly those bytes, in order.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz_common.h"
#include "virtio_console.h"
#include "virtio_input.h"

static struct driver dr;
static int devnull = -1;
static int out_pipe[2] = { -1, -1 };	/* a 4 KiB pipe for console output */
static unsigned rx_rooms;
static const uint8_t zeroes[64];	/* readable bytes where none belong */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0)
		abort();
	signal(SIGPIPE, SIG_IGN);	/* as main() does */
	return 0;
}

/* ---- config space -------------------------------------------------------- */

static void config_rw(struct fz *f, int input)
{
	static const uint8_t selects[] = {
		VIRTIO_INPUT_CFG_UNSET, VIRTIO_INPUT_CFG_ID_NAME,
		VIRTIO_INPUT_CFG_ID_SERIAL, VIRTIO_INPUT_CFG_ID_DEVIDS,
		VIRTIO_INPUT_CFG_PROP_BITS, VIRTIO_INPUT_CFG_EV_BITS,
		VIRTIO_INPUT_CFG_ABS_INFO,
	};
	static const unsigned lens[4] = { 1, 2, 4, 8 };
	uint8_t k = fz_u8(f), cfg[VIRTIO_INPUT_CFG_SIZE + 8];
	uint8_t b[8] = { 0 };

	if (input && (k & 3) == 0) {
		/* What Linux does: select, subsel, then size and union. */
		uint8_t sel = fz_u8(f), sub = fz_u8(f);

		b[0] = sel < 0xe0 ? selects[sel % sizeof(selects)] : sel;
		virtio_mmio_ops.write(dr.d, VIRTIO_MMIO_CONFIG + VIRTIO_INPUT_CFG_SELECT,
				      b, 1);
		b[0] = sub < 0xe0 ? sub % 0x20 : sub;
		virtio_mmio_ops.write(dr.d, VIRTIO_MMIO_CONFIG + VIRTIO_INPUT_CFG_SUBSEL,
				      b, 1);
		for (unsigned off = 0; off < VIRTIO_INPUT_CFG_SIZE; off += 4)
			virtio_mmio_ops.read(dr.d, VIRTIO_MMIO_CONFIG + off, cfg + off, 4);
		/* 5.8.5: size bytes of the union are valid; no more fit. */
		FZ_CHECK(cfg[VIRTIO_INPUT_CFG_SIZE_OFF] <= VIRTIO_INPUT_CFG_UNION_SIZE);
		for (unsigned i = cfg[VIRTIO_INPUT_CFG_SIZE_OFF];
		     i < VIRTIO_INPUT_CFG_UNION_SIZE; i++)
			FZ_CHECK(cfg[VIRTIO_INPUT_CFG_UNION + i] == 0);
		return;
	}
	/* Any access at any config offset (some past the end). */
	{
		uint64_t off = VIRTIO_MMIO_CONFIG + fz_u8(f) % (VIRTIO_INPUT_CFG_SIZE + 16);
		unsigned len = lens[(k >> 2) & 3];

		fz_take(f, b, 8);
		if (k & 0x10)
			virtio_mmio_ops.write(dr.d, off, b, len);
		else
			virtio_mmio_ops.read(dr.d, off, b, len);
	}
}

/* ---- virtio-input ---------------------------------------------------------- */

/* Every host event carries its sequence number as its value (the device
 * only copies values), so each event the guest gets names the one sent;
 * the order and group rules of virtio_input.h are then checked exactly:
 * events arrive in order, only from groups closed by a SYN_REPORT, and a
 * group is either skipped whole (backlog overflow) or, once started,
 * continued - until a device reset, which may drop what is queued. */
#define MAX_SENT 16384

static struct {
	uint16_t type, code;
} sent[MAX_SENT];
static unsigned nsent, closed_upto;	/* events sent; [0, closed_upto) closed */
static long last_got;			/* sequence number of the last event seen */
static int mid_group;			/* the last event seen was not a SYN */
static int lost;			/* an event went where we cannot read it */

static int sent_syn(unsigned k)
{
	return sent[k].type == EV_SYN && sent[k].code == SYN_REPORT;
}

static void send(struct input_sink *s, uint16_t type, uint16_t code)
{
	if (nsent == MAX_SENT)
		return;
	sent[nsent].type = type;
	sent[nsent].code = code;
	if (sent_syn(nsent))
		closed_upto = nsent + 1;
	nsent++;
	input_send(s, type, code, (int32_t)(nsent - 1));
}

static void check_event(struct driver *d, unsigned qi, uint32_t id, uint32_t len)
{
	uint8_t b[8];
	uint16_t type, code;
	uint32_t k;

	if (qi != VIRTIO_INPUT_EVENTQ)
		return;
	FZ_CHECK(len == 8);
	if (lost || dr_gather(d, qi, id, b, 8) < 0) {
		lost = 1;
		return;
	}
	memcpy(&type, b, 2);
	memcpy(&code, b + 2, 2);
	memcpy(&k, b + 4, 4);
	type = le16toh(type);
	code = le16toh(code);
	k = le32toh(k);
	FZ_CHECK(k < nsent && sent[k].type == type && sent[k].code == code);
	FZ_CHECK(k < closed_upto);		/* only closed groups */
	FZ_CHECK((long)k > last_got);		/* in order, each once */
	if (mid_group)				/* a started group goes on */
		FZ_CHECK(k == last_got + 1);
	else					/* or a whole group starts */
		FZ_CHECK(k == 0 || sent_syn(k - 1));
	last_got = k;
	mid_group = !sent_syn(k);
}

/* A reset may drop the rest of a group the guest saw the start of. */
static void watch_reset(struct driver *d)
{
	if (d->d->status == 0) {
		mid_group = 0;
		lost = 0;
	}
}

static void host_events(struct fz *f, struct input_sink *s)
{
	unsigned n = 1 + fz_u8(f) % 16;

	for (unsigned i = 0; i < n; i++) {
		uint8_t k = fz_u8(f);

		switch (k % 6) {
		case 0:
		case 1:
			send(s, EV_KEY, fz_u8(f));
			break;
		case 2:
			send(s, EV_ABS, (k >> 3) & 1 ? ABS_Y : ABS_X);
			fz_u16(f);	/* the value: a sequence number instead */
			break;
		case 3:
		case 4:
			send(s, EV_SYN, SYN_REPORT);
			break;
		default: {
			uint16_t type = fz_u16(f), code = fz_u16(f);

			fz_u32(f);	/* the value: a sequence number instead */
			send(s, type, code);
			break;
		}
		}
	}
}

static void run_input(struct fz *f, uint8_t op, struct virtio_input *in,
		      struct input_sink *sink)
{
	struct dr_queue *evq = &dr.q[VIRTIO_INPUT_EVENTQ];
	uint64_t before;

	switch (op % 12) {
	case 0:
	case 1:
		config_rw(f, 1);
		break;
	case 2:
	case 3: {	/* eventq buffers */
		uint8_t k = fz_u8(f), n = 1 + fz_u8(f) % 8;

		for (unsigned i = 0; i < n; i++) {
			if (k < 0xe0) {
				struct dr_buf b;

				if (dr_buf_put(&dr, f, &b, 8, 1))
					break;
				dr_chain(&dr, VIRTIO_INPUT_EVENTQ, &b, 1, k & 1);
			} else {
				uint8_t layout = fz_u8(f), out = fz_u8(f) % 4;

				dr_request(&dr, VIRTIO_INPUT_EVENTQ, layout, zeroes,
					   out, fz_u8(f) % 24);
			}
		}
		if (k & 2) {
			before = evq->used_bytes;
			dr_kick(&dr, VIRTIO_INPUT_EVENTQ);
			/* One 8-byte event per used buffer (what a tainted
			 * driver reads from its used ring may be its own
			 * garbage: a poked used idx or len). */
			FZ_CHECK(dr.tainted || (evq->used_bytes - before) % 8 == 0);
		}
		break;
	}
	case 4: {	/* statusq: LED events */
		uint8_t ev[16] = { EV_LED, 0, 0, 0, 1, 0, 0, 0 };
		uint8_t k = fz_u8(f), layout;
		uint32_t len = 8;

		ev[2] = k & 7;
		if (k & 0x80)
			fz_take(f, ev, 8);
		layout = fz_u8(f);
		if (k & 0x40)
			len = fz_u8(f) % 16;
		dr_request(&dr, VIRTIO_INPUT_STATUSQ, layout, ev, len,
			   k & 0x20 ? 8 : 0);
		dr_kick(&dr, VIRTIO_INPUT_STATUSQ);
		break;
	}
	case 5:
	case 6:
	case 7:
		before = evq->used_bytes;
		host_events(f, sink);
		dr_reap_all(&dr);
		FZ_CHECK(dr.tainted || (evq->used_bytes - before) % 8 == 0);
		break;
	case 8:
		dr_kick(&dr, fz_u8(f) % 3);
		break;
	case 9: {	/* a flood: groups every `every` events, or none */
		uint16_t n = fz_u16(f) % 700;
		uint8_t every = fz_u8(f) % 64, code = fz_u8(f);

		before = evq->used_bytes;
		for (unsigned i = 0; i < n; i++) {
			if (every && i % every == every - 1)
				send(sink, EV_SYN, SYN_REPORT);
			else
				send(sink, EV_KEY, (uint16_t)(code + i / 2));
		}
		dr_reap_all(&dr);
		FZ_CHECK(dr.tainted || (evq->used_bytes - before) % 8 == 0);
		break;
	}
	default:
		dr_op(&dr, f, fz_u8(f));
		break;
	}
	FZ_CHECK(virtio_input_pending(in) <= VIRTIO_INPUT_QUEUE_EVENTS);
}

/* ---- virtio-console ----------------------------------------------------------- */

static void rx_room(void *ctx)
{
	(void)ctx;
	rx_rooms++;
}

/* Host input taken by the last virtio_console_receive, which the used
 * receive buffers must hold, in order. */
static const uint8_t *rx_expect;
static size_t rx_expect_len, rx_pos;

static void check_rx(struct driver *d, unsigned qi, uint32_t id, uint32_t len)
{
	static uint8_t got[8192];

	if (qi != VIRTIO_CONSOLE_RXQ)
		return;
	FZ_CHECK(rx_expect && len <= rx_expect_len - rx_pos && len <= sizeof(got));
	if (dr_gather(d, qi, id, got, len) == 0) {
		if (fz_trace()) {
			fprintf(stderr, "fuzz: rx id %u: %u bytes:", id, len);
			for (uint32_t i = 0; i < len; i++)
				fprintf(stderr, " %02x/%02x", got[i], rx_expect[rx_pos + i]);
			fprintf(stderr, " (got/expected)\n");
		}
		FZ_CHECK(!memcmp(got, rx_expect + rx_pos, len));
	}
	rx_pos += len;
}

static void run_console(struct fz *f, uint8_t op, struct virtio_console *c)
{
	struct dr_queue *rxq = &dr.q[VIRTIO_CONSOLE_RXQ];

	switch (op % 12) {
	case 0:
	case 1: {	/* receive buffers */
		uint8_t k = fz_u8(f), n = 1 + fz_u8(f) % 4;

		for (unsigned i = 0; i < n; i++) {
			uint8_t layout = fz_u8(f);
			uint32_t out = k & 0x80 ? fz_u8(f) % 8 : 0;
			uint32_t room = k & 0x40 ? fz_u16(f) % 8192 : 1u + fz_u8(f);

			dr_request(&dr, VIRTIO_CONSOLE_RXQ, layout, zeroes, out, room);
		}
		if (k & 1)
			dr_kick(&dr, VIRTIO_CONSOLE_RXQ);
		break;
	}
	case 2:
	case 3: {	/* output */
		static uint8_t out[8192];
		uint8_t k = fz_u8(f);
		uint32_t len = k & 0x80 ? fz_u16(f) % sizeof(out) : fz_u8(f);
		uint8_t layout;

		fz_take(f, out, len);
		layout = fz_u8(f);
		dr_request(&dr, VIRTIO_CONSOLE_TXQ, layout, out, len,
			   k & 0x40 ? fz_u8(f) % 8 : 0);
		if (!(k & 1))
			dr_kick(&dr, VIRTIO_CONSOLE_TXQ);
		break;
	}
	case 4:
	case 5: {	/* host input */
		static uint8_t in[4096];
		uint32_t len = fz_u16(f) % sizeof(in);
		uint64_t before;
		int tainted = dr.tainted;
		size_t taken;

		fz_take(f, in, len);
		/* Whatever is still to be reaped from before is not ours. */
		rx_expect = NULL;
		dr_reap_all(&dr);
		before = rxq->used_bytes;
		taken = virtio_console_receive(c, in, len);
		FZ_CHECK(taken <= len);
		rx_expect = in;
		rx_expect_len = taken;
		rx_pos = 0;
		dr_reap_all(&dr);
		rx_expect = NULL;
		if (!tainted && !dr.tainted)
			FZ_CHECK(rxq->used_bytes - before == taken &&
				 rx_pos == taken);
		break;
	}
	case 6: {
		uint16_t cols = fz_u16(f);

		virtio_console_set_size(c, cols, fz_u16(f));
		break;
	}
	case 7:
		config_rw(f, 0);
		break;
	case 8:
		dr_kick(&dr, fz_u8(f) % 3);
		break;
	case 9:		/* the reader catches up */
		if (out_pipe[0] >= 0) {
			static uint8_t sink[4096];

			while (read(out_pipe[0], sink, sizeof(sink)) > 0)
				;
		}
		break;
	default:
		dr_op(&dr, f, fz_u8(f));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct fvq_irq irq = { 0 };
	struct irq_line line = fvq_irq_line(&irq, 7);
	uint8_t which = fz_u8(&f) % 3;
	struct virtio_input *in = NULL;
	struct virtio_console *con = NULL;
	struct input_sink sink = { 0 };
	unsigned ops = 0;

	dr_mem_init(&dr);
	if (which < 2) {
		in = virtio_input_create(&dr.m.gm, &line,
					 which ? VIRTIO_INPUT_TABLET :
						 VIRTIO_INPUT_KEYBOARD);
		if (!in)
			abort();
		sink = virtio_input_sink(in);
		dr_init(&dr, virtio_input_dev(in), 0);
		dr.on_used = check_event;
		dr.watch = watch_reset;
		nsent = closed_upto = 0;
		last_got = -1;
		mid_group = lost = 0;
	} else {
		/* Output to /dev/null, to a 4 KiB pipe read only by op 9, or
		 * to a pipe nobody will ever read (EPIPE). */
		uint8_t mode = fz_u8(&f) % 3;
		int out = devnull;

		if (mode) {
			if (pipe2(out_pipe, O_CLOEXEC) < 0)
				abort();
			fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
			fcntl(out_pipe[1], F_SETPIPE_SZ, 4096);
			if (mode == 2) {
				close(out_pipe[0]);
				out_pipe[0] = -1;
			}
			out = out_pipe[1];
		}
		con = virtio_console_create(&dr.m.gm, &line, out);
		if (!con)
			abort();
		con->rx_room = rx_room;
		con->tx_timeout_ms = 10;
		dr_init(&dr, virtio_console_dev(con), 1ULL << VIRTIO_CONSOLE_F_SIZE);
		dr.on_used = check_rx;
		rx_expect = NULL;
	}
	dr_start(&dr, &f);
	if (con)	/* as Linux's probe: the size, once DRIVER_OK is set */
		dr_r32(&dr, VIRTIO_MMIO_CONFIG);
	while (f.n && ops++ < 256) {
		uint8_t op = fz_u8(&f);

		if (in)
			run_input(&f, op, in, &sink);
		else
			run_console(&f, op, con);
		dr_check(&dr);
	}
	virtio_input_destroy(in);
	virtio_console_destroy(con);
	for (int i = 0; i < 2; i++) {
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
		out_pipe[i] = -1;
	}
	dr_mem_free(&dr);
	return 0;
}
