/* bench-gpu: full-screen frames through the virtio-gpu 2D device (not a
 * test; built and run by tools/bench-gpu.sh).  No KVM: the real device
 * (devices/virtio/gpu*.c) is driven through the real virtio-mmio
 * transport by the fake guest driver of tests/unit/fake_virtq.h, the
 * guest's memory being a calloc'd block, exactly as the unit tests do.
 *
 * Each frame is what a guest's DRM client costs the host on a full-screen
 * redraw: TRANSFER_TO_HOST_2D of the whole resource, then RESOURCE_FLUSH
 * of the whole rect, each its own chain and kick with the interrupt acked
 * after it (as the Linux driver does).  Cases, per resolution:
 *   memcpy             one memcpy of w*h*4 bytes per frame (the yardstick)
 *   dev, 1 entry       no display, backing = one contiguous entry
 *   dev, 4K pages      no display, backing = w*h*4/4096 entries of 4 KiB
 *                      pages in shuffled order (as a guest's shmem pages)
 *   headless, ...      the same with display_headless_new() attached, so
 *                      each flush also copies the frame into its store
 * All cases of a size are set up at once and run interleaved: each round
 * gives every case SECONDS (or FRAMES) in SLICES slices, the case order
 * alternating slice by slice (A B C D E, E D C B A, ...), so the load of
 * a busy machine drifting over time hits every case alike.  The table has
 * the median over rounds of frames/s, of MB/s (w*h*4 bytes per frame) and
 * of the ratio to memcpy's MB/s in the same round, with the min-max
 * spread of frames/s over rounds.
 *
 * Usage: bench-gpu [-t SECONDS] [-n FRAMES] [-r ROUNDS] [-s SLICES] [WxH ...]
 *        (default: -t 1 -r 3 -s 20 1280x800 1920x1080) */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "display.h"
#include "fake_virtq.h"
#include "virtio_gpu.h"

#define MEM_GPA		0x100000ULL
#define QSIZE		64
#define RES_ID		1
#define PAGE		4096u
#define MAX_ROUNDS	64

enum { C_MEMCPY, C_DEV_1, C_DEV_PAGES, C_HL_1, C_HL_PAGES, NCASES };

static const char *case_name[NCASES] = {
	"memcpy (1 copy/frame)",
	"device, 1 entry",
	"device, 4K pages",
	"headless, 1 entry",
	"headless, 4K pages",
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *why)
{
	fprintf(stderr, "bench-gpu: %s\n", why);
	exit(1);
}

/* ---- the fake guest ---------------------------------------------------- */

struct env {
	struct fvq_mem m;
	struct fvq v[2];
	struct fvq_irq irq;
	struct irq_line line;
	struct display *disp;
	struct virtio_gpu *g;
	struct virtio_dev *d;
	uint64_t resp;			/* one response buffer, reused */
	uint64_t req_xfer, req_flush;	/* the frame's two requests */
};

static struct virtio_gpu_ctrl_hdr hdr(uint32_t type)
{
	return (struct virtio_gpu_ctrl_hdr){ .type = htole32(type) };
}

static struct virtio_gpu_rect rect(uint32_t w, uint32_t h)
{
	return (struct virtio_gpu_rect){ 0, 0, htole32(w), htole32(h) };
}

/* Publishes bufs as one chain, kicks, takes the used entry and acks the
 * interrupt the way a driver does; returns the response type. */
