/* The virtio-mmio transport, version 2 (virtio 1.2, 4.2.2): the register
 * block a guest driver programs, feature negotiation, the device status
 * state machine and queue set-up.  Devices see only their ops callbacks.
 *
 * Choices, after Firecracker: status moves one step at a time
 * (ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK), FAILED at any time, 0
 * resets; anything else is ignored and logged once.  Legacy (no
 * VERSION_1) is not offered.  Registers below the config space take only
 * aligned 32-bit accesses, as the spec requires of drivers. */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aml.h"
#include "virtio.h"

/* Transport-owned feature bits, offered with every device's own. */
#define TRANSPORT_FEATURES ((1ULL << VIRTIO_F_VERSION_1) |		\
			    (1ULL << VIRTIO_F_RING_EVENT_IDX) |	\
			    (1ULL << VIRTIO_F_RING_INDIRECT_DESC))

/* Bits of d->warned: each guest mistake is logged once per device. */
enum {
	WARN_ACCESS = 1,	/* non-32-bit register access */
	WARN_STATUS = 2,	/* status write out of order */
	WARN_FEATURES = 4,	/* unoffered features or no VERSION_1 */
	WARN_QUEUE = 8,		/* queue register written while live */
};

static void warn_once(struct virtio_dev *d, unsigned bit, const char *what)
{
	if (d->warned & bit)
		return;
	d->warned |= bit;
	fprintf(stderr, "minivmm: %s: %s; ignored\n", d->ops->name, what);
}

static uint64_t offered_features(struct virtio_dev *d)
{
	uint64_t f = d->ops->features ? d->ops->features(d) : 0;

	return f | TRANSPORT_FEATURES;
}

static uint16_t queue_max(const struct virtio_dev *d)
{
	return d->ops->queue_max ? d->ops->queue_max : VIRTQ_MAX_SIZE;
}

void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
		     void *priv, const struct guest_mem *mem,
		     const struct irq_line *irq)
{
	uint16_t qmax;

	/* A bad ops table is minivmm's bug, not the guest's. */
	if (!ops || !ops->name || ops->nr_queues > VIRTIO_MAX_QUEUES ||
	    ops->queue_max > VIRTQ_MAX_SIZE ||
	    (ops->queue_max & (ops->queue_max - 1))) {
		fprintf(stderr, "minivmm: bad virtio device table (%s)\n",
			ops && ops->name ? ops->name : "?");
		abort();
	}
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->priv = priv;
	d->mem = mem;
	if (irq)
		d->irq = *irq;
	pthread_mutex_init(&d->lock, NULL);
	qmax = queue_max(d);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		d->vq[i].mem = mem;
		d->vq[i].size = qmax;
	}
}

int virtio_has_feature(const struct virtio_dev *d, unsigned bit)
{
	return bit < 64 && ((d->driver_features >> bit) & 1);
}

static int stopped(const struct virtio_dev *d)
{
	return d->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED);
}

static void pulse(struct virtio_dev *d, uint32_t isr_bit)
{
	d->isr |= isr_bit;
	irq_set(&d->irq, 1);
}

void virtio_notify_used(struct virtio_dev *d, unsigned q)
{
	if (q >= d->ops->nr_queues)
		return;
	if (virtq_should_notify(&d->vq[q]))
		pulse(d, VIRTIO_ISR_USED);
}

void virtio_config_changed(struct virtio_dev *d)
{
	d->config_generation++;
	if (d->status & VIRTIO_STATUS_DRIVER_OK)
		pulse(d, VIRTIO_ISR_CONFIG);
}

void virtio_set_needs_reset(struct virtio_dev *d, const char *why)
{
	if (!d->needs_reset_logged) {
		d->needs_reset_logged = 1;
		fprintf(stderr, "minivmm: %s: %s; device needs reset\n",
			d->ops->name, why);
	}
	if (d->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* The spec's config-change notification, once the driver listens. */
	if (d->status & VIRTIO_STATUS_DRIVER_OK)
		pulse(d, VIRTIO_ISR_CONFIG);
}

void virtio_queue_notify(struct virtio_dev *d, unsigned q)
{
	pthread_mutex_lock(&d->lock);
	if (q < d->ops->nr_queues && d->vq[q].ready &&
	    (d->status & VIRTIO_STATUS_DRIVER_OK) && !stopped(d) &&
	    d->ops->queue_notify)
		d->ops->queue_notify(d, q);
	pthread_mutex_unlock(&d->lock);
}

void virtio_poll_ready(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->ops->poll_ready)
		d->ops->poll_ready(d);
	pthread_mutex_unlock(&d->lock);
}

