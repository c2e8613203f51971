/* The control socket: a unix stream socket through which scripts and
 * tests drive a running VM (`minivmm ctl PATH CMD ...`, or socat).
 *
 * Protocol: UTF-8 text lines.  A client sends one request line (at most
 * CONTROL_LINE_MAX bytes with its '\n'; a '\r' before it is ignored) and
 * gets one response line, "ok[ detail]" or "error: message"; several
 * requests on one connection are answered in order.
 *
 *	ping			ok pong
 *	screenshot /ABS/PATH	ok /ABS/PATH   (the display's PNG writer)
 *	key NAME[+NAME...]	press in order, release in reverse; NAME as
 *				keymap_lookup ("enter", "ctrl+alt+f2", "A"),
 *				or a shifted character ("!", "ctrl++")
 *	type TEXT		printable ASCII typed on a US layout
 *	pointer X Y [click]	move to pixel (X, Y) of the guest's screen;
 *				click: left button press and release
 *	stop			ok stopping; the VM then exits with status 6
 *
 * Key and pointer events each end in SYN_REPORT.  `type` is paced: one
 * character per CONTROL_TICK_MS, and only once the keyboard has handed
 * everything before it to the guest (keyboard_pending), so long text never
 * overflows the device's backlog; its "ok" comes when the last character
 * went out.  Concurrent clients' input may interleave, a character (or a
 * key combination) at a time.
 *
 * The parser and the command logic (devices/control_proto.c) know no
 * sockets; the server (vmm/control.c) runs on the event loop and never
 * blocks it; the client is vmm/ctl_client.c. */
#ifndef MINIVMM_CONTROL_H
#define MINIVMM_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include "display.h"
#include "input_event.h"
#include "loop.h"

#define CONTROL_LINE_MAX	4096	/* a request, '\n' included */
#define CONTROL_RESP_MAX	(CONTROL_LINE_MAX + 64)
#define CONTROL_MAX_COMBO	8	/* keys in one `key a+b+...` */
#define CONTROL_MAX_CLIENTS	16
#define CONTROL_TICK_MS		1	/* typing pace */
#define CONTROL_JOB_TIMEOUT_MS	5000	/* keyboard stuck: give up typing */
#define CONTROL_WRITE_TIMEOUT_MS 2000	/* client not reading: dropped */
#define CONTROL_IDLE_TIMEOUT_MS	60000	/* client silent: dropped */
#define CONTROL_LINE_TIMEOUT_MS	10000	/* a request line left unfinished */
#define CONTROL_EVICT_IDLE_MS	1000	/* all slots taken: the longest idle
					 * for this long makes room */
#define CONTROL_CLIENT_TIMEOUT_MS 10000	/* ctl waits this (+ typing) */

/* What the commands act on; anything may be missing (NULL), and the
 * command that needs it answers with an error. */
struct control_hooks {
	struct display *display;	/* screenshot */
	struct input_sink keyboard;	/* key, type */
	struct input_sink pointer;	/* absolute, 0..INPUT_ABS_MAX */
	/* The guest's screen in pixels now (0 x 0: no scanout yet). */
	void (*screen_size)(void *ctx, uint32_t *w, uint32_t *h);
	void *screen_ctx;
	/* Events the keyboard holds that the guest has not taken yet
	 * (virtio_input_pending); typing waits for 0.  Optional. */
	unsigned (*keyboard_pending)(void *ctx);
	void *pending_ctx;
	/* Stops the VM with EXIT_STOPPED.  Called on the event thread
	 * after the "ok" was sent; must not call control_stop itself. */
	void (*stop)(void *ctx);
	void *stop_ctx;
};

/* ---- the protocol (devices/control_proto.c) -------------------------- */

enum control_cmd {
	CONTROL_PING,
	CONTROL_STOP,
	CONTROL_SCREENSHOT,
	CONTROL_KEY,
	CONTROL_TYPE,
	CONTROL_POINTER,
};

struct control_request {
	enum control_cmd cmd;
	const char *arg;	/* screenshot path, type text: in the line */
	size_t arg_len;
	int keys[CONTROL_MAX_COMBO];	/* key: pressed in this order */
	unsigned nr_keys;
	uint32_t x, y;		/* pointer, pixels */
	int click;
};

/* Parses one request; line[len] must be '\0' (the newline and a '\r'
 * before it already removed); NULs inside are refused.  0, or -1 with
 * the message for "error: ..." in err. */
int control_parse(const char *line, size_t len, struct control_request *r,
		  char *err, size_t errlen);

/* The events of one `key` combination, of one typed character (0, or -1
 * when c has no key), and of one pointer move (+ click). */
void control_send_keys(const struct input_sink *kbd, const int *codes,
		       unsigned n);
int control_send_char(const struct input_sink *kbd, char c);
void control_send_pointer(const struct input_sink *ptr, int32_t ax,
			  int32_t ay, int click);