static uint32_t submit(struct env *e, const struct fvq_buf *bufs, unsigned n)
{
	struct fvq_used u;
	uint16_t head = fvq_add(&e->v[VIRTIO_GPU_CONTROLQ], bufs, n);
	uint32_t type, isr;

	fvq_kick(e->d, VIRTIO_GPU_CONTROLQ);
	isr = fvq_mmio_read(e->d, VIRTIO_MMIO_INTERRUPT_STATUS);
	if (isr)
		fvq_mmio_write(e->d, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	if (!fvq_get_used(&e->v[VIRTIO_GPU_CONTROLQ], &u) || u.id != head)
		die("the device did not answer");
	memcpy(&type, fvq_ptr(&e->m, e->resp, 4), 4);
	return le32toh(type);
}

static void send_ok(struct env *e, const void *req, uint32_t len)
{
	uint64_t r = fvq_put(&e->m, req, len);

	if (submit(e, (const struct fvq_buf[]){ { r, len, 0 },
			{ e->resp, sizeof(struct virtio_gpu_ctrl_hdr), 1 } }, 2) !=
	    VIRTIO_GPU_RESP_OK_NODATA)
		die("setup command refused");
}

/* A w x h XRGB resource on scanout 0, its backing in guest memory filled
 * with a pattern (so every page is really there), as one entry or as
 * 4 KiB pages in shuffled order. */
static void env_init(struct env *e, uint32_t w, uint32_t h, int with_disp,
		     int pages)
{
	uint64_t bytes = (uint64_t)w * h * 4, npages = (bytes + PAGE - 1) / PAGE;
	uint64_t mem = npages * PAGE + npages * sizeof(struct virtio_gpu_mem_entry) +
		       (1 << 20);
	struct virtio_gpu_mem_entry *ents;
	uint64_t base, *order, nents;
	uint8_t *pix;
	char err[128];

	memset(e, 0, sizeof(*e));
	fvq_mem_init(&e->m, MEM_GPA, mem);
	e->line = fvq_irq_line(&e->irq, 20);
	if (with_disp && !(e->disp = display_headless_new()))
		die("no headless display");
	e->g = virtio_gpu_create(&e->m.gm, &e->line, e->disp, w, h, err,
				 sizeof(err));
	if (!e->g)
		die(err);
	e->d = virtio_gpu_dev(e->g);
	fvq_init(&e->v[0], &e->m, QSIZE, NULL);
	fvq_init(&e->v[1], &e->m, QSIZE, NULL);
	if (fvq_start(e->d, e->v, 2, 1ULL << VIRTIO_GPU_F_EDID))
		die("the device did not start");
	e->resp = fvq_alloc(&e->m, 64, 8);

	struct virtio_gpu_resource_create_2d c = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), htole32(RES_ID),
		htole32(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM), htole32(w), htole32(h) };
	send_ok(e, &c, sizeof(c));

	base = fvq_alloc(&e->m, npages * PAGE, PAGE);
	pix = fvq_ptr(&e->m, base, bytes);
	for (uint64_t i = 0; i < bytes; i += 4) {
		uint32_t px = htole32((uint32_t)(i * 2654435761u));

		memcpy(pix + i, &px, 4);
	}
	nents = pages ? npages : 1;
	ents = calloc(nents, sizeof(*ents));
	order = calloc(nents, sizeof(*order));
	if (!ents || !order)
		die("out of memory");
	for (uint64_t i = 0; i < nents; i++)
		order[i] = i;
	srand(1);
	for (uint64_t i = nents; i > 1; i--) {	/* Fisher-Yates */
		uint64_t j = (uint64_t)rand() % i, t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	for (uint64_t i = 0; i < nents; i++) {
		uint64_t len = pages ? (i + 1 < nents ? PAGE : bytes - i * PAGE)
				     : bytes;

		ents[i] = (struct virtio_gpu_mem_entry){
			htole64(base + order[i] * PAGE), htole32((uint32_t)len), 0 };
	}
	struct virtio_gpu_resource_attach_backing a = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), htole32(RES_ID),
		htole32((uint32_t)nents) };
	uint64_t ga = fvq_put(&e->m, &a, sizeof(a));
	uint64_t ge = fvq_put(&e->m, ents, nents * sizeof(*ents));

	if (submit(e, (const struct fvq_buf[]){ { ga, sizeof(a), 0 },
			{ ge, (uint32_t)(nents * sizeof(*ents)), 0 },
			{ e->resp, sizeof(struct virtio_gpu_ctrl_hdr), 1 } }, 3) !=
	    VIRTIO_GPU_RESP_OK_NODATA)
		die("attach-backing refused");
	free(ents);
	free(order);

	struct virtio_gpu_set_scanout s = {
		hdr(VIRTIO_GPU_CMD_SET_SCANOUT), rect(w, h), 0, htole32(RES_ID) };
	send_ok(e, &s, sizeof(s));

	/* The frame's requests are written once and sent again each frame,
	 * so the bump allocator never runs out. */
	struct virtio_gpu_transfer_to_host_2d t = {
		hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D), rect(w, h), 0,
		htole32(RES_ID), 0 };
	struct virtio_gpu_resource_flush f = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_FLUSH), rect(w, h), htole32(RES_ID), 0 };
	e->req_xfer = fvq_put(&e->m, &t, sizeof(t));
	e->req_flush = fvq_put(&e->m, &f, sizeof(f));
}

