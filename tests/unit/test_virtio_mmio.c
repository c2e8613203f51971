/* virtio-mmio transport: a fake device driven only through the register
 * block, as Linux's virtio_mmio driver would drive it - identification,
 * feature negotiation over both words, the status state machine, queue
 * set-up and kicks, config space bounds, interrupt status, the
 * needs-reset path - plus the device's DSDT entry. */
#include <errno.h>
#include <pthread.h>
#include "aml.h"
#include "check.h"
#include "fake_virtq.h"

#define FAKE_ID		42
#define FAKE_QUEUES	2
#define FAKE_QMAX	16
#define FAKE_CFG_SIZE	12
#define FAKE_FEATURES	((1ULL << 5) | (1ULL << 40))	/* one per word */

struct fake_dev {
	uint8_t config[FAKE_CFG_SIZE];
	unsigned cfg_reads, cfg_writes, last_cfg_len;
	unsigned resets, activates, polls;
	int activate_ret;
	unsigned notifies[FAKE_QUEUES];
	int unlocked_call;	/* a callback ran without d->lock */
	int out_of_range;	/* a config access past config_size got by */
};

static struct fvq_mem m;
static struct fvq v[FAKE_QUEUES];
static struct fvq_irq irq;
static struct fake_dev fd;
static struct virtio_dev d;

static void check_locked(struct virtio_dev *dev)
{
	if (pthread_mutex_trylock(&dev->lock) != EBUSY) {
		fd.unlocked_call = 1;
		pthread_mutex_unlock(&dev->lock);
	}
}

static uint64_t fake_features(struct virtio_dev *dev)
{
	(void)dev;
	return FAKE_FEATURES;
}

static void fake_config_read(struct virtio_dev *dev, uint32_t off, void *data,
			     unsigned len)
{
	check_locked(dev);
	fd.cfg_reads++;
	fd.last_cfg_len = len;
	if (off + len > FAKE_CFG_SIZE) {	/* the transport's job */
		fd.out_of_range = 1;
		return;
	}
	memcpy(data, fd.config + off, len);
}

static void fake_config_write(struct virtio_dev *dev, uint32_t off,
			      const void *data, unsigned len)
{
	check_locked(dev);
	fd.cfg_writes++;
	fd.last_cfg_len = len;
	if (off + len > FAKE_CFG_SIZE) {
		fd.out_of_range = 1;
		return;
	}
	memcpy(fd.config + off, data, len);
}

static int fake_activate(struct virtio_dev *dev)
{
	check_locked(dev);
	fd.activates++;
	return fd.activate_ret;
}

/* An echo device: each chain's readable bytes come back in its writable
 * buffers; a malformed chain stops the device. */
static void fake_queue_notify(struct virtio_dev *dev, unsigned qi)
{
	struct virtq *q = &dev->vq[qi];
	struct virtq_chain c;
	uint8_t buf[256];
	int r;

	check_locked(dev);
	fd.notifies[qi]++;
	while ((r = virtq_pop(q, &c)) == VIRTQ_OK) {
		long n = virtq_chain_read(q, &c, 0, buf, sizeof(buf));

		n = n < 0 ? 0 : virtq_chain_write(q, &c, 0, buf, (size_t)n);
		virtq_push(q, c.head, n < 0 ? 0 : (uint32_t)n);
	}
	if (r != VIRTQ_EMPTY) {
		virtio_set_needs_reset(dev, "malformed chain");
		return;
	}
	virtio_notify_used(dev, qi);
}

static void fake_reset(struct virtio_dev *dev)
{
	check_locked(dev);
	fd.resets++;
}

static void fake_poll_ready(struct virtio_dev *dev)
{
	check_locked(dev);
	fd.polls++;
}

static const struct virtio_dev_ops fake_ops = {
	.name = "virtio-fake",
	.device_id = FAKE_ID,
	.nr_queues = FAKE_QUEUES,
	.queue_max = FAKE_QMAX,
	.features = fake_features,
	.config_size = FAKE_CFG_SIZE,
	.config_read = fake_config_read,
	.config_write = fake_config_write,
	.activate = fake_activate,
	.queue_notify = fake_queue_notify,
	.reset = fake_reset,
	.poll_ready = fake_poll_ready,
};

