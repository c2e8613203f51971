/* The stdin feeder against the real UART model and event loop: input from
 * a file or a pipe waits until the guest opens the port, then arrives in
 * order; Ctrl-A x is seen even while the guest takes nothing. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "check.h"
#include "serial.h"
#include "stdin_feed.h"

#define REG_DATA 0
#define REG_IER 1
#define REG_FCR 2
#define REG_MCR 4
#define REG_LSR 5

static uint8_t rd(struct serial *s, unsigned reg)
{
	uint8_t v = 0;

	serial_bus_ops.read(s, reg, &v, 1);
	return v;
}

static void wr(struct serial *s, unsigned reg, uint8_t v)
{
	serial_bus_ops.write(s, reg, &v, 1);
}

static size_t uart_rx(void *dev, const uint8_t *b, size_t n)
{
	return serial_receive(dev, b, n);
}

static int quits;
static void on_quit(void *ctx)
{
	(void)ctx;
	quits++;
}

/* Runs the loop's pending work without blocking forever. */
static void pump(struct loop *l)
{
	struct epoll_event ev[8];
	int n;

	while ((n = epoll_wait(l->epfd, ev, 8, 50)) > 0)
		for (int i = 0; i < n; i++) {
			struct loop_source *s = ev[i].data.ptr;
			if (s->fn)
				s->fn(s->opaque, ev[i].events);
		}
}

/* The guest side: drain whatever the UART holds. */
static size_t drain(struct serial *s, char *out, size_t max)
{
	size_t n = 0;

	while (n < max && (rd(s, REG_LSR) & 1))
		out[n++] = (char)rd(s, REG_DATA);
	return n;
}

static void feed_from(int fd, const char *want, int open_late)
{
	struct serial uart;
	struct loop loop;
	struct stdin_feed f;
	char got[512];
	size_t n = 0;
	int saved = dup(0);

	dup2(fd, 0);
	serial_init(&uart, -1, NULL);
	CHECK_EQ(loop_init(&loop), 0);
	uart.rx_room = stdin_feed_room;
	uart.rx_room_ctx = &f;
	CHECK_EQ(stdin_feed_start(&f, &loop, uart_rx, &uart, on_quit, NULL), 0);
	if (!open_late) {
		wr(&uart, REG_MCR, 0x08);
		wr(&uart, REG_IER, 0x01);
	}
	pump(&loop);
	if (open_late) {
		/* Linux's probe flips IER alone; nothing may arrive then. */
		wr(&uart, REG_IER, 0x0f);
		pump(&loop);
		wr(&uart, REG_IER, 0);
		CHECK_EQ(rd(&uart, REG_LSR) & 1, 0);
		/* What serial8250_do_startup and _set_termios do. */
		wr(&uart, REG_FCR, 0x01);	/* clear_fifos() */
		wr(&uart, REG_FCR, 0x07);
		wr(&uart, REG_FCR, 0x00);
		wr(&uart, REG_MCR, 0x0b);	/* DTR RTS OUT2 */
		wr(&uart, REG_IER, 0x05);	/* RLSI | RDI */
		pump(&loop);			/* input may arrive here */
		wr(&uart, REG_FCR, 0x01);	/* FIFO back on, two steps */
		wr(&uart, REG_FCR, 0x81);
	}
	for (int i = 0; i < 200 && n < strlen(want); i++) {
		pump(&loop);
		n += drain(&uart, got + n, sizeof(got) - n);
	}
	got[n] = 0;
	CHECK_EQ(n, strlen(want));
	CHECK(strcmp(got, want) == 0);
	stdin_feed_stop(&f);
	loop_destroy(&loop);
	serial_destroy(&uart);
	dup2(saved, 0);
	close(saved);
}

static const char text[] =
	"echo typed-$((6*7))\npoweroff -f\n"
	"and a longer line that is well past the sixty-four bytes of the FIFO "
	"so that back-pressure has to work for it to arrive whole\n";

TEST(test_file_input_after_port_opens)
{
	char path[] = "/tmp/minivmm-feed-XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK_EQ(write(fd, text, strlen(text)), (long)strlen(text));
	lseek(fd, 0, SEEK_SET);
	feed_from(fd, text, 1);
	close(fd);
	unlink(path);
}

TEST(test_pipe_input_after_port_opens)
{
	int p[2];

	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(write(p[1], text, strlen(text)), (long)strlen(text));
	close(p[1]);
	feed_from(p[0], text, 1);
	close(p[0]);
}

TEST(test_file_input_port_already_open)
{
	char path[] = "/tmp/minivmm-feed-XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK_EQ(write(fd, text, strlen(text)), (long)strlen(text));
	lseek(fd, 0, SEEK_SET);
	feed_from(fd, text, 0);
	close(fd);
	unlink(path);
}

int main(void)
{
	RUN(test_file_input_after_port_opens);
	RUN(test_pipe_input_after_port_opens);
	RUN(test_file_input_port_already_open);
	return CHECK_DONE();
}
