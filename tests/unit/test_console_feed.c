/* The stdin feeder against the real virtio-console, transport and event
 * loop, with a fake guest that follows Linux 6.1's virtio_console driver
 * (no MULTIPORT) step by step:
 *
 *   virtcons_probe: init_vqs, virtio_device_ready (DRIVER_OK), then
 *     add_port: fill_queue (one receive buffer at a time, a kick after
 *     each add when EVENT_IDX asks for one), init_port_console (hvc_alloc),
 *     and only then list_add_tail onto portdev->ports;
 *   virtio_dev_probe: reads STATUS back, then virtio_config_enable runs the
 *     config change that arrived during probe (config_work_handler reads
 *     cols and rows);
 *   in_intr: find_port_by_vq; before list_add_tail it finds nothing and
 *     flush_bufs() frees the used receive buffers unread;
 *   hvc_open kicks khvcd, whose hvc_poll -> get_chars takes what is in
 *     the used ring.
 *
 * Input that is ready before the guest boots (a file or a pipe on stdin)
 * must come out of the hvc tty whole, not be used during probe and freed. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "check.h"
#include "fake_virtq.h"
#include "stdin_feed.h"
#include "virtio_console.h"

#define MEM_GPA		0x100000ULL
#define MEM_SIZE	(1ULL << 20)
#define QSIZE		16
#define BUF_SIZE	64		/* PAGE_SIZE in Linux */
#define RXQ		VIRTIO_CONSOLE_RXQ
#define TXQ		VIRTIO_CONSOLE_TXQ

struct guest {
	struct fvq_mem m;
	struct fvq v[2];
	struct fvq_irq irq;
	struct irq_line line;
	struct virtio_console *c;
	struct virtio_dev *d;
	struct loop loop;
	struct stdin_feed f;
	int event_idx;
	unsigned pulses_seen;
	int port_listed;	/* add_port's list_add_tail has run */
	int config_enabled;	/* virtio_config_enable has run */
	int config_pending;	/* a config change arrived before that */
	unsigned config_works;	/* config_work_handler runs */
	size_t discarded;	/* bytes flush_bufs() freed unread */
	char got[256];		/* what the port took from the used ring */
	size_t ngot;
};

static int quits;
static void on_quit(void *ctx)
{
	(void)ctx;
	quits++;
}

static size_t console_rx(void *dev, const uint8_t *b, size_t n)
{
	return virtio_console_receive(dev, b, n);
}

static uint16_t mmio_read16(struct virtio_dev *d, uint64_t off)
{
	uint8_t b[2];

	virtio_mmio_ops.read(d, off, b, 2);
	return (uint16_t)(b[0] | b[1] << 8);
}

/* config_work_handler: virtio_cread of cols, then rows. */
static void config_work(struct guest *g)
{
	CHECK_EQ(mmio_read16(g->d, VIRTIO_MMIO_CONFIG + VIRTIO_CONSOLE_CFG_COLS), 80);
	CHECK_EQ(mmio_read16(g->d, VIRTIO_MMIO_CONFIG + VIRTIO_CONSOLE_CFG_ROWS), 25);
	g->config_works++;
}

/* Takes the used receive buffers: kept by the port, or (before the port
 * is listed, in_intr's !port case) freed unread. */
static void take_used_rx(struct guest *g, int keep)
{
	struct fvq_used u;
	uint64_t gpa;

	while (fvq_get_used(&g->v[RXQ], &u)) {
		CHECK(u.id < QSIZE && u.len <= BUF_SIZE);
		if (u.id >= QSIZE || u.len > BUF_SIZE)
			return;
		if (!keep) {
			g->discarded += u.len;
			continue;
		}
		CHECK(g->ngot + u.len <= sizeof(g->got));
		if (g->ngot + u.len > sizeof(g->got))
			return;
		/* The buffer's address, from the head descriptor. */
		memcpy(&gpa, fvq_ptr(&g->m, g->v[RXQ].desc + 16 * (uint64_t)u.id,
				     8), 8);
		memcpy(g->got + g->ngot, fvq_ptr(&g->m, le64toh(gpa), u.len),
		       u.len);
		g->ngot += u.len;
	}
}