/* Pixel p of a size-pixel axis to 0..INPUT_ABS_MAX, aimed at the pixel's
 * centre so either rounding a guest uses lands on it.  p < size > 0. */
int32_t control_scale(uint32_t p, uint32_t size);

/* "ok[ detail]\n" or "error: msg\n" into buf (cap >= 16), control
 * characters replaced, truncated to fit; returns the length. */
size_t control_format(char *buf, size_t cap, int ok, const char *text);

/* One request being carried out; most finish in control_exec_start, a
 * `type` over several control_exec_step calls. */
struct control_exec {
	char line[CONTROL_LINE_MAX];	/* the request; r points into it */
	struct control_request r;
	size_t typed;			/* characters of `type` sent */
	uint64_t progress_ms;		/* when one last went out */
	int stop;			/* call hooks->stop after replying */
	char resp[CONTROL_RESP_MAX];	/* the response, '\n' included */
	size_t resp_len;
};

enum { CONTROL_DONE = 0, CONTROL_PENDING = 1 };

/* Parses and starts one request line (len bytes, no newline).  Returns
 * CONTROL_DONE with x->resp set, or CONTROL_PENDING: call
 * control_exec_step every CONTROL_TICK_MS until it returns DONE. */
int control_exec_start(struct control_exec *x, const struct control_hooks *h,
		       const char *line, size_t len, uint64_t now_ms);
int control_exec_step(struct control_exec *x, const struct control_hooks *h,
		      uint64_t now_ms);

/* The client's side: the request line for `ctl` arguments argv[0..argc)
 * (command first; `type` words joined by spaces), '\n' included.  The
 * screenshot path is sent as given: make it absolute first.  Returns the
 * length, or -1 with a usage message in err. */
int control_build_request(int argc, char **argv, char *line, size_t cap,
			  char *err, size_t errlen);

/* ---- the server (vmm/control.c) --------------------------------------- */

/* Clients are untrusted; what one can hold is bounded:
 * - a request line: CONTROL_LINE_MAX bytes ("error: request too long",
 *   then the connection is closed), finished within
 *   control_line_timeout_ms of its first byte ("error: request not
 *   finished in time", closed);
 * - its answers: unread for CONTROL_WRITE_TIMEOUT_MS, it is dropped;
 * - a slot: silent for control_idle_timeout_ms, it is dropped; when all
 *   CONTROL_MAX_CLIENTS are taken, a newcomer takes the place of the
 *   client idle longest (no request in progress, nothing unsent, nothing
 *   half sent) once that one has been idle CONTROL_EVICT_IDLE_MS;
 *   otherwise the newcomer gets "error: too many clients".
 * A client that hangs up in the middle of a line has that fragment
 * discarded (a half-closed one, still reading, has it run as its last
 * request).  Tests shorten the two timeouts. */
extern unsigned control_idle_timeout_ms, control_line_timeout_ms;

struct control_client;

struct control {
	int started;
	struct loop *loop;
	struct control_hooks hooks;
	int listen_fd, timer_fd;
	unsigned timer_ms;		/* current tick, 0: disarmed */
	int accept_paused;		/* out of fds: the timer retries */
	char path[108];			/* sun_path */
	uint64_t dev, ino;		/* of our socket file, to unlink only it */
	struct control_client *client[CONTROL_MAX_CLIENTS];
};

/* Creates the socket at path (mode 0600) and serves it on loop.  A stale
 * socket left by a dead minivmm is replaced; a live one, or anything
 * else at path, is refused and left alone.  0, or -1 with a message. */
int control_start(struct control *c, struct loop *loop, const char *path,
		  const struct control_hooks *hooks, char *err, size_t errlen);

/* What can be told about path before the VM is built (options.c calls
 * it, so a mistake is a usage error found before /dev/kvm is opened):
 * 1 to 107 bytes (sun_path), and either nothing there in an existing
 * directory, or a socket.  Whether that socket is live is control_start's
 * to find out.  0, or -1 with a message. */
int control_check_path(const char *path, char *err, size_t errlen);

/* Closes every client and the socket, and unlinks it if it is still
 * ours.  Safe on a control that never started (zeroed) or twice. */
void control_stop(struct control *c);

/* ---- the client (vmm/ctl_client.c) ------------------------------------ */

/* `minivmm ctl PATH CMD [ARGS...]`: argv[0] is PATH.  Prints the
 * server's detail and returns 0; "minivmm: ..." and 1 for connection
 * trouble or the server's error, 2 for usage mistakes. */
int ctl_client_main(int argc, char **argv);

/* How long ctl waits for the answer (CONTROL_CLIENT_TIMEOUT_MS, plus
 * 10 ms per byte of a `type`); tests shorten it. */
extern unsigned ctl_client_timeout_ms;

#endif
