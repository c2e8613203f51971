/* The virgl GPU thread: the one thread that calls virglrenderer.  It
 * sleeps in its own epoll (kicks, resets and stop on an eventfd;
 * virglrenderer's fence fd) and, woken, retires fences, runs what the
 * queues hold and answers.
 *
 * Locking: the device lock guards the rings and the transport's state,
 * so it is taken to pop a chain and to push an answer, never while a
 * command runs (rule 5).  A device reset bumps v->epoch under that lock;
 * whatever was popped before it is dropped unanswered, and the GPU
 * thread tears its virgl state down before it pops anything newer. */
#include "gpu_virgl_priv.h"

#if __has_include(<virglrenderer.h>)

#define VIRGL_RENDERER_UNSTABLE_APIS
#include <virglrenderer.h>

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define HDR_SIZE sizeof(struct virtio_gpu_ctrl_hdr)

/* Is q running?  Device lock held. */
static int queue_live(struct virtio_dev *d, struct virtq *q)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(d->status & (VIRTIO_STATUS_NEEDS_RESET |
			      VIRTIO_STATUS_FAILED)) && q->ready;
}

/* Writes an answer into chain c and returns it.  Device lock held;
 * 0, or -1 when the device had to stop. */
static int answer(struct virgl_gpu *v, struct virtq *q,
		  const struct virtq_chain *c, const void *resp, size_t n)
{
	/* A driver that gives no room for the answer cannot learn what
	 * happened: its bug, not a command error (as the 2D core). */
	if (c->in_len < n) {
		virtio_set_needs_reset(v->d, "response buffer too small");
		return -1;
	}
	if (virtq_chain_write(q, c, 0, resp, n) != (long)n ||
	    virtq_push(q, c->head, (uint32_t)n) != VIRTQ_OK) {
		virtio_set_needs_reset(v->d, "used ring unwritable");
		return -1;
	}
	return 0;
}

/* ---- fences ----------------------------------------------------------- */

static void pending_free(struct vg_pending *p)
{
	free(p->resp);
	free(p);
}

/* Holds the answer in v->chain / v->resp until a new fence retires;
 * -1 when no fence could be made (answer now then). */
static int hold_answer(struct virgl_gpu *v, const struct vg_cmd *cmd,
		       size_t n, unsigned epoch)
{
	struct vg_pending *p = calloc(1, sizeof(*p));
	uint32_t ctx_id = cmd->c.ctx_id;

	if (!p || !(p->resp = malloc(n))) {
		free(p);
		return -1;
	}
	p->seq = v->next_seq++;
	p->epoch = epoch;
	p->len = (uint32_t)n;
	memcpy(p->resp, v->resp, n);
	p->chain = v->chain;
	/* A context's own ring when the guest asks for one; virglrenderer's
	 * virgl contexts have ring 0 only, so others share the global
	 * timeline (still in order, a little later than needed). */
	if ((cmd->c.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) &&
	    vg_ctx_slot(v, ctx_id) >= 0 &&
	    !virgl_renderer_context_create_fence(ctx_id,
						 VIRGL_RENDERER_FENCE_FLAG_MERGEABLE,
						 cmd->ring_idx, p->seq)) {
		p->ctx_fence = 1;
		p->ctx_id = ctx_id;
		p->ring_idx = cmd->ring_idx;
	} else if (virgl_renderer_create_fence((int)p->seq, ctx_id)) {
		pending_free(p);
		vg_warn_once(v, VG_WARN_FENCE, "virglrenderer refused a fence; "
			     "answering at once");
		return -1;
	}
	*v->pending_tail = p;
	v->pending_tail = &p->next;
	v->nr_pending++;
	return 0;
}

/* virglrenderer's callbacks: every fence up to seq on that timeline has
 * signalled (fences may be merged, so earlier ones are not reported). */
void vg_fence_retired(struct virgl_gpu *v, int ctx_fence, uint32_t ctx_id,
		      uint32_t ring_idx, uint32_t seq)
{
	for (struct vg_pending *p = v->pending; p; p = p->next) {
		if (p->done || p->ctx_fence != ctx_fence ||
		    (ctx_fence && (p->ctx_id != ctx_id ||
				   p->ring_idx != ring_idx)))
			continue;
		if ((int32_t)(p->seq - seq) <= 0) {
			p->done = 1;
			v->retired = 1;
		}
	}
}

/* A destroyed context's ring will never signal: its work is gone. */
void vg_context_gone(struct virgl_gpu *v, uint32_t ctx_id)
{
	for (struct vg_pending *p = v->pending; p; p = p->next)
		if (p->ctx_fence && p->ctx_id == ctx_id) {
			p->done = 1;
			v->retired = 1;
		}
}