/* vm_interrupt: ISR read and ack, config change, then every queue. */
static void guest_irq(struct guest *g)
{
	struct fvq_used u;

	while (g->irq.pulses != g->pulses_seen) {
		uint32_t isr = fvq_mmio_read(g->d, VIRTIO_MMIO_INTERRUPT_STATUS);

		g->pulses_seen = g->irq.pulses;
		fvq_mmio_write(g->d, VIRTIO_MMIO_INTERRUPT_ACK, isr);
		if (isr & VIRTIO_ISR_CONFIG) {
			if (g->config_enabled)
				config_work(g);
			else
				g->config_pending = 1;
		}
		if (isr & VIRTIO_ISR_USED) {
			take_used_rx(g, g->port_listed);	/* in_intr */
			while (fvq_get_used(&g->v[TXQ], &u))	/* out_intr */
				;
		}
	}
}

/* The event thread and the guest's interrupt handler get to run. */
static void run(struct guest *g)
{
	for (int round = 0; round < 100; round++) {
		struct epoll_event ev[8];
		int n = epoll_wait(g->loop.epfd, ev, 8, 0);

		guest_irq(g);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			struct loop_source *s = ev[i].data.ptr;

			if (s->fn)
				s->fn(s->opaque, ev[i].events);
		}
	}
	guest_irq(g);
}

static void setup(struct guest *g, int fd, int event_idx)
{
	memset(g, 0, sizeof(*g));
	g->event_idx = event_idx;
	fvq_mem_init(&g->m, MEM_GPA, MEM_SIZE);
	g->line = fvq_irq_line(&g->irq, 17);
	g->c = virtio_console_create(&g->m.gm, &g->line, -1);
	if (!g->c)
		abort();
	g->d = virtio_console_dev(g->c);
	CHECK_EQ(loop_init(&g->loop), 0);
	g->c->rx_room = stdin_feed_room;
	g->c->rx_room_ctx = &g->f;
	dup2(fd, 0);
	CHECK_EQ(stdin_feed_start(&g->f, &g->loop, console_rx, g->c, on_quit,
				  NULL), 0);
	run(g);		/* stdin read while the guest is still booting */
}

static void teardown(struct guest *g, int saved_stdin)
{
	stdin_feed_stop(&g->f);
	loop_destroy(&g->loop);
	virtio_console_destroy(g->c);
	fvq_mem_free(&g->m);
	dup2(saved_stdin, 0);
}

/* vring_need_event */
static int need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* virtcons_probe and virtio_dev_probe's tail, as in Linux 6.1. */
static void linux_probe(struct guest *g)
{
	uint64_t features = 1ULL << VIRTIO_CONSOLE_F_SIZE;

	if (g->event_idx)
		features |= 1ULL << VIRTIO_F_RING_EVENT_IDX;
	fvq_init(&g->v[RXQ], &g->m, QSIZE, NULL);
	fvq_init(&g->v[TXQ], &g->m, QSIZE, NULL);
	/* init_vqs, virtio_device_ready */
	CHECK_EQ(fvq_start(g->d, g->v, 2, features), 0);
	run(g);

	/* add_port: fill_queue, add_inbuf kicking after every add. */
	for (unsigned i = 0; i < QSIZE; i++) {
		uint16_t old = g->v[RXQ].avail_idx;

		FVQ_ADD(&g->v[RXQ], { fvq_alloc(&g->m, BUF_SIZE, 8), BUF_SIZE, 1 });
		if (!g->event_idx ||
		    need_event(fvq_avail_event(&g->v[RXQ]),
			       g->v[RXQ].avail_idx, old))
			fvq_kick(g->d, RXQ);
		run(g);
	}
	/* init_port_console: hvc_alloc takes its time. */
	run(g);
	g->port_listed = 1;	/* list_add_tail(&port->list, ...) */
	run(g);

	/* virtio_dev_probe: the status read-back, virtio_config_enable. */
	CHECK(fvq_mmio_read(g->d, VIRTIO_MMIO_STATUS) &
	      VIRTIO_STATUS_DRIVER_OK);
	g->config_enabled = 1;
	if (g->config_pending) {
		g->config_pending = 0;
		config_work(g);
	}
	run(g);
}