/* A fresh device on GSI 20 with rings for both queues laid out. */
static void setup(void)
{
	struct irq_line line = fvq_irq_line(&irq, 20);

	fvq_mem_free(&m);
	fvq_mem_init(&m, 0x100000, 1 << 20);
	irq = (struct fvq_irq){ 0 };
	fd = (struct fake_dev){ 0 };
	for (unsigned i = 0; i < FAKE_CFG_SIZE; i++)
		fd.config[i] = (uint8_t)(0xa0 + i);
	virtio_dev_init(&d, &fake_ops, &fd, &m.gm, &line);
	for (unsigned i = 0; i < FAKE_QUEUES; i++)
		fvq_init(&v[i], &m, 8, NULL);
}

static uint32_t rd(uint64_t off)
{
	return fvq_mmio_read(&d, off);
}

static void wr(uint64_t off, uint32_t val)
{
	fvq_mmio_write(&d, off, val);
}

static void set_driver_features(uint64_t f)
{
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

/* The echo request every working device answers. */
static void check_echo(unsigned qi)
{
	uint64_t out = fvq_put(&m, "ping", 4), in = fvq_alloc(&m, 8, 8);
	uint16_t head = FVQ_ADD(&v[qi], { out, 4, 0 }, { in, 8, 1 });
	struct fvq_used u;

	fvq_kick(&d, qi);
	CHECK_EQ(fvq_get_used(&v[qi], &u), 1);
	CHECK_EQ(u.id, head);
	CHECK_EQ(u.len, 4);
	CHECK(!memcmp(fvq_ptr(&m, in, 4), "ping", 4));
}

TEST(identification)
{
	setup();
	CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	CHECK_EQ(rd(VIRTIO_MMIO_VERSION), 2);
	CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_ID), FAKE_ID);
	CHECK_EQ(rd(VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	CHECK_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
	for (uint32_t sel = 0; sel < 4; sel++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, sel);
		CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX),
			 sel < FAKE_QUEUES ? FAKE_QMAX : 0);
		CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	}
	/* Linux reads a shared-memory length of -1 as "no such region". */
	CHECK_EQ(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	CHECK_EQ(rd(VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	/* Write-only and reserved registers read 0. */
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NOTIFY), 0);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	CHECK_EQ(rd(0x0f0), 0);
	CHECK_EQ(fd.unlocked_call, 0);
}

TEST(device_features_both_words)
{
	setup();
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES),
		 (1u << 5) | (1u << VIRTIO_F_RING_INDIRECT_DESC) |
		 (1u << VIRTIO_F_RING_EVENT_IDX));
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES),
		 (1u << (VIRTIO_F_VERSION_1 - 32)) | (1u << (40 - 32)));
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
	CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
}

TEST(feature_negotiation)
{
	const uint64_t want = (1ULL << 5) | (1ULL << 40) |
			      (1ULL << VIRTIO_F_RING_EVENT_IDX) |
			      (1ULL << VIRTIO_F_VERSION_1);

	setup();
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	set_driver_features(want);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);		/* no third word */
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	CHECK(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	CHECK_EQ(d.driver_features, want);
	CHECK(virtio_has_feature(&d, 5));
	CHECK(virtio_has_feature(&d, 40));
	CHECK(virtio_has_feature(&d, VIRTIO_F_VERSION_1));
	CHECK(!virtio_has_feature(&d, VIRTIO_F_RING_INDIRECT_DESC));
	CHECK(!virtio_has_feature(&d, 64));
	CHECK(!virtio_has_feature(&d, 1000));
	CHECK_EQ(d.vq[0].event_idx, 1);
	CHECK_EQ(d.vq[0].indirect, 0);
	/* Final after FEATURES_OK. */
	set_driver_features(want | (1ULL << VIRTIO_F_RING_INDIRECT_DESC));
	set_driver_features(0);
	CHECK_EQ(d.driver_features, want);
	CHECK_EQ(d.vq[1].indirect, 0);
}

