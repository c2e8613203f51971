/* fuzz_virtio_mmio: the virtio-mmio transport (devices/virtio/mmio.c) under
 * any sequence of register reads and writes, of any size and alignment,
 * in any order, then kicks.  The device behind it is the real virtio-rng
 * or a small fake one with an odd-sized config space, three queues and a
 * few feature bits of its own (input byte 0 picks).
 *
 * Ops (op byte % 10): a 32-bit write to a register from the table with a
 * value that is often meaningful (a ring address, a queue size, the next
 * status bit); an access of any size anywhere in the window; ring set-up
 * for one queue without making it ready; kicks; and the fake driver's
 * generic ops (chains, restarts, raw ring writes; fuzz_common.h).
 *
 * Checks: config callbacks only see accesses inside config space; the
 * device is notified only while DRIVER_OK, not stopped, for a ready queue
 * it has; status only moves as virtio 1.2 3.1.1 allows (one bit at a time
 * in order, FAILED and NEEDS_RESET added, 0 resets); FEATURES_OK implies
 * offered features with VERSION_1; a ready queue has valid rings; and the
 * used-ring checks of fuzz_common.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_common.h"
#include "virtio_rng.h"

/* ---- the fake device ------------------------------------------------ */

#define FAKE_CFG	13
#define FAKE_FEATURES	((1ULL << 0) | (1ULL << 5) | (1ULL << 40))

struct fake {
	struct virtio_dev dev;
	uint8_t cfg[FAKE_CFG];
	struct virtq_chain chain;
	uint8_t buf[512];
};

static uint64_t fake_features(struct virtio_dev *d)
{
	(void)d;
	return FAKE_FEATURES;
}

static void fake_config_read(struct virtio_dev *d, uint32_t off, void *data,
			     unsigned len)
{
	struct fake *fk = d->priv;

	FZ_CHECK(len == 1 || len == 2 || len == 4);
	FZ_CHECK(off <= FAKE_CFG && len <= FAKE_CFG - off);
	memcpy(data, fk->cfg + off, len);
}

static void fake_config_write(struct virtio_dev *d, uint32_t off,
			      const void *data, unsigned len)
{
	struct fake *fk = d->priv;

	FZ_CHECK(len == 1 || len == 2 || len == 4);
	FZ_CHECK(off <= FAKE_CFG && len <= FAKE_CFG - off);
	memcpy(fk->cfg + off, data, len);
}

static int fake_activate(struct virtio_dev *d)
{
	struct fake *fk = d->priv;

	FZ_CHECK(d->status & VIRTIO_STATUS_FEATURES_OK);
	/* The driver wrote config byte 12 = 0xee: refuse to start. */
	return fk->cfg[12] == 0xee ? -1 : 0;
}

static void fake_queue_notify(struct virtio_dev *d, unsigned qi)
{
	struct fake *fk = d->priv;
	struct virtq *q;
	int pushed = 0;

	FZ_CHECK(qi < d->ops->nr_queues);
	FZ_CHECK(d->status & VIRTIO_STATUS_DRIVER_OK);
	FZ_CHECK(!(d->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)));
	q = &d->vq[qi];
	FZ_CHECK(q->ready);
	while (!(d->status & VIRTIO_STATUS_NEEDS_RESET)) {
		int e = virtq_pop(q, &fk->chain);
		long n;

		if (e == VIRTQ_EMPTY)
			break;
		if (e < 0) {
			virtio_set_needs_reset(d, "bad chain");
			break;
		}
		/* An echo device: what came in goes back out. */
		n = virtq_chain_read(q, &fk->chain, 0, fk->buf, sizeof(fk->buf));
		FZ_CHECK(n >= 0);
		if (n > (long)fk->chain.in_len)
			n = (long)fk->chain.in_len;
		FZ_CHECK(virtq_chain_write(q, &fk->chain, 0, fk->buf, (size_t)n) == n);
		FZ_CHECK(virtq_push(q, fk->chain.head, (uint32_t)n) == VIRTQ_OK);
		pushed = 1;
	}
	if (pushed)
		virtio_notify_used(d, qi);
}