/* Answers every retired command, oldest first. */
static void push_retired(struct virgl_gpu *v)
{
	struct virtq *q = &v->d->vq[VIRTIO_GPU_CONTROLQ];
	struct vg_pending **pp = &v->pending, *p;
	int pushed = 0, ok = 1;

	if (!v->retired || __atomic_load_n(&v->hold_fences, __ATOMIC_ACQUIRE))
		return;
	v->retired = 0;
	pthread_mutex_lock(&v->d->lock);
	while ((p = *pp)) {
		if (!p->done) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		if (!p->next)
			v->pending_tail = pp;
		v->nr_pending--;
		/* Answers popped before a reset go nowhere. */
		if (ok && p->epoch == v->epoch && queue_live(v->d, q)) {
			ok = !answer(v, q, &p->chain, p->resp, p->len);
			pushed |= ok;
		}
		pending_free(p);
	}
	if (pushed)
		virtio_notify_used(v->d, VIRTIO_GPU_CONTROLQ);
	pthread_mutex_unlock(&v->d->lock);
}

static void drop_pending(struct virgl_gpu *v)
{
	while (v->pending) {
		struct vg_pending *p = v->pending;

		v->pending = p->next;
		pending_free(p);
	}
	v->pending_tail = &v->pending;
	v->nr_pending = 0;
	v->retired = 0;
}

/* ---- the control queue ------------------------------------------------ */

/* Decodes and runs the request in v->chain; fills the response header
 * (fence echoed) in v->resp and returns the response length. */
static size_t run_control(struct virgl_gpu *v, struct virtq *q,
			  struct vg_cmd *cmd)
{
	struct virtio_gpu_ctrl_hdr hdr, *resp = (void *)v->resp;
	size_t want;
	uint32_t type = VIRTIO_GPU_RESP_ERR_UNSPEC;

	memset(cmd, 0, sizeof(*cmd));
	cmd->c.q = q;
	cmd->c.chain = &v->chain;
	cmd->c.len = v->chain.out_len;
	want = sizeof(cmd->req) < cmd->c.len ? sizeof(cmd->req) :
	       (size_t)cmd->c.len;
	memset(resp, 0, sizeof(*resp));
	if (want < sizeof(hdr) ||
	    virtq_chain_read(q, &v->chain, 0, cmd->req, want) != (long)want)
		goto out;	/* no header to echo */
	memcpy(&hdr, cmd->req, sizeof(hdr));
	cmd->c.type = le32toh(hdr.type);
	cmd->c.flags = le32toh(hdr.flags);
	cmd->c.fence_id = le64toh(hdr.fence_id);
	cmd->c.ctx_id = le32toh(hdr.ctx_id);
	cmd->ring_idx = hdr.ring_idx;
	type = vg_run_command(v, cmd);
	if (type >= VIRTIO_GPU_RESP_ERR_UNSPEC)
		cmd->resp_len = 0;	/* errors carry no payload */
	if (cmd->c.flags & VIRTIO_GPU_FLAG_FENCE) {
		resp->flags = htole32(VIRTIO_GPU_FLAG_FENCE |
				      (cmd->c.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX));
		resp->fence_id = hdr.fence_id;
		resp->ctx_id = hdr.ctx_id;
		if (cmd->c.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX)
			resp->ring_idx = hdr.ring_idx;
	}
out:
	resp->type = htole32(type);
	return HDR_SIZE + cmd->resp_len;
}

static void control_queue(struct virgl_gpu *v)
{
	struct virtio_dev *d = v->d;
	struct virtq *q = &d->vq[VIRTIO_GPU_CONTROLQ];
	struct vg_cmd cmd;
	int pushed = 0;

	for (;;) {
		unsigned epoch;
		size_t n;
		int e;

		pthread_mutex_lock(&d->lock);
		if (v->epoch != v->seen_epoch || !queue_live(d, q)) {
			pthread_mutex_unlock(&d->lock);
			break;
		}
		e = virtq_pop(q, &v->chain);
		if (e < 0)
			virtio_set_needs_reset(d, "bad descriptor chain");
		/* What commands answer from device state, as of now. */
		v->pref_w = v->g->width;
		v->pref_h = v->g->height;
		v->ctx_init_ok = virtio_has_feature(d, VIRTIO_GPU_F_CONTEXT_INIT);
		epoch = v->epoch;
		pthread_mutex_unlock(&d->lock);
		if (e != VIRTQ_OK)
			break;

		n = run_control(v, q, &cmd);
		if ((cmd.c.flags & VIRTIO_GPU_FLAG_FENCE) &&
		    !hold_answer(v, &cmd, n, epoch))
			continue;
		pthread_mutex_lock(&d->lock);
		if (epoch == v->epoch && queue_live(d, q)) {
			if (answer(v, q, &v->chain, v->resp, n)) {
				pthread_mutex_unlock(&d->lock);
				break;
			}
			pushed = 1;
		}
		pthread_mutex_unlock(&d->lock);
	}
	if (pushed) {
		pthread_mutex_lock(&d->lock);
		virtio_notify_used(d, VIRTIO_GPU_CONTROLQ);
		pthread_mutex_unlock(&d->lock);
	}
}

/* ---- the cursor queue: no answers, mistakes logged and dropped ------- */