static void try_features(uint64_t f)
{
	setup();
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	set_driver_features(f);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
}

TEST(unoffered_features_refused)
{
	const uint64_t v1 = 1ULL << VIRTIO_F_VERSION_1;
	const uint64_t bad[] = { 1ULL << 6, 1ULL << 63, 1ULL << 39,
				 1ULL << VIRTIO_F_ACCESS_PLATFORM, ~0ULL };

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		try_features(v1 | bad[i]);
		CHECK_EQ(rd(VIRTIO_MMIO_STATUS),
			 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
		/* Without FEATURES_OK there is no way to DRIVER_OK. */
		wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
		   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		   VIRTIO_STATUS_DRIVER_OK);
		CHECK_EQ(fd.activates, 0);
	}
	/* The driver may try again with an honest set. */
	set_driver_features(v1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	CHECK(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
}

/* A legacy driver (no VERSION_1) is not offered an interface. */
TEST(legacy_driver_refused)
{
	try_features(0);
	CHECK(!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK));
	try_features(1ULL << 5);
	CHECK(!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK));
}

TEST(status_order_enforced)
{
	const uint32_t A = VIRTIO_STATUS_ACKNOWLEDGE, D = VIRTIO_STATUS_DRIVER,
		       F = VIRTIO_STATUS_FEATURES_OK, OK = VIRTIO_STATUS_DRIVER_OK;

	setup();
	wr(VIRTIO_MMIO_STATUS, D);		/* skips ACKNOWLEDGE */
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	wr(VIRTIO_MMIO_STATUS, A | D);		/* two steps at once */
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	wr(VIRTIO_MMIO_STATUS, A);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), A);
	wr(VIRTIO_MMIO_STATUS, A | F);		/* skips DRIVER */
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), A);
	wr(VIRTIO_MMIO_STATUS, A | D);
	set_driver_features(1ULL << VIRTIO_F_VERSION_1);
	wr(VIRTIO_MMIO_STATUS, A | D | OK);	/* skips FEATURES_OK */
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), A | D);
	CHECK_EQ(fd.activates, 0);
	wr(VIRTIO_MMIO_STATUS, A | D | F);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), A | D | F);
	wr(VIRTIO_MMIO_STATUS, A);		/* backwards */
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), A | D | F);
	wr(VIRTIO_MMIO_STATUS, D | F | OK);	/* drops a bit */
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), A | D | F);
	wr(VIRTIO_MMIO_STATUS, A | D | F | OK);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), A | D | F | OK);
	CHECK_EQ(fd.activates, 1);
	wr(VIRTIO_MMIO_STATUS, A | D | F | OK);	/* again: nothing new */
	CHECK_EQ(fd.activates, 1);
	wr(VIRTIO_MMIO_STATUS, A | D | F | OK | 0x10);	/* unknown bit */
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), A | D | F | OK);
	CHECK_EQ(fd.resets, 0);
	CHECK_EQ(fd.unlocked_call, 0);
}

/* FAILED is accepted at any point and stops the device. */
TEST(failed_anytime)
{
	setup();
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_FAILED);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);	/* stuck */
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_FAILED);

	setup();
	CHECK_EQ(fvq_start(&d, v, FAKE_QUEUES, 0), 0);
	wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_FAILED);
	CHECK(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FAILED);
	FVQ_ADD(&v[0], { fvq_put(&m, "x", 1), 1, 0 });
	fvq_kick(&d, 0);
	CHECK_EQ(fd.notifies[0], 0);
	/* Reset, new rings: back in service. */
	for (unsigned i = 0; i < FAKE_QUEUES; i++)
		fvq_init(&v[i], &m, 8, NULL);
	CHECK_EQ(fvq_start(&d, v, FAKE_QUEUES, 0), 0);
	check_echo(0);
}