static void reset(struct virtio_dev *d)
{
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		virtq_reset(&d->vq[i]);
		d->vq[i].size = queue_max(d);
	}
	d->status = 0;
	d->driver_features = 0;
	d->dev_features_sel = d->drv_features_sel = 0;
	d->queue_sel = 0;
	d->isr = 0;
	d->needs_reset_logged = 0;
	if (d->ops->reset)
		d->ops->reset(d);
}

/* FEATURES_OK sticks only for a subset of what we offered that includes
 * VERSION_1 (we offer no legacy interface). */
static int features_acceptable(struct virtio_dev *d)
{
	if (d->driver_features & ~offered_features(d)) {
		warn_once(d, WARN_FEATURES, "driver accepted features not offered");
		return 0;
	}
	if (!virtio_has_feature(d, VIRTIO_F_VERSION_1)) {
		warn_once(d, WARN_FEATURES, "legacy driver (no VERSION_1)");
		return 0;
	}
	return 1;
}

/* The status bit the driver may set next, given what is set now. */
static uint32_t next_status(uint32_t cur)
{
	switch (cur) {
	case 0:
		return VIRTIO_STATUS_ACKNOWLEDGE;
	case VIRTIO_STATUS_ACKNOWLEDGE:
		return VIRTIO_STATUS_DRIVER;
	case VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER:
		return VIRTIO_STATUS_FEATURES_OK;
	case VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	     VIRTIO_STATUS_FEATURES_OK:
		return VIRTIO_STATUS_DRIVER_OK;
	}
	return 0;
}

static void set_status(struct virtio_dev *d, uint32_t val)
{
	/* NEEDS_RESET is the device's bit: drivers write it back unchanged
	 * (Linux ORs into what it read) and cannot clear it. */
	uint32_t cur = d->status & ~VIRTIO_STATUS_NEEDS_RESET;
	uint32_t want = val & ~VIRTIO_STATUS_NEEDS_RESET, next;

	if (val == 0) {
		reset(d);
		return;
	}
	if (want == cur)
		return;
	if (want & VIRTIO_STATUS_FAILED) {
		d->status |= VIRTIO_STATUS_FAILED;
		return;
	}
	next = next_status(cur);
	if (!next || want != (cur | next)) {
		warn_once(d, WARN_STATUS, "device status written out of order");
		return;
	}
	if (next == VIRTIO_STATUS_FEATURES_OK) {
		if (!features_acceptable(d))
			return;
		for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
			d->vq[i].event_idx =
				virtio_has_feature(d, VIRTIO_F_RING_EVENT_IDX);
			d->vq[i].indirect =
				virtio_has_feature(d, VIRTIO_F_RING_INDIRECT_DESC);
		}
	}
	d->status |= next;
	if (next != VIRTIO_STATUS_DRIVER_OK)
		return;
	if (stopped(d))		/* a queue was refused: say so now */
		pulse(d, VIRTIO_ISR_CONFIG);
	else if (d->ops->activate && d->ops->activate(d) < 0)
		virtio_set_needs_reset(d, "activation failed");
}

/* The selected queue when its registers may change: it exists, is not
 * live, and the driver has not finished set-up. */
static struct virtq *writable_queue(struct virtio_dev *d)
{
	struct virtq *q;

	if (d->queue_sel >= d->ops->nr_queues)
		return NULL;
	q = &d->vq[d->queue_sel];
	if (q->ready || (d->status & VIRTIO_STATUS_DRIVER_OK)) {
		warn_once(d, WARN_QUEUE, "queue register written while live");
		return NULL;
	}
	return q;
}

static void set_low(uint64_t *v, uint32_t lo)
{
	*v = (*v & 0xffffffff00000000ULL) | lo;
}

static void set_high(uint64_t *v, uint32_t hi)
{
	*v = (*v & 0xffffffffULL) | ((uint64_t)hi << 32);
}

static void set_queue_ready(struct virtio_dev *d, uint32_t val)
{
	struct virtq *q;

	if (d->queue_sel >= d->ops->nr_queues)
		return;
	q = &d->vq[d->queue_sel];
	if (val == 0) {
		/* Always allowed: Linux's vm_del_vq writes 0 and warns if it
		 * does not read back 0. */
		q->ready = 0;
		return;
	}
	if (val != 1 || !writable_queue(d))
		return;
	q->last_avail = q->used_idx = q->signalled_used = 0;
	q->signalled_valid = 0;
	if (virtq_check_rings(q) != VIRTQ_OK) {
		virtio_set_needs_reset(d, "queue size or ring placement invalid");
		return;
	}
	q->ready = 1;
}

