/* virtio-rng; see virtio_rng.h.  Requests are served at once on the kick,
 * so no chain is held between calls and a reset has nothing to drop. */
#include "virtio_rng.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct virtio_rng {
	struct virtio_dev dev;
	int logged;			/* getrandom trouble reported once */
	struct virtq_chain chain;	/* scratch for the chain in hand */
	uint8_t buf[4096];
};

/* Fills buf completely; -1 with errno on a real failure.  Flags 0: the
 * host's pool is initialised long before a VMM runs, so this does not
 * wait; a signal can still cut a read short. */
static int fill_random(uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = getrandom(buf, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Fills up to VIRTIO_RNG_MAX_REQ bytes of the chain; returns the count,
 * or -1 when guest memory refuses a buffer. */
static long serve(struct virtio_rng *r, const struct virtq *q,
		  const struct virtq_chain *c)
{
	uint64_t want = c->in_len < VIRTIO_RNG_MAX_REQ ? c->in_len :
			VIRTIO_RNG_MAX_REQ;
	uint64_t done = 0;

	while (done < want) {
		size_t n = want - done < sizeof(r->buf) ? (size_t)(want - done) :
			   sizeof(r->buf);
		long w;

		if (fill_random(r->buf, n) < 0) {
			/* The host's fault, not the guest's: hand back what
			 * we have (maybe 0 bytes; Linux simply asks again). */
			if (!r->logged) {
				r->logged = 1;
				fprintf(stderr, "minivmm: virtio-rng: getrandom: "
					"%s\n", strerror(errno));
			}
			break;
		}
		w = virtq_chain_write(q, c, done, r->buf, n);
		if (w < 0 || (size_t)w != n)
			return -1;
		done += n;
	}
	return (long)done;
}

static void rng_queue_notify(struct virtio_dev *d, unsigned qi)
{
	struct virtio_rng *r = d->priv;
	struct virtq *q = &d->vq[0];
	int pushed = 0;

	if (qi != 0)
		return;
	/* virtio_set_needs_reset stops the loop: the status check. */
	while (!(d->status & VIRTIO_STATUS_NEEDS_RESET)) {
		int e = virtq_pop(q, &r->chain);
		long n;

		if (e == VIRTQ_EMPTY)
			break;
		if (e < 0) {
			virtio_set_needs_reset(d, "bad descriptor chain");
			break;
		}
		if (r->chain.nr_out) {
			virtio_set_needs_reset(d, "readable buffer on requestq");
			break;
		}
		n = serve(r, q, &r->chain);
		if (n < 0) {
			virtio_set_needs_reset(d, "buffer outside guest memory");
			break;
		}
		if (virtq_push(q, r->chain.head, (uint32_t)n) != VIRTQ_OK) {
			virtio_set_needs_reset(d, "used ring unwritable");
			break;
		}
		pushed = 1;
	}
	if (pushed)
		virtio_notify_used(d, 0);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_ENTROPY,
	.nr_queues = 1,
	.queue_max = VIRTIO_RNG_QUEUE_SIZE,
	.queue_notify = rng_queue_notify,
};

struct virtio_rng *virtio_rng_create(const struct guest_mem *mem,
				     const struct irq_line *irq)
{
	struct virtio_rng *r;
	uint8_t probe;

	/* A host without getrandom is a start-up error, not a silent
	 * device that never answers. */
	if (fill_random(&probe, 1) < 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	virtio_dev_init(&r->dev, &rng_ops, r, mem, irq);
	return r;
}

struct virtio_dev *virtio_rng_dev(struct virtio_rng *r)
{
	return &r->dev;
}

void virtio_rng_destroy(struct virtio_rng *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->dev.lock);
	free(r);
}