TEST(reset_clears_everything)
{
	setup();
	CHECK_EQ(fvq_start(&d, v, FAKE_QUEUES,
			   (1ULL << 5) | (1ULL << VIRTIO_F_RING_EVENT_IDX) |
			   (1ULL << VIRTIO_F_RING_INDIRECT_DESC)), 0);
	check_echo(1);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_USED);
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	fd.resets = fd.activates = 0;
	wr(VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(fd.resets, 1);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	CHECK_EQ(d.driver_features, 0);
	CHECK(!virtio_has_feature(&d, 5));
	CHECK_EQ(d.queue_sel, 0);
	CHECK_EQ(d.dev_features_sel, 0);
	CHECK_EQ(d.drv_features_sel, 0);
	for (unsigned i = 0; i < FAKE_QUEUES; i++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, i);
		CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
		CHECK_EQ(d.vq[i].last_avail, 0);
		CHECK_EQ(d.vq[i].used_idx, 0);
		CHECK_EQ(d.vq[i].desc_gpa, 0);
		CHECK_EQ(d.vq[i].event_idx, 0);
		CHECK_EQ(d.vq[i].indirect, 0);
		CHECK(d.vq[i].mem == &m.gm);
	}
	/* Kicks after the reset reach nobody. */
	fvq_kick(&d, 1);
	CHECK_EQ(fd.notifies[1], 1);
	/* The driver sets up new rings and everything works again. */
	for (unsigned i = 0; i < FAKE_QUEUES; i++)
		fvq_init(&v[i], &m, 4, NULL);
	CHECK_EQ(fvq_start(&d, v, FAKE_QUEUES, 0), 0);
	CHECK_EQ(fd.resets, 2);
	CHECK_EQ(fd.activates, 1);
	CHECK_EQ(d.vq[0].size, 4);
	check_echo(0);
	CHECK_EQ(fd.unlocked_call, 0);
}

TEST(queue_setup_and_notify)
{
	setup();
	CHECK_EQ(fvq_start(&d, v, FAKE_QUEUES, 0), 0);
	CHECK_EQ(fd.activates, 1);
	for (unsigned i = 0; i < FAKE_QUEUES; i++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, i);
		CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
		CHECK_EQ(d.vq[i].size, 8);
		CHECK_EQ(d.vq[i].desc_gpa, v[i].desc);
		CHECK_EQ(d.vq[i].avail_gpa, v[i].avail);
		CHECK_EQ(d.vq[i].used_gpa, v[i].used);
	}
	check_echo(0);
	CHECK_EQ(fd.notifies[0], 1);
	CHECK_EQ(fd.notifies[1], 0);
	CHECK_EQ(irq.pulses, 1);
	CHECK_EQ(irq.gsi, 20);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_USED);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_USED);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	check_echo(1);
	CHECK_EQ(fd.notifies[1], 1);
	CHECK_EQ(irq.pulses, 2);
	/* The ioeventfd path: a direct call, same effect. */
	FVQ_ADD(&v[1], { fvq_put(&m, "x", 1), 1, 0 });
	virtio_queue_notify(&d, 1);
	CHECK_EQ(fd.notifies[1], 2);
	CHECK_EQ(irq.pulses, 3);
	/* NO_INTERRUPT (no EVENT_IDX negotiated): used, but no pulse. */
	fvq_set_avail_flags(&v[0], VIRTQ_AVAIL_F_NO_INTERRUPT);
	check_echo(0);
	CHECK_EQ(irq.pulses, 3);
	CHECK_EQ(fd.unlocked_call, 0);
}