static void env_free(struct env *e)
{
	virtio_gpu_destroy(e->g);
	if (e->disp)
		e->disp->ops->destroy(e->disp);
	fvq_mem_free(&e->m);
}

static void frame(struct env *e)
{
	const uint32_t rl = sizeof(struct virtio_gpu_ctrl_hdr);

	if (submit(e, (const struct fvq_buf[]){
			{ e->req_xfer, sizeof(struct virtio_gpu_transfer_to_host_2d), 0 },
			{ e->resp, rl, 1 } }, 2) != VIRTIO_GPU_RESP_OK_NODATA ||
	    submit(e, (const struct fvq_buf[]){
			{ e->req_flush, sizeof(struct virtio_gpu_resource_flush), 0 },
			{ e->resp, rl, 1 } }, 2) != VIRTIO_GPU_RESP_OK_NODATA)
		die("a frame's command failed");
}

/* ---- the cases --------------------------------------------------------- */

static double secs = 1.0;		/* per case and round */
static unsigned long max_frames;	/* instead: frames per case and round */
static unsigned slices = 20;		/* per round, the case order alternating */

struct copy {
	uint8_t *src, *dst;
	size_t len;
};

struct runner {
	int kind;
	struct env e;
	struct copy c;
	unsigned long frames;	/* this round */
	double time;
};

static void step(struct runner *u)
{
	if (u->kind != C_MEMCPY) {
		frame(&u->e);
		return;
	}
	memcpy(u->c.dst, u->c.src, u->c.len);
	/* Keep the compiler from dropping or merging the copies. */
	__asm__ volatile("" : : "r"(u->c.dst) : "memory");
}

static void runner_init(struct runner *u, int k, uint32_t w, uint32_t h)
{
	size_t bytes = (size_t)w * h * 4;

	memset(u, 0, sizeof(*u));
	u->kind = k;
	if (k == C_MEMCPY) {
		u->c = (struct copy){ malloc(bytes), malloc(bytes), bytes };
		if (!u->c.src || !u->c.dst)
			die("out of memory");
		memset(u->c.src, 0x5a, bytes);
		memset(u->c.dst, 0, bytes);
	} else {
		env_init(&u->e, w, h, k == C_HL_1 || k == C_HL_PAGES,
			 k == C_DEV_PAGES || k == C_HL_PAGES);
	}
	step(u);	/* warm-up: every page touched once */
}

static void runner_free(struct runner *u)
{
	if (u->kind == C_MEMCPY) {
		free(u->c.src);
		free(u->c.dst);
	} else {
		env_free(&u->e);
	}
}