static void fake_reset(struct virtio_dev *d)
{
	FZ_CHECK(d->status == 0);
}

static const struct virtio_dev_ops fake_ops = {
	.name = "fake",
	.device_id = 42,
	.nr_queues = 3,
	.queue_max = 16,
	.features = fake_features,
	.config_size = FAKE_CFG,
	.config_read = fake_config_read,
	.config_write = fake_config_write,
	.activate = fake_activate,
	.queue_notify = fake_queue_notify,
	.reset = fake_reset,
};

/* ---- status transitions -------------------------------------------- */

static void check_status(uint32_t prev, uint32_t now)
{
	const uint32_t order[4] = { VIRTIO_STATUS_ACKNOWLEDGE, VIRTIO_STATUS_DRIVER,
				    VIRTIO_STATUS_FEATURES_OK,
				    VIRTIO_STATUS_DRIVER_OK };
	const uint32_t known = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK |
			       VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED;
	uint32_t added = now & ~prev, seq = 0;

	FZ_CHECK(!(now & ~known));
	/* The progress bits are always a prefix of the order. */
	for (unsigned i = 0; i < 4; i++) {
		if (now & order[i]) {
			FZ_CHECK(seq == i);
			seq++;
		}
	}
	if (now == 0 || now == prev)
		return;
	/* Otherwise bits are only added: at most one progress bit. */
	FZ_CHECK(!(prev & ~now));
	added &= ~(VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED);
	FZ_CHECK(!(added & (added - 1)));
}

static void watch(struct driver *dr)
{
	check_status(dr->prev_status, dr->d->status);
	dr->prev_status = dr->d->status;
}

/* ---- ops ------------------------------------------------------------ */

static const uint16_t regs[] = {
	VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_VERSION, VIRTIO_MMIO_DEVICE_ID,
	VIRTIO_MMIO_VENDOR_ID, VIRTIO_MMIO_DEVICE_FEATURES,
	VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES,
	VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_QUEUE_SEL,
	VIRTIO_MMIO_QUEUE_NUM_MAX, VIRTIO_MMIO_QUEUE_NUM, VIRTIO_MMIO_QUEUE_READY,
	VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_MMIO_INTERRUPT_STATUS,
	VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_STATUS,
	VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH,
	VIRTIO_MMIO_QUEUE_DRIVER_LOW, VIRTIO_MMIO_QUEUE_DRIVER_HIGH,
	VIRTIO_MMIO_QUEUE_DEVICE_LOW, VIRTIO_MMIO_QUEUE_DEVICE_HIGH,
	VIRTIO_MMIO_SHM_SEL, VIRTIO_MMIO_SHM_LEN_LOW, VIRTIO_MMIO_SHM_BASE_LOW,
	VIRTIO_MMIO_CONFIG_GENERATION, VIRTIO_MMIO_CONFIG,
	VIRTIO_MMIO_CONFIG + 4, VIRTIO_MMIO_CONFIG + 8, VIRTIO_MMIO_CONFIG + 12,
};

/* A value worth writing: raw, small, a ring address, the next status. */
static uint32_t pick_value(struct driver *dr, struct fz *f)
{
	uint8_t k = fz_u8(f);
	const struct dr_queue *q = &dr->q[fz_u8(f) % dr->nq];
	uint32_t s = dr->d->status & ~VIRTIO_STATUS_NEEDS_RESET;

	switch (k % 8) {
	case 0:
		return fz_u32(f);
	case 1:
		return k >> 3;
	case 2:
		return (uint32_t)q->v.desc;
	case 3:
		return (uint32_t)q->v.avail;
	case 4:
		return (uint32_t)q->v.used;
	case 5:	/* the next status step */
		return s == 0 ? VIRTIO_STATUS_ACKNOWLEDGE :
		       s == 1 ? 3 : s == 3 ? 11 : s == 11 ? 15 : s;
	case 6:
		return (uint32_t)(DR_BASE >> 32);
	default:
		return 1u << (k >> 3);
	}
}