TEST(notify_ignored_unless_live)
{
	setup();
	/* Before DRIVER_OK, even for a ready queue. */
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	set_driver_features(1ULL << VIRTIO_F_VERSION_1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)v[0].desc);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)v[0].avail);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)v[0].used);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	fvq_kick(&d, 0);
	CHECK_EQ(fd.notifies[0], 0);
	wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
	/* Queue 1 was never made ready; 2 and beyond do not exist. */
	fvq_kick(&d, 1);
	fvq_kick(&d, 2);
	fvq_kick(&d, VIRTIO_MAX_QUEUES);
	fvq_kick(&d, 0xffffffff);
	virtio_queue_notify(&d, 1000);
	CHECK_EQ(fd.notifies[0] + fd.notifies[1], 0);
	/* A non-32-bit write to QueueNotify is no kick either. */
	uint8_t b = 0;
	virtio_mmio_ops.write(&d, VIRTIO_MMIO_QUEUE_NOTIFY, &b, 1);
	CHECK_EQ(fd.notifies[0], 0);
	fvq_kick(&d, 0);
	CHECK_EQ(fd.notifies[0], 1);
	/* Taken down with QueueReady = 0 (Linux's vm_del_vq). */
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	fvq_kick(&d, 0);
	CHECK_EQ(fd.notifies[0], 1);
}

TEST(queue_registers_locked_while_live)
{
	setup();
	CHECK_EQ(fvq_start(&d, v, 1, 0), 0);	/* queue 1 left unset */
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 2);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 1);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x2000);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 7);
	CHECK_EQ(d.vq[0].size, 8);
	CHECK_EQ(d.vq[0].desc_gpa, v[0].desc);
	CHECK_EQ(d.vq[0].avail_gpa, v[0].avail);
	CHECK_EQ(d.vq[0].used_gpa, v[0].used);
	/* After DRIVER_OK a queue cannot be added either. */
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)v[1].desc);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	CHECK_EQ(d.vq[1].desc_gpa, 0);
	/* Writes to a queue that does not exist touch nothing. */
	wr(VIRTIO_MMIO_QUEUE_SEL, VIRTIO_MAX_QUEUES - 1);
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_QUEUE_SEL, VIRTIO_MAX_QUEUES - 1);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(d.vq[VIRTIO_MAX_QUEUES - 1].desc_gpa, 0);
	CHECK_EQ(d.vq[VIRTIO_MAX_QUEUES - 1].ready, 0);
	fvq_kick(&d, 0);	/* the reset took queue 0 down too */
	CHECK_EQ(fd.notifies[0], 0);
}

/* Rings the queue cannot use: QueueReady does not stick, the device
 * needs a reset, and the driver hears about it at DRIVER_OK. */
TEST(bad_rings_need_reset)
{
	const uint32_t sizes[] = { 3, 0, FAKE_QMAX * 2, 0x10008 };

	for (unsigned i = 0; i < 5; i++) {
		setup();
		wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
		wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
		   VIRTIO_STATUS_DRIVER);
		set_driver_features(1ULL << VIRTIO_F_VERSION_1);
		wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
		   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
		wr(VIRTIO_MMIO_QUEUE_SEL, 0);
		wr(VIRTIO_MMIO_QUEUE_NUM, i < 4 ? sizes[i] : 8);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)v[0].desc);
		wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)v[0].avail);
		/* Case 4: the used ring above guest memory. */
		wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)v[0].used);
		wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, i == 4 ? 1 : 0);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
		CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
		CHECK(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
		CHECK_EQ(irq.pulses, 0);	/* not before DRIVER_OK */
		wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) |
		   VIRTIO_STATUS_DRIVER_OK);
		CHECK_EQ(fd.activates, 0);
		CHECK_EQ(irq.pulses, 1);
		CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_CONFIG);
	}
	/* A reset clears the condition. */
	CHECK_EQ(fvq_start(&d, v, FAKE_QUEUES, 0), 0);
	check_echo(0);
}