/* One slice: secs / slices seconds, or max_frames / slices frames. */
static void run_slice(struct runner *u)
{
	unsigned long n = 0, want = (max_frames + slices - 1) / slices;
	double t0 = now(), t;

	do {
		step(u);
		n++;
		t = now();
	} while (max_frames ? n < want : t - t0 < secs / slices);
	u->frames += n;
	u->time += t - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, unsigned n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void bench_size(uint32_t w, uint32_t h, unsigned rounds)
{
	static struct runner run[NCASES];
	double fps[NCASES][MAX_ROUNDS], ratio[NCASES][MAX_ROUNDS];
	double mb = (double)w * h * 4 / 1e6;

	for (int k = 0; k < NCASES; k++)
		runner_init(&run[k], k, w, h);
	for (unsigned r = 0; r < rounds; r++) {
		for (int k = 0; k < NCASES; k++)
			run[k].frames = 0, run[k].time = 0;
		/* A B C D E, E D C B A, ...: slow drifts of the machine's
		 * load hit every case alike. */
		for (unsigned sl = 0; sl < slices; sl++)
			for (int i = 0; i < NCASES; i++)
				run_slice(&run[sl % 2 ? NCASES - 1 - i : i]);
		for (int k = 0; k < NCASES; k++)
			fps[k][r] = run[k].frames / run[k].time;
		for (int k = 0; k < NCASES; k++)
			ratio[k][r] = fps[k][r] / fps[C_MEMCPY][r];
	}
	for (int k = 0; k < NCASES; k++)
		runner_free(&run[k]);

	printf("\n%ux%u, %.2f MB per frame\n", w, h, mb);
	printf("  %-22s %10s %10s %10s %19s\n", "case", "frames/s", "MB/s",
	       "vs memcpy", "spread frames/s");
	for (int k = 0; k < NCASES; k++) {
		double lo = fps[k][0], hi = fps[k][0], m = median(fps[k], rounds);

		for (unsigned r = 1; r < rounds; r++) {
			lo = fps[k][r] < lo ? fps[k][r] : lo;
			hi = fps[k][r] > hi ? fps[k][r] : hi;
		}
		printf("  %-22s %10.1f %10.0f %9.2fx %9.1f-%-9.1f\n",
		       case_name[k], m, m * mb, median(ratio[k], rounds), lo, hi);
	}
}

int main(int argc, char **argv)
{
	unsigned rounds = 3;
	int opt;

	while ((opt = getopt(argc, argv, "t:n:r:s:h")) != -1) {
		switch (opt) {
		case 't':
			secs = atof(optarg);
			break;
		case 'n':
			max_frames = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = (unsigned)atoi(optarg);
			break;
		case 's':
			slices = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-t SECONDS] [-n FRAMES] "
				"[-r ROUNDS] [-s SLICES] [WxH ...]\n", argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (secs <= 0 || rounds < 1 || rounds > MAX_ROUNDS || slices < 1)
		die("-t must be > 0, -r 1..64, -s at least 1");
	printf("virtio-gpu 2D: TRANSFER_TO_HOST_2D + RESOURCE_FLUSH (full screen)"
	       " per frame,\nthrough virtio-mmio with fake guest memory.\n"
	       "%u rounds of ", rounds);
	if (max_frames)
		printf("%lu frames", max_frames);
	else
		printf("%.2g s", secs);
	printf(" per case, interleaved in %u slices (order alternating);\n"
	       "medians over rounds; ratio: MB/s over memcpy's in the same "
	       "round\n", slices);
	if (optind == argc) {
		bench_size(1280, 800, rounds);
		bench_size(1920, 1080, rounds);
	}
	for (int i = optind; i < argc; i++) {
		unsigned w, h;

		if (sscanf(argv[i], "%ux%u", &w, &h) != 2 ||
		    w < VIRTIO_GPU_MODE_MIN || h < VIRTIO_GPU_MODE_MIN ||
		    w > VIRTIO_GPU_MODE_MAX || h > VIRTIO_GPU_MODE_MAX)
			die("sizes are WxH, each 64-4095");
		bench_size(w, h, rounds);
	}
	printf("\n(device: one copy guest->resource per frame; headless: a"
	       " second copy\n resource->frame store on flush. memcpy: one copy"
	       " of the same bytes.)\n");
	return 0;
}