/* hvc_open -> hvc_kick -> hvc_poll -> get_chars: the used ring. */
static void tty_open(struct guest *g)
{
	take_used_rx(g, 1);
	run(g);
}

static void boot_and_read(int fd, int event_idx, const char *want)
{
	struct guest g;
	int saved = dup(0);

	setup(&g, fd, event_idx);
	linux_probe(&g);
	tty_open(&g);
	CHECK_EQ(g.discarded, 0);
	CHECK_EQ(g.ngot, strlen(want));
	CHECK(g.ngot == strlen(want) && !memcmp(g.got, want, g.ngot));
	CHECK(!(fvq_mmio_read(g.d, VIRTIO_MMIO_STATUS) &
		VIRTIO_STATUS_NEEDS_RESET));
	teardown(&g, saved);
	close(saved);
}

static int file_with(const char *s)
{
	char path[] = "/tmp/minivmm-cfeed-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		abort();
	lseek(fd, 0, SEEK_SET);
	unlink(path);
	return fd;
}

/* build/minivmm --console virtio ... < file, the guest running
 * head -n 1 /dev/hvc0 */
TEST(test_file_input_survives_probe)
{
	for (int ev = 0; ev < 2; ev++) {
		int fd = file_with("hello-hvc\n");

		boot_and_read(fd, ev, "hello-hvc\n");
		close(fd);
	}
}

TEST(test_pipe_input_survives_probe)
{
	for (int ev = 0; ev < 2; ev++) {
		int p[2];

		CHECK_EQ(pipe(p), 0);
		CHECK_EQ(write(p[1], "echo hvc-typed-$((6*7)); tty\npoweroff -f\n",
			       41), 41);
		close(p[1]);
		boot_and_read(p[0], ev, "echo hvc-typed-$((6*7)); tty\npoweroff -f\n");
		close(p[0]);
	}
}

/* Typed once the shell is up: it arrives with an interrupt, and a driver
 * reset (module reload, kexec) holds input again until the new probe is
 * done. */
TEST(test_typing_after_boot_and_reprobe)
{
	struct guest g;
	int p[2], saved = dup(0);

	CHECK_EQ(pipe(p), 0);
	setup(&g, p[0], 1);
	linux_probe(&g);
	tty_open(&g);
	CHECK_EQ(g.ngot, 0);
	CHECK_EQ(write(p[1], "ls\n", 3), 3);
	run(&g);
	CHECK_EQ(g.ngot, 3);
	CHECK(!memcmp(g.got, "ls\n", 3));

	/* virtcons_remove resets the device; the next probe starts over. */
	fvq_mmio_write(g.d, VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(write(p[1], "pwd\n", 4), 4);
	run(&g);
	g.ngot = 0;
	g.port_listed = g.config_enabled = g.config_pending = 0;
	linux_probe(&g);
	tty_open(&g);
	CHECK_EQ(g.discarded, 0);
	CHECK_EQ(g.ngot, 4);
	CHECK(!memcmp(g.got, "pwd\n", 4));
	close(p[1]);
	teardown(&g, saved);
	close(p[0]);
	close(saved);
}

int main(void)
{
	RUN(test_file_input_survives_probe);
	RUN(test_pipe_input_survives_probe);
	RUN(test_typing_after_boot_and_reprobe);
	return CHECK_DONE();
}