TEST(config_space_bounds)
{
	uint8_t b[8];

	setup();
	CHECK_EQ(rd(VIRTIO_MMIO_CONFIG), 0xa3a2a1a0);
	CHECK_EQ(rd(VIRTIO_MMIO_CONFIG + 8), 0xabaaa9a8);	/* the last 4 */
	virtio_mmio_ops.read(&d, VIRTIO_MMIO_CONFIG + 11, b, 1);
	CHECK_EQ(b[0], 0xab);
	virtio_mmio_ops.read(&d, VIRTIO_MMIO_CONFIG + 5, b, 2);
	CHECK(b[0] == 0xa5 && b[1] == 0xa6);
	/* 8 bytes arrive as two 4-byte device accesses. */
	fd.cfg_reads = 0;
	virtio_mmio_ops.read(&d, VIRTIO_MMIO_CONFIG + 4, b, 8);
	CHECK_EQ(fd.cfg_reads, 2);
	CHECK_EQ(fd.last_cfg_len, 4);
	CHECK(!memcmp(b, "\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab", 8));
	/* Past the end, partly or wholly: zeros, and the device never sees
	 * it. */
	fd.cfg_reads = 0;
	memset(b, 0x55, sizeof(b));
	virtio_mmio_ops.read(&d, VIRTIO_MMIO_CONFIG + 9, b, 4);
	CHECK(!memcmp(b, "\0\0\0\0", 4));
	virtio_mmio_ops.read(&d, VIRTIO_MMIO_CONFIG + 8, b, 8);
	virtio_mmio_ops.read(&d, VIRTIO_MMIO_CONFIG + 12, b, 1);
	virtio_mmio_ops.read(&d, VIRTIO_MMIO_SIZE - 1, b, 1);
	virtio_mmio_ops.read(&d, ~0ULL, b, 8);
	virtio_mmio_ops.read(&d, ~0ULL - 4, b, 4);
	CHECK_EQ(fd.cfg_reads, 0);
	/* Writes: inside reach the device, outside do not. */
	memcpy(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	virtio_mmio_ops.write(&d, VIRTIO_MMIO_CONFIG + 4, b, 8);
	CHECK_EQ(fd.cfg_writes, 2);
	CHECK(!memcmp(fd.config + 4, b, 8));
	virtio_mmio_ops.write(&d, VIRTIO_MMIO_CONFIG + 2, b, 2);
	CHECK_EQ(fd.cfg_writes, 3);
	CHECK_EQ(fd.last_cfg_len, 2);
	virtio_mmio_ops.write(&d, VIRTIO_MMIO_CONFIG + 10, b, 4);
	virtio_mmio_ops.write(&d, VIRTIO_MMIO_CONFIG + 12, b, 1);
	virtio_mmio_ops.write(&d, VIRTIO_MMIO_CONFIG + 6, b, 8);
	virtio_mmio_ops.write(&d, ~0ULL - 2, b, 4);
	virtio_mmio_ops.write(&d, VIRTIO_MMIO_CONFIG, b, 3);	/* odd size */
	CHECK_EQ(fd.cfg_writes, 3);
	CHECK_EQ(fd.out_of_range, 0);
	CHECK_EQ(fd.unlocked_call, 0);
}

/* Registers take only aligned 32-bit accesses. */
TEST(register_access_width)
{
	uint8_t b[8];
	uint16_t s = VIRTIO_STATUS_ACKNOWLEDGE;

	setup();
	for (unsigned len = 1; len <= 8; len *= 2) {
		if (len == 4)
			continue;
		memset(b, 0x55, sizeof(b));
		virtio_mmio_ops.read(&d, VIRTIO_MMIO_MAGIC_VALUE, b, len);
		CHECK(!memcmp(b, "\0\0\0\0\0\0\0\0", len));
	}
	virtio_mmio_ops.read(&d, VIRTIO_MMIO_MAGIC_VALUE + 1, b, 4);
	CHECK(!memcmp(b, "\0\0\0\0", 4));
	virtio_mmio_ops.write(&d, VIRTIO_MMIO_STATUS, (uint8_t *)&s, 2);
	virtio_mmio_ops.write(&d, VIRTIO_MMIO_STATUS, (uint8_t *)&s, 1);
	b[0] = VIRTIO_STATUS_ACKNOWLEDGE;
	b[1] = b[2] = b[3] = 0;
	virtio_mmio_ops.write(&d, VIRTIO_MMIO_STATUS + 1, b, 4);
	memset(b, 0, 8);
	b[0] = VIRTIO_STATUS_ACKNOWLEDGE;
	virtio_mmio_ops.write(&d, VIRTIO_MMIO_STATUS, b, 8);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE);
}

