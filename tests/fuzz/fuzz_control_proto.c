/* fuzz_control_proto: the control-socket protocol (devices/control_proto.c)
 * that untrusted local clients speak: control_parse, control_exec_start /
 * control_exec_step with recording hooks, control_build_request (the
 * client's side) and control_format.
 *
 * Input: 8 header bytes - screen width and height (le16 each; 0 means no
 * scanout yet), a flags byte (bit 0 no keyboard, 1 no pointer, 2 no
 * display, 3 no stop hook, 4 screenshots fail, 5 no screen_size hook,
 * 6 the keyboard never drains), a pending-events pattern byte, a
 * response-buffer size for control_format, one spare - then request
 * lines separated by '\n' (the first 64), each carried out to the end
 * (typing is stepped with the clock running, so a stuck keyboard times
 * out).
 *
 * Checks: every response is one "ok..." or "error: ..." line without
 * control characters, that fits; a request leaves no key or button held
 * down; key codes are real key codes and pointer positions lie in
 * 0..INPUT_ABS_MAX and land on the pixel asked for; stop and screenshot
 * happen only when asked and possible; a parsed request's fields are
 * sane; the client's request builder makes one line the server reads
 * the same way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "control.h"
#include "fuzz_common.h"
#include "keymap.h"
#include "virtio_input.h"

struct rec {
	unsigned events;
	int down[KEY_CNT];	/* presses minus releases per code */
	int held;		/* codes down now */
	int32_t last_x, last_y;
	int moved;
};

static struct rec kbd, ptr;
static unsigned stops, shots, pending_calls;
static uint8_t flags, pending_pattern;
static uint32_t scr_w, scr_h;

static void rec_event(struct rec *r, uint16_t type, uint16_t code, int32_t value)
{
	r->events++;
	switch (type) {
	case EV_KEY:
		FZ_CHECK(code > 0 && code < KEY_CNT);
		FZ_CHECK(value == 0 || value == 1);
		r->down[code] += value ? 1 : -1;
		r->held += value ? 1 : -1;
		/* Never released before pressed, never pressed twice. */
		FZ_CHECK(r->down[code] == 0 || r->down[code] == 1);
		break;
	case EV_SYN:
		FZ_CHECK(code == SYN_REPORT && value == 0);
		break;
	case EV_ABS:
		FZ_CHECK(code == ABS_X || code == ABS_Y);
		FZ_CHECK(value >= 0 && value <= INPUT_ABS_MAX);
		if (code == ABS_X)
			r->last_x = value;
		else
			r->last_y = value;
		r->moved = 1;
		break;
	default:
		FZ_CHECK(0);
	}
}

static void kbd_event(void *ctx, uint16_t type, uint16_t code, int32_t value)
{
	(void)ctx;
	FZ_CHECK(type != EV_ABS);
	rec_event(&kbd, type, code, value);
}

static void ptr_event(void *ctx, uint16_t type, uint16_t code, int32_t value)
{
	(void)ctx;
	FZ_CHECK(type != EV_KEY || code == BTN_LEFT);
	rec_event(&ptr, type, code, value);
}

static void screen_size(void *ctx, uint32_t *w, uint32_t *h)
{
	(void)ctx;
	*w = scr_w;
	*h = scr_h;
}

static unsigned keyboard_pending(void *ctx)
{
	(void)ctx;
	pending_calls++;
	if (flags & 0x40)
		return 1;
	return (pending_pattern >> (pending_calls % 8)) & 1;
}

static void stop(void *ctx)
{
	(void)ctx;
	stops++;
}

static const char *last_shot;

static int screenshot(struct display *d, const char *path, char *err,
		      size_t errlen)
{
	(void)d;
	shots++;
	last_shot = path;
	if (flags & 0x10) {
		snprintf(err, errlen, "cannot write '%s'\x01", path);
		return -1;
	}
	return 0;
}

static const struct display_ops disp_ops = {
	.name = "fuzz",
	.screenshot = screenshot,
};
static struct display disp = { .ops = &disp_ops };