/* Rings for queue qi laid out and programmed, not made ready. */
static void rings(struct driver *dr, struct fz *f)
{
	unsigned qi = fz_u8(f) % dr->nq;
	uint16_t size = (uint16_t)(1u << (fz_u8(f) % 9));
	struct dr_queue *q = &dr->q[qi];

	if (dr->m.next - DR_BASE + 16 * 256 + 600 + 2100 + 64 > DR_MEM0)
		return;
	memset(q, 0, sizeof(*q));
	fvq_init(&q->v, &dr->m, size, NULL);
	for (unsigned k = 0; k < size; k++)
		q->free[q->nfree++] = (uint16_t)(size - 1 - k);
	dr->started = 1;	/* rings exist: chains may be added */
	dr->tainted = 1;	/* but the driver may misuse them */
	dr_w32(dr, VIRTIO_MMIO_QUEUE_SEL, qi);
	dr_w32(dr, VIRTIO_MMIO_QUEUE_NUM, size);
	dr_w32(dr, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->v.desc);
	dr_w32(dr, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->v.desc >> 32));
	dr_w32(dr, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q->v.avail);
	dr_w32(dr, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(q->v.avail >> 32));
	dr_w32(dr, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q->v.used);
	dr_w32(dr, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(q->v.used >> 32));
}

static void run_op(struct driver *dr, struct fz *f)
{
	static const unsigned lens[8] = { 1, 2, 4, 8, 3, 0, 4, 4 };
	uint8_t op = fz_u8(f);
	uint8_t b[16];

	switch (op % 10) {
	case 0:
	case 1: {	/* a register write that means something */
		uint8_t r = fz_u8(f);

		dr_w32(dr, regs[r % (sizeof(regs) / sizeof(regs[0]))],
		       pick_value(dr, f));
		dr->tainted = 1;
		dr_reap_all(dr);
		break;
	}
	case 2: {	/* any access: size, offset and direction */
		uint16_t off = fz_u16(f) % (VIRTIO_MMIO_SIZE + 0x40);
		uint8_t k = fz_u8(f);
		unsigned len = lens[k & 7];

		fz_take(f, b, 8);
		memset(b + 8, 0, 8);
		if (k & 0x80) {
			virtio_mmio_ops.write(dr->d, off, b, len);
			watch(dr);
			dr->tainted = 1;
			dr_reap_all(dr);
		} else {
			virtio_mmio_ops.read(dr->d, off, b, len);
		}
		break;
	}
	case 3: {	/* a register read */
		uint8_t r = fz_u8(f);

		dr_r32(dr, regs[r % (sizeof(regs) / sizeof(regs[0]))]);
		break;
	}
	case 4:
		rings(dr, f);
		break;
	default:	/* chains, kicks, restarts, raw ring writes */
		dr_op(dr, f, fz_u8(f));
		break;
	}
}

static struct driver dr;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct virtio_rng *rng = NULL;
	struct fake *fk = NULL;
	struct fvq_irq irq = { 0 };
	struct irq_line line = fvq_irq_line(&irq, 5);
	struct virtio_dev *d;
	unsigned ops = 0;

	dr_mem_init(&dr);
	if (fz_u8(&f) & 1) {
		fk = calloc(1, sizeof(*fk));
		if (!fk)
			abort();
		virtio_dev_init(&fk->dev, &fake_ops, fk, &dr.m.gm, &line);
		d = &fk->dev;
		dr_init(&dr, d, FAKE_FEATURES);
	} else {
		rng = virtio_rng_create(&dr.m.gm, &line);
		if (!rng)
			abort();
		d = virtio_rng_dev(rng);
		dr_init(&dr, d, 0);
	}
	dr.watch = watch;
	while (f.n && ops++ < 512) {
		run_op(&dr, &f);
		dr_check(&dr);
	}
	/* Then every queue kicked, the bad index too. */
	for (unsigned q = 0; q <= d->ops->nr_queues; q++)
		dr_kick(&dr, q);
	dr_check(&dr);

	if (fk) {
		pthread_mutex_destroy(&fk->dev.lock);
		free(fk);
	}
	virtio_rng_destroy(rng);
	dr_mem_free(&dr);
	return 0;
}