/* A malformed chain: NEEDS_RESET, one config interrupt, the device
 * stops; the driver's reset brings it back. */
TEST(needs_reset_path)
{
	uint64_t b;
	uint32_t st;

	setup();
	CHECK_EQ(fvq_start(&d, v, FAKE_QUEUES, 0), 0);
	b = fvq_put(&m, "x", 1);
	fvq_set_desc(&v[0], 0, b, 1, VIRTQ_DESC_F_NEXT, 1);
	fvq_set_desc(&v[0], 1, b, 1, VIRTQ_DESC_F_NEXT, 0);	/* loop */
	fvq_publish(&v[0], 0);
	fvq_kick(&d, 0);
	st = rd(VIRTIO_MMIO_STATUS);
	CHECK(st & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(st & VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_CONFIG);
	CHECK_EQ(irq.pulses, 1);
	/* Stopped: further kicks, on any queue, do not reach the device. */
	v[0].next_desc = 2;
	FVQ_ADD(&v[0], { b, 1, 0 });
	fvq_kick(&d, 0);
	fvq_kick(&d, 1);
	CHECK_EQ(fd.notifies[0], 1);
	CHECK_EQ(fd.notifies[1], 0);
	/* Said once: no second interrupt. */
	pthread_mutex_lock(&d.lock);
	virtio_set_needs_reset(&d, "again");
	pthread_mutex_unlock(&d.lock);
	CHECK_EQ(irq.pulses, 1);
	/* The driver writing status back (Linux ORs in what it read)
	 * cannot clear the bit. */
	wr(VIRTIO_MMIO_STATUS, st);
	wr(VIRTIO_MMIO_STATUS, st & ~VIRTIO_STATUS_NEEDS_RESET);
	CHECK(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(d.needs_reset_logged, 1);
	/* Reset: the condition and its log latch are gone. */
	for (unsigned i = 0; i < FAKE_QUEUES; i++)
		fvq_init(&v[i], &m, 8, NULL);
	CHECK_EQ(fvq_start(&d, v, FAKE_QUEUES, 0), 0);
	CHECK_EQ(d.needs_reset_logged, 0);
	check_echo(0);
	CHECK_EQ(fd.unlocked_call, 0);
}

TEST(activate_failure_needs_reset)
{
	setup();
	fd.activate_ret = -1;
	CHECK_EQ(fvq_start(&d, v, FAKE_QUEUES, 0), -1);
	CHECK_EQ(fd.activates, 1);
	CHECK(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(irq.pulses, 1);
	FVQ_ADD(&v[0], { fvq_put(&m, "x", 1), 1, 0 });
	fvq_kick(&d, 0);
	CHECK_EQ(fd.notifies[0], 0);
}

TEST(config_changed_interrupt)
{
	setup();
	pthread_mutex_lock(&d.lock);
	virtio_config_changed(&d);		/* before DRIVER_OK: silent */
	pthread_mutex_unlock(&d.lock);
	CHECK_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), 1);
	CHECK_EQ(irq.pulses, 0);
	CHECK_EQ(fvq_start(&d, v, FAKE_QUEUES, 0), 0);
	CHECK_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), 1);	/* survives reset */
	pthread_mutex_lock(&d.lock);
	virtio_config_changed(&d);
	pthread_mutex_unlock(&d.lock);
	CHECK_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), 2);
	CHECK_EQ(irq.pulses, 1);
	CHECK_EQ(irq.level, 1);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_CONFIG);
	check_echo(0);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS),
		 VIRTIO_ISR_CONFIG | VIRTIO_ISR_USED);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_CONFIG);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_USED);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffff);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