static void cursor_queue(struct virgl_gpu *v)
{
	struct virtio_dev *d = v->d;
	struct virtq *q = &d->vq[VIRTIO_GPU_CURSORQ];
	struct virtio_gpu_update_cursor c;
	int pushed = 0;

	for (;;) {
		unsigned epoch;
		int e, ok;

		pthread_mutex_lock(&d->lock);
		if (v->epoch != v->seen_epoch || !queue_live(d, q)) {
			pthread_mutex_unlock(&d->lock);
			break;
		}
		e = virtq_pop(q, &v->chain);
		if (e < 0)
			virtio_set_needs_reset(d, "bad descriptor chain");
		epoch = v->epoch;
		pthread_mutex_unlock(&d->lock);
		if (e != VIRTQ_OK)
			break;

		ok = v->chain.out_len >= sizeof(c) &&
		     virtq_chain_read(q, &v->chain, 0, &c, sizeof(c)) ==
		     (long)sizeof(c);
		if (!ok)
			vg_warn_once(v, VG_WARN_CURSORQ, "short cursor command; "
				     "ignored");
		else if (le32toh(c.hdr.type) == VIRTIO_GPU_CMD_UPDATE_CURSOR ||
			 le32toh(c.hdr.type) == VIRTIO_GPU_CMD_MOVE_CURSOR)
			vg_cursor_command(v, &c);
		else
			vg_warn_once(v, VG_WARN_CURSORQ, "unknown command on the "
				     "cursor queue; ignored");

		pthread_mutex_lock(&d->lock);
		if (epoch == v->epoch && queue_live(d, q)) {
			if (virtq_push(q, v->chain.head, 0) != VIRTQ_OK) {
				virtio_set_needs_reset(d, "used ring unwritable");
				pthread_mutex_unlock(&d->lock);
				break;
			}
			pushed = 1;
		}
		pthread_mutex_unlock(&d->lock);
	}
	if (pushed) {
		pthread_mutex_lock(&d->lock);
		virtio_notify_used(d, VIRTIO_GPU_CURSORQ);
		pthread_mutex_unlock(&d->lock);
	}
}

/* ---- the loop ----------------------------------------------------------- */

/* Everything the guest made goes: contexts, resources, held answers. */
static void drop_all(struct virgl_gpu *v)
{
	vg_scanout_reset(v);
	drop_pending(v);
	vg_contexts_free(v);
	vg_resources_free(v);
}

static void check_reset(struct virgl_gpu *v)
{
	int reset;

	pthread_mutex_lock(&v->d->lock);
	reset = v->epoch != v->seen_epoch;
	v->seen_epoch = v->epoch;
	pthread_mutex_unlock(&v->d->lock);
	if (reset)
		drop_all(v);
}

static void step(struct virgl_gpu *v)
{
	unsigned kicks = __atomic_exchange_n(&v->kicks, 0, __ATOMIC_ACQ_REL);

	check_reset(v);
	/* Retires what has signalled (calls vg_fence_retired). */
	virgl_renderer_poll();
	if (kicks & 1u << VIRTIO_GPU_CONTROLQ)
		control_queue(v);
	if (kicks & 1u << VIRTIO_GPU_CURSORQ)
		cursor_queue(v);
	push_retired(v);
}

static void report_init(struct virgl_gpu *v, int state, const char *err)
{
	pthread_mutex_lock(&v->init_lock);
	if (err)
		snprintf(v->init_err, sizeof(v->init_err), "%s", err);
	v->init_state = state;
	pthread_cond_signal(&v->init_cond);
	pthread_mutex_unlock(&v->init_lock);
}

static int watch(struct virgl_gpu *v, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void *vg_thread_main(void *arg)
{
	struct virgl_gpu *v = arg;
	char err[sizeof(v->init_err)];
	int bad = 0;

	if (vg_renderer_init(v, err, sizeof(err))) {
		report_init(v, -1, err);
		return NULL;
	}
	if (watch(v, v->kick_fd) || (v->fence_fd >= 0 && watch(v, v->fence_fd))) {
		snprintf(err, sizeof(err), "virtio-gpu: epoll: %s",
			 strerror(errno));
		bad = 1;
	} else if (vg_run_thread_hook(err, sizeof(err))) {
		if (!err[0])
			snprintf(err, sizeof(err), "virtio-gpu: the GPU thread's "
				 "set-up failed");
		bad = 1;
	}
	if (bad) {
		vg_renderer_fini(v);
		report_init(v, -1, err);
		return NULL;
	}
	report_init(v, 1, NULL);

	while (!__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE)) {
		struct epoll_event ev[4];
		/* Without virglrenderer's fence fd, fences are polled, and
		 * only while some are pending. */
		int timeout = v->nr_pending && v->fence_fd < 0 ? 2 : -1;
		uint64_t n;

		if (epoll_wait(v->epfd, ev, 4, timeout) < 0 && errno != EINTR) {
			fprintf(stderr, "minivmm: virtio-gpu: epoll: %s\n",
				strerror(errno));
			break;
		}
		if (read(v->kick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
			break;
		step(v);
	}
	v->display_gone = 1;
	drop_all(v);
	vg_renderer_fini(v);
	return NULL;
}

#endif