static uint32_t reg_read(struct virtio_dev *d, uint64_t off)
{
	uint64_t f;
	int have_q = d->queue_sel < d->ops->nr_queues;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return d->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (d->dev_features_sel > 1)
			return 0;
		f = offered_features(d);
		return (uint32_t)(f >> (32 * d->dev_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return have_q ? queue_max(d) : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return have_q ? (uint32_t)d->vq[d->queue_sel].ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return d->isr;
	case VIRTIO_MMIO_STATUS:
		return d->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff;	/* length -1: no shared memory region */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return d->config_generation;
	}
	return 0;	/* write-only or reserved */
}

static void reg_write(struct virtio_dev *d, uint64_t off, uint32_t val)
{
	struct virtq *q;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->dev_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* Final once FEATURES_OK is set. */
		if (d->status & VIRTIO_STATUS_FEATURES_OK)
			break;
		if (d->drv_features_sel == 0)
			set_low(&d->driver_features, val);
		else if (d->drv_features_sel == 1)
			set_high(&d->driver_features, val);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->drv_features_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		q = writable_queue(d);
		/* Too big: keep an invalid size for QueueReady to refuse. */
		if (q)
			q->size = val <= queue_max(d) ? (uint16_t)val : 0;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		set_queue_ready(d, val);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		d->isr &= ~val;
		break;
	case VIRTIO_MMIO_STATUS:
		set_status(d, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: {
		uint64_t *gpa;

		q = writable_queue(d);
		if (!q)
			break;
		gpa = off < VIRTIO_MMIO_QUEUE_DRIVER_LOW ? &q->desc_gpa :
		      off < VIRTIO_MMIO_QUEUE_DEVICE_LOW ? &q->avail_gpa :
		      &q->used_gpa;
		if (off & 4)
			set_high(gpa, val);
		else
			set_low(gpa, val);
		break;
	}
	}
}

/* Config space: the device sees only accesses wholly inside config_size,
 * in pieces of at most 4 bytes. */
static void config_access(struct virtio_dev *d, uint64_t off, uint8_t *data,
			  unsigned len, int is_write)
{
	const struct virtio_dev_ops *ops = d->ops;
	unsigned piece = len == 8 ? 4 : len;

	if ((len != 1 && len != 2 && len != 4 && len != 8) ||
	    off > ops->config_size || len > ops->config_size - off)
		return;
	for (unsigned done = 0; done < len; done += piece) {
		uint32_t o = (uint32_t)off + done;

		if (is_write && ops->config_write)
			ops->config_write(d, o, data + done, piece);
		else if (!is_write && ops->config_read)
			ops->config_read(d, o, data + done, piece);
	}
}

static void mmio_read(void *dev, uint64_t off, uint8_t *data, unsigned len)
{
	struct virtio_dev *d = dev;
	uint32_t v;

	memset(data, 0, len);
	pthread_mutex_lock(&d->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		config_access(d, off - VIRTIO_MMIO_CONFIG, data, len, 0);
	} else if (len != 4 || (off & 3)) {
		warn_once(d, WARN_ACCESS, "register access not 32-bit");
	} else {
		v = htole32(reg_read(d, off));
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&d->lock);
}

static void mmio_write(void *dev, uint64_t off, const uint8_t *data,
		       unsigned len)
{
	struct virtio_dev *d = dev;
	uint8_t buf[8];
	uint32_t v;

	if (off == VIRTIO_MMIO_QUEUE_NOTIFY && len == 4) {
		/* Takes the lock itself; the value is the queue index (no
		 * NOTIFICATION_DATA). */
		memcpy(&v, data, 4);
		virtio_queue_notify(d, le32toh(v));
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		if (len <= sizeof(buf)) {
			memcpy(buf, data, len);
			config_access(d, off - VIRTIO_MMIO_CONFIG, buf, len, 1);
		}
	} else if (len != 4 || (off & 3)) {
		warn_once(d, WARN_ACCESS, "register access not 32-bit");
	} else {
		memcpy(&v, data, 4);
		reg_write(d, off, le32toh(v));
	}
	pthread_mutex_unlock(&d->lock);
}

const struct bus_ops virtio_mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
};

void virtio_mmio_write_aml(void *virtio_mmio_aml, struct aml *a)
{
	static const char hex[] = "0123456789ABCDEF";
	const struct virtio_mmio_aml *v = virtio_mmio_aml;
	char name[5] = { 'V', 'R', 0, 0, 0 };

	/* Four-character ACPI names leave room for 256 devices. */
	if (v->index > 0xff) {
		a->error = 1;
		return;
	}
	name[2] = hex[v->index >> 4];
	name[3] = hex[v->index & 0xf];
	aml_device(a, name);
	aml_name_string(a, "_HID", "LNRO0005");
	aml_name_integer(a, "_UID", v->index);
	aml_crs_begin(a);
	aml_crs_memory32(a, v->base, VIRTIO_MMIO_SIZE);
	aml_crs_interrupt(a, v->gsi, 1);
	aml_crs_end(a);
	aml_end(a);
}