/* With EVENT_IDX negotiated, used_event decides the interrupts. */
TEST(event_idx_through_transport)
{
	setup();
	CHECK_EQ(fvq_start(&d, v, FAKE_QUEUES,
			   1ULL << VIRTIO_F_RING_EVENT_IDX), 0);
	CHECK_EQ(d.vq[0].event_idx, 1);
	fvq_set_used_event(&v[0], 0);
	check_echo(0);				/* used 1: first, pulses */
	CHECK_EQ(irq.pulses, 1);
	fvq_set_used_event(&v[0], 3);
	check_echo(0);				/* used 2 */
	check_echo(0);				/* used 3 */
	CHECK_EQ(irq.pulses, 1);
	check_echo(0);				/* used 4 passes 3 */
	CHECK_EQ(irq.pulses, 2);
	/* The device asked to be kicked at the next avail index. */
	CHECK_EQ(fvq_avail_event(&v[0]), 4);
}

TEST(poll_ready_runs_locked)
{
	setup();
	virtio_poll_ready(&d);
	CHECK_EQ(fd.polls, 1);
	CHECK_EQ(fd.unlocked_call, 0);
}

/* Byte for byte what iasl makes of:
 *   Device (VR1F) { Name (_HID, "LNRO0005") Name (_UID, 0x1F)
 *     Name (_CRS, ResourceTemplate () {
 *       Memory32Fixed (ReadWrite, 0xD001F000, 0x00000200)
 *       Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { 47 }
 *     }) } */
TEST(dsdt_entry)
{
	struct virtio_mmio_aml va = { 0x1f, 0xd001f000, 47 };
	static const uint8_t want[] = {
		0x5b, 0x82, 0x3b, 'V', 'R', '1', 'F',
		0x08, '_', 'H', 'I', 'D', 0x0d,
		'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00,
		0x08, '_', 'U', 'I', 'D', 0x0a, 0x1f,
		0x08, '_', 'C', 'R', 'S', 0x11, 0x1a, 0x0a, 0x17,
		0x86, 0x09, 0x00, 0x01, 0x00, 0xf0, 0x01, 0xd0,
		0x00, 0x02, 0x00, 0x00,
		0x89, 0x06, 0x00, 0x03, 0x01, 0x2f, 0x00, 0x00, 0x00,
		0x79, 0x00,
	};
	struct aml a;

	aml_init(&a);
	virtio_mmio_write_aml(&va, &a);
	CHECK_EQ(a.error, 0);
	CHECK_EQ(a.len, sizeof(want));
	CHECK(a.len == sizeof(want) && !memcmp(a.buf, want, sizeof(want)));
	aml_free(&a);

	/* Index 0: "VR00", _UID Zero. */
	va = (struct virtio_mmio_aml){ 0, 0xd0000000, 16 };
	aml_init(&a);
	virtio_mmio_write_aml(&va, &a);
	CHECK_EQ(a.error, 0);
	CHECK(a.len > 8 && !memcmp(a.buf + 3, "VR00", 4));
	aml_free(&a);

	/* No four-character name left past 255. */
	va.index = 256;
	aml_init(&a);
	virtio_mmio_write_aml(&va, &a);
	CHECK_EQ(a.error, 1);
	aml_free(&a);
}

int main(void)
{
	RUN(identification);
	RUN(device_features_both_words);
	RUN(feature_negotiation);
	RUN(unoffered_features_refused);
	RUN(legacy_driver_refused);
	RUN(status_order_enforced);
	RUN(failed_anytime);
	RUN(reset_clears_everything);
	RUN(queue_setup_and_notify);
	RUN(notify_ignored_unless_live);
	RUN(queue_registers_locked_while_live);
	RUN(bad_rings_need_reset);
	RUN(config_space_bounds);
	RUN(register_access_width);
	RUN(needs_reset_path);
	RUN(activate_failure_needs_reset);
	RUN(config_changed_interrupt);
	RUN(event_idx_through_transport);
	RUN(poll_ready_runs_locked);
	RUN(dsdt_entry);
	fvq_mem_free(&m);
	return CHECK_DONE();
}