/* Nothing held down once a request is over. */
static void check_released(void)
{
	FZ_CHECK(!kbd.held && !ptr.held);
}

static FZ_CHECKER void check_resp(const struct control_exec *x)
{
	FZ_CHECK(x->resp_len > 0 && x->resp_len < sizeof(x->resp));
	FZ_CHECK(strlen(x->resp) == x->resp_len);
	FZ_CHECK(x->resp[x->resp_len - 1] == '\n');
	FZ_CHECK(!strncmp(x->resp, "ok", 2) || !strncmp(x->resp, "error: ", 7));
	FZ_CHECK(x->resp[0] == 'e' || x->resp_len == 3 || x->resp[2] == ' ');
	for (size_t i = 0; i + 1 < x->resp_len; i++)
		FZ_CHECK((unsigned char)x->resp[i] >= 0x20 && x->resp[i] != 0x7f);
}

static FZ_CHECKER void check_parsed(const struct control_request *r, const char *line,
			 size_t len)
{
	FZ_CHECK(r->arg >= line && r->arg_len <= len &&
		 (size_t)(r->arg - line) <= len - r->arg_len);
	switch (r->cmd) {
	case CONTROL_KEY:
		FZ_CHECK(r->nr_keys >= 1 && r->nr_keys <= CONTROL_MAX_COMBO);
		for (unsigned i = 0; i < r->nr_keys; i++)
			FZ_CHECK(r->keys[i] > 0 && r->keys[i] < KEY_CNT);
		break;
	case CONTROL_TYPE:
		FZ_CHECK(r->arg_len > 0);
		for (size_t i = 0; i < r->arg_len; i++) {
			int code, shift;

			FZ_CHECK(keymap_char(r->arg[i], &code, &shift) == 0);
		}
		break;
	case CONTROL_SCREENSHOT:
		FZ_CHECK(r->arg_len > 0 && r->arg[0] == '/');
		break;
	case CONTROL_POINTER:
		FZ_CHECK(r->x < 10000000 && r->y < 10000000);
		break;
	default:
		break;
	}
}

/* One request line, carried out to the end. */
static void request(const struct control_hooks *h, const char *line, size_t len)
{
	static struct control_exec x;
	static char copy[CONTROL_LINE_MAX + 1];
	struct control_request r;
	char err[256];
	uint64_t now = 1000;
	unsigned stops0 = stops, shots0 = shots, steps = 0;
	int st;

	/* The parser alone (it wants a NUL after the line). */
	if (len < sizeof(copy)) {
		memcpy(copy, line, len);
		copy[len] = '\0';
		if (control_parse(copy, len, &r, err, sizeof(err)) == 0)
			check_parsed(&r, copy, len);
		else
			FZ_CHECK(err[0] && strlen(err) < sizeof(err));
	}

	ptr.moved = 0;
	st = control_exec_start(&x, h, line, len, now);
	while (st == CONTROL_PENDING) {
		FZ_CHECK(++steps <= CONTROL_LINE_MAX * 8);
		now += (flags & 0x40) ? 700 : CONTROL_TICK_MS;
		st = control_exec_step(&x, h, now);
	}
	FZ_CHECK(st == CONTROL_DONE);
	check_resp(&x);
	check_released();
	FZ_CHECK(stops == stops0);	/* the server calls stop, not exec */
	if (x.stop)
		FZ_CHECK(h->stop && x.r.cmd == CONTROL_STOP &&
			 !strcmp(x.resp, "ok stopping\n"));
	if (shots != shots0) {
		FZ_CHECK(shots == shots0 + 1 && x.r.cmd == CONTROL_SCREENSHOT);
		FZ_CHECK(last_shot && last_shot[0] == '/');
	}
	/* A pointer that moved landed on the pixel asked for (as libinput
	 * maps it: abs * size / (MAX + 1)), on screens up to 16384. */
	if (ptr.moved) {
		FZ_CHECK(x.r.cmd == CONTROL_POINTER && x.r.x < scr_w && x.r.y < scr_h);
		if (scr_w <= 16384)
			FZ_CHECK((uint64_t)ptr.last_x * scr_w / (INPUT_ABS_MAX + 1) == x.r.x);
		if (scr_h <= 16384)
			FZ_CHECK((uint64_t)ptr.last_y * scr_h / (INPUT_ABS_MAX + 1) == x.r.y);
	}
	if (x.stop)
		stop(NULL);	/* as the server does, after replying */
}

/* The client's builder on the line's words, then the server's parser on
 * what it built. */
static void client(const char *line, size_t len, size_t cap)
{
	static char buf[CONTROL_LINE_MAX + 1], out[CONTROL_LINE_MAX + 2];
	char *argv[16], err[256];
	int argc = 0, n;

	if (len >= sizeof(buf))
		return;
	memcpy(buf, line, len);
	buf[len] = '\0';
	for (char *p = buf; argc < 16;) {
		argv[argc++] = p;
		p = strchr(p, ' ');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (cap > sizeof(out))
		cap = sizeof(out);
	n = control_build_request(argc, argv, out, cap, err, sizeof(err));
	if (n < 0)
		return;
	FZ_CHECK((size_t)n + 1 <= cap && (size_t)n == strlen(out));
	FZ_CHECK(n >= 1 && out[n - 1] == '\n' && !memchr(out, '\n', (size_t)n - 1));
	FZ_CHECK((size_t)n <= CONTROL_LINE_MAX);
	{
		struct control_request r;

		out[n - 1] = '\0';
		if (control_parse(out, (size_t)n - 1, &r, err, sizeof(err)) == 0)
			check_parsed(&r, out, (size_t)n - 1);
	}
}

/* Requests carried out per input: thousands of empty lines taught the
 * fuzzer nothing and slowed it to a sixth of its speed. */
#define MAX_REQUESTS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct control_hooks h = { 0 };
	uint8_t cap;
	const char *p, *end;
	unsigned nreq = 0;

	scr_w = fz_u16(&f);
	scr_h = fz_u16(&f);
	flags = fz_u8(&f);
	pending_pattern = fz_u8(&f);
	cap = fz_u8(&f);
	fz_u8(&f);
	memset(&kbd, 0, sizeof(kbd));
	memset(&ptr, 0, sizeof(ptr));
	stops = shots = pending_calls = 0;
	if (!(flags & 1))
		h.keyboard = (struct input_sink){ kbd_event, NULL };
	if (!(flags & 2))
		h.pointer = (struct input_sink){ ptr_event, NULL };
	if (!(flags & 4))
		h.display = &disp;
	if (!(flags & 8))
		h.stop = stop;
	if (!(flags & 0x20))
		h.screen_size = screen_size;
	h.keyboard_pending = keyboard_pending;

	p = (const char *)f.p;
	end = p + f.n;
	while (p <= end && nreq++ < MAX_REQUESTS) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char text[256], fmt[16 + 200];
		size_t n, cap_fmt = 16 + cap % 200;

		request(&h, p, len);
		client(p, len, 16 + cap * 16);
		/* The response formatter, with the line as text, into a small
		 * buffer. */
		n = len < sizeof(text) ? len : sizeof(text) - 1;
		memcpy(text, p, n);
		text[n] = '\0';
		n = control_format(fmt, cap_fmt, (cap >> 7) & 1, text);
		FZ_CHECK(n < cap_fmt && n == strlen(fmt) && fmt[n - 1] == '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	{	/* control_scale on the screen size. */
		for (uint32_t i = 0; scr_w && i < 4; i++) {
			uint32_t px = (uint32_t)((uint64_t)scr_w * i / 4);
			int32_t v = control_scale(px, scr_w);

			FZ_CHECK(v >= 0 && v <= INPUT_ABS_MAX);
		}
	}
	return 0;
}
