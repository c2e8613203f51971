/* The control protocol without sockets: every command and the malformed
 * ones, the evdev sequences `key`, `type` and `pointer` produce (through
 * a recording sink), pointer scaling, paced typing, responses, and the
 * client's request builder. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "control.h"
#include "virtio_input.h"

/* ---- a recording sink, a fake display, hooks ------------------------- */

struct rec {
	unsigned n;
	struct { uint16_t type, code; int32_t value; } ev[256];
};

static void rec_event(void *ctx, uint16_t type, uint16_t code, int32_t value)
{
	struct rec *r = ctx;

	if (r->n < 256) {
		r->ev[r->n].type = type;
		r->ev[r->n].code = code;
		r->ev[r->n].value = value;
	}
	r->n++;
}

/* The recorded events are exactly these (type, code, value) triples. */
static int rec_is(const struct rec *r, const int32_t *want, unsigned n)
{
	if (r->n != n) {
		fprintf(stderr, "  %u events, expected %u\n", r->n, n);
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		if (r->ev[i].type != want[3 * i] ||
		    r->ev[i].code != want[3 * i + 1] ||
		    r->ev[i].value != want[3 * i + 2]) {
			fprintf(stderr, "  event %u: %u %u %d\n", i,
				r->ev[i].type, r->ev[i].code, r->ev[i].value);
			return 0;
		}
	return 1;
}

#define REC_IS(r, ...)							\
	rec_is(r, (const int32_t[]){ __VA_ARGS__ },			\
	       sizeof((const int32_t[]){ __VA_ARGS__ }) / sizeof(int32_t) / 3)

#define SYN EV_SYN, SYN_REPORT, 0
#define DOWN(k) EV_KEY, k, 1
#define UP(k) EV_KEY, k, 0

struct fake {
	struct display disp;
	struct rec kbd, ptr;
	char shot[CONTROL_LINE_MAX];
	int shot_fail;
	uint32_t w, h;
	unsigned pending;
	int stops;
	struct control_hooks hooks;
};

static int fake_screenshot(struct display *d, const char *path, char *err,
			   size_t errlen)
{
	struct fake *f = d->priv;

	if (f->shot_fail) {
		snprintf(err, errlen, "cannot write '%s': disk full", path);
		return -1;
	}
	snprintf(f->shot, sizeof(f->shot), "%s", path);
	return 0;
}

static const struct display_ops fake_ops = {
	.name = "fake",
	.screenshot = fake_screenshot,
};

static void fake_size(void *ctx, uint32_t *w, uint32_t *h)
{
	struct fake *f = ctx;

	*w = f->w;
	*h = f->h;
}

static unsigned fake_pending(void *ctx)
{
	return ((struct fake *)ctx)->pending;
}

static void fake_stop(void *ctx)
{
	((struct fake *)ctx)->stops++;
}

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->disp.ops = &fake_ops;
	f->disp.priv = f;
	f->w = 1024;
	f->h = 768;
	f->hooks = (struct control_hooks){
		.display = &f->disp,
		.keyboard = { rec_event, &f->kbd },
		.pointer = { rec_event, &f->ptr },
		.screen_size = fake_size, .screen_ctx = f,
		.stop = fake_stop, .stop_ctx = f,
	};
}

static struct control_exec x;	/* 12 KiB: not on the stack */

/* Runs one request to completion (typing paced by fake ticks); returns
 * the response without its newline. */
static const char *run(struct fake *f, const char *line)
{
	uint64_t now = 1000;
	int r = control_exec_start(&x, &f->hooks, line, strlen(line), now);

	for (unsigned i = 0; r == CONTROL_PENDING && i < 100000; i++) {
		now += CONTROL_TICK_MS;
		r = control_exec_step(&x, &f->hooks, now);
	}
	if (r != CONTROL_DONE || !x.resp_len || x.resp[x.resp_len - 1] != '\n')
		return "(no response)";
	x.resp[x.resp_len - 1] = '\0';
	return x.resp;
}

#define CHECK_RESP(f, line, want)					\
	do {								\
		const char *_got = run(f, line);			\
		if (strcmp(_got, want)) {				\
			fprintf(stderr, "  %s:%d: '%s' -> '%s', want '%s'\n", \
				__FILE__, __LINE__, line, _got, want);	\
			check_failed_in_test = 1;			\
		}							\
	} while (0)

/* ---- parsing ----------------------------------------------------------- */

static int parse(const char *line, struct control_request *r)
{
	char err[160];

	return control_parse(line, strlen(line), r, err, sizeof(err));
}

static int keys_are(const struct control_request *r, const int *k, unsigned n)
{
	return r->cmd == CONTROL_KEY && r->nr_keys == n &&
	       !memcmp(r->keys, k, n * sizeof(int));
}

#define KEYS_ARE(r, ...)						\
	keys_are(r, (const int[]){ __VA_ARGS__ },			\
		 sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int))

TEST(test_parse_commands)
{
	struct control_request r;

	CHECK(parse("ping", &r) == 0 && r.cmd == CONTROL_PING);
	CHECK(parse("stop", &r) == 0 && r.cmd == CONTROL_STOP);
	CHECK(parse("screenshot /tmp/a b.png", &r) == 0 &&
	      r.cmd == CONTROL_SCREENSHOT && r.arg_len == 12 &&
	      !strcmp(r.arg, "/tmp/a b.png"));
	CHECK(parse("screenshot /t\xc3\xa9st.png", &r) == 0);
	CHECK(parse("key enter", &r) == 0 && KEYS_ARE(&r, KEY_ENTER));
	CHECK(parse("key KEY_F2", &r) == 0 && KEYS_ARE(&r, KEY_F2));
	CHECK(parse("key A", &r) == 0 && KEYS_ARE(&r, KEY_A));
	CHECK(parse("key ctrl+c", &r) == 0 &&
	      KEYS_ARE(&r, KEY_LEFTCTRL, KEY_C));
	CHECK(parse("key ctrl+alt+delete", &r) == 0 &&
	      KEYS_ARE(&r, KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE));
	CHECK(parse("key !", &r) == 0 && KEYS_ARE(&r, KEY_LEFTSHIFT, KEY_1));
	CHECK(parse("key shift+!", &r) == 0 &&
	      KEYS_ARE(&r, KEY_LEFTSHIFT, KEY_1));
	CHECK(parse("key +", &r) == 0 &&
	      KEYS_ARE(&r, KEY_LEFTSHIFT, KEY_EQUAL));
	CHECK(parse("key ctrl++", &r) == 0 &&
	      KEYS_ARE(&r, KEY_LEFTCTRL, KEY_LEFTSHIFT, KEY_EQUAL));
	CHECK(parse("key -", &r) == 0 && KEYS_ARE(&r, KEY_MINUS));
	CHECK(parse("key a+b+c+d+e+f+g+h", &r) == 0 && r.nr_keys == 8);
	CHECK(parse("type hello, world!", &r) == 0 && r.cmd == CONTROL_TYPE &&
	      r.arg_len == 13 && !memcmp(r.arg, "hello, world!", 13));
	CHECK(parse("type  ", &r) == 0 && r.arg_len == 1);
	CHECK(parse("pointer 10 20", &r) == 0 && r.cmd == CONTROL_POINTER &&
	      r.x == 10 && r.y == 20 && !r.click);
	CHECK(parse("pointer 0 9999999 click", &r) == 0 && r.x == 0 &&
	      r.y == 9999999 && r.click);
}

TEST(test_parse_malformed)
{
	static const struct {
		const char *line, *err;
	} bad[] = {
		{ "", "unknown command" },
		{ " ping", "unknown command" },
		{ "pin", "unknown command" },
		{ "pingg", "unknown command" },
		{ "PING", "unknown command" },
		{ "\xff\xfe\x01garbage", "unknown command" },
		{ "ping ", "usage: ping" },
		{ "ping x", "usage: ping" },
		{ "stop now", "usage: stop" },
		{ "ping\x01", "unknown command" },
		{ "ping \x01", "control character in request" },
		{ "type a\x7f", "control character in request" },
		{ "type a\tb", "control character in request" },
		{ "type \xff", "request is not UTF-8 text" },
		{ "type \xc0\xaf", "request is not UTF-8 text" },	/* overlong */
		{ "type \xed\xa0\x80", "request is not UTF-8 text" },	/* surrogate */
		{ "type \xf4\x90\x80\x80", "request is not UTF-8 text" },
		{ "type \xe2\x82", "request is not UTF-8 text" },	/* cut */
		{ "type caf\xc3\xa9", "cannot type non-ASCII text (US keyboard "
		  "layout)" },
		{ "type", "usage: type TEXT" },
		{ "type ", "usage: type TEXT" },
		{ "screenshot", "usage: screenshot /ABSOLUTE/PATH" },
		{ "screenshot ", "usage: screenshot /ABSOLUTE/PATH" },
		{ "screenshot shot.png", "usage: screenshot /ABSOLUTE/PATH" },
		{ "key", "usage: key NAME[+NAME...]" },
		{ "key ", "usage: key NAME[+NAME...]" },
		{ "key ctrl c", "usage: key NAME[+NAME...]" },
		{ "key nosuch", "unknown key 'nosuch'" },
		{ "key ctrl+nosuch", "unknown key 'nosuch'" },
		{ "key \xc3\xa9", "unknown key '\xc3\xa9'" },
		{ "key ctrl+", "empty key name in combination" },
		{ "key +ctrl", "empty key name in combination" },
		{ "key ctrl++c", "empty key name in combination" },
		{ "key a+b+c+d+e+f+g+h+i", "too many keys in combination" },
		{ "key a+b+c+d+e+f+g+!", "too many keys in combination" },
		{ "key aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "unknown key 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'" },
		{ "pointer", "usage: pointer X Y [click]" },
		{ "pointer ", "usage: pointer X Y [click]" },
		{ "pointer 1", "usage: pointer X Y [click]" },
		{ "pointer 1 2 3", "usage: pointer X Y [click]" },
		{ "pointer 1 2 click click", "usage: pointer X Y [click]" },
		{ "pointer 1 2 dblclick", "usage: pointer X Y [click]" },
		{ "pointer 1 2 ", "usage: pointer X Y [click]" },
		{ "pointer 1  2", "usage: pointer X Y [click]" },
		{ "pointer -1 2", "usage: pointer X Y [click]" },
		{ "pointer +1 2", "usage: pointer X Y [click]" },
		{ "pointer 0x10 2", "usage: pointer X Y [click]" },
		{ "pointer 12345678 2", "usage: pointer X Y [click]" },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct control_request r;
		char err[160] = "";
		int rc = control_parse(bad[i].line, strlen(bad[i].line), &r,
				       err, sizeof(err));

		if (rc != -1 || strcmp(err, bad[i].err)) {
			fprintf(stderr, "  '%s': %d '%s'\n", bad[i].line, rc, err);
			check_failed_in_test = 1;
		}
	}
}

/* ---- what reaches the sinks ------------------------------------------- */

TEST(test_key_sequences)
{
	struct fake f;

	fake_init(&f);
	CHECK_RESP(&f, "key enter", "ok");
	CHECK(REC_IS(&f.kbd, DOWN(KEY_ENTER), SYN, UP(KEY_ENTER), SYN));
	f.kbd.n = 0;
	CHECK_RESP(&f, "key ctrl+alt+f2", "ok");
	CHECK(REC_IS(&f.kbd, DOWN(KEY_LEFTCTRL), SYN, DOWN(KEY_LEFTALT), SYN,
		     DOWN(KEY_F2), SYN, UP(KEY_F2), SYN, UP(KEY_LEFTALT), SYN,
		     UP(KEY_LEFTCTRL), SYN));
	f.kbd.n = 0;
	CHECK_RESP(&f, "key ?", "ok");
	CHECK(REC_IS(&f.kbd, DOWN(KEY_LEFTSHIFT), SYN, DOWN(KEY_SLASH), SYN,
		     UP(KEY_SLASH), SYN, UP(KEY_LEFTSHIFT), SYN));
	CHECK_EQ(f.ptr.n, 0);
	/* A refused request sends nothing. */
	f.kbd.n = 0;
	CHECK_RESP(&f, "key ctrl+nosuch", "error: unknown key 'nosuch'");
	CHECK_EQ(f.kbd.n, 0);
}

TEST(test_type_sequence)
{
	struct fake f;

	fake_init(&f);
	CHECK_RESP(&f, "type aB !", "ok");
	CHECK(REC_IS(&f.kbd,
		     DOWN(KEY_A), SYN, UP(KEY_A), SYN,
		     DOWN(KEY_LEFTSHIFT), SYN, DOWN(KEY_B), SYN, UP(KEY_B), SYN,
		     UP(KEY_LEFTSHIFT), SYN,
		     DOWN(KEY_SPACE), SYN, UP(KEY_SPACE), SYN,
		     DOWN(KEY_LEFTSHIFT), SYN, DOWN(KEY_1), SYN, UP(KEY_1), SYN,
		     UP(KEY_LEFTSHIFT), SYN));
	f.kbd.n = 0;
	CHECK_RESP(&f, "type caf\xc3\xa9", "error: cannot type non-ASCII text "
		   "(US keyboard layout)");
	CHECK_EQ(f.kbd.n, 0);
}

/* One character per step; while the keyboard holds undelivered events,
 * typing waits, and gives up after CONTROL_JOB_TIMEOUT_MS. */
TEST(test_type_paced)
{
	struct fake f;
	const char *line = "type abc";
	uint64_t t = 5000;

	fake_init(&f);
	f.hooks.keyboard_pending = fake_pending;
	f.hooks.pending_ctx = &f;
	CHECK_EQ(control_exec_start(&x, &f.hooks, line, strlen(line), t),
		 CONTROL_PENDING);
	CHECK_EQ(f.kbd.n, 4);			/* 'a' */
	f.pending = 4;
	CHECK_EQ(control_exec_step(&x, &f.hooks, t + 1), CONTROL_PENDING);
	CHECK_EQ(f.kbd.n, 4);
	f.pending = 0;
	CHECK_EQ(control_exec_step(&x, &f.hooks, t + 2), CONTROL_PENDING);
	CHECK_EQ(f.kbd.n, 8);			/* 'b' */
	f.pending = 1;
	CHECK_EQ(control_exec_step(&x, &f.hooks,
				   t + 2 + CONTROL_JOB_TIMEOUT_MS - 1),
		 CONTROL_PENDING);
	CHECK_EQ(control_exec_step(&x, &f.hooks,
				   t + 2 + CONTROL_JOB_TIMEOUT_MS), CONTROL_DONE);
	CHECK(!strcmp(x.resp, "error: the guest stopped taking keys after 2 "
		      "of 3 characters\n"));
	CHECK_EQ(f.kbd.n, 8);
	/* Stepping a finished request does nothing. */
	CHECK_EQ(control_exec_step(&x, &f.hooks, t + 99999), CONTROL_DONE);
	CHECK_EQ(f.kbd.n, 8);

	f.pending = 0;
	CHECK_RESP(&f, "type xyz", "ok");
	CHECK_EQ(f.kbd.n, 20);
}

/* For every pixel of many screen widths (up to 16384, virtio-gpu's
 * largest), the scaled value maps back to that pixel both ways guests
 * scale: libinput's abs * w / (MAX + 1), rounded abs * (w - 1) / MAX. */
TEST(test_pointer_scaling)
{
	static const uint32_t sizes[] = { 1, 2, 3, 7, 480, 600, 640, 768, 800,
					  1024, 1080, 1280, 1920, 2160, 3840,
					  16384, 32768 };
	int ok = 1;

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t w = sizes[i];

		for (uint32_t p = 0; p < w; p++) {
			int64_t a = control_scale(p, w);
			int64_t li = a * w / (INPUT_ABS_MAX + 1);
			int64_t xo = w > 1 ? (a * (w - 1) + INPUT_ABS_MAX / 2) /
					     INPUT_ABS_MAX : 0;

			ok &= a >= 0 && a <= INPUT_ABS_MAX && li == p && xo == p;
		}
	}
	CHECK(ok);
	CHECK_EQ(control_scale(0, 0), 0);
	CHECK_EQ(control_scale(99, 10), INPUT_ABS_MAX);
	CHECK_EQ(control_scale(0, 1), 16384);
	CHECK_EQ(control_scale(1023, 1024), 32752);
}

TEST(test_pointer_events)
{
	struct fake f;

	fake_init(&f);
	CHECK_RESP(&f, "pointer 0 767", "ok");
	CHECK(REC_IS(&f.ptr, EV_ABS, ABS_X, 16, EV_ABS, ABS_Y, 32746, SYN));
	f.ptr.n = 0;
	CHECK_RESP(&f, "pointer 512 384 click", "ok");
	CHECK(REC_IS(&f.ptr, EV_ABS, ABS_X, 16400, EV_ABS, ABS_Y, 16405, SYN,
		     DOWN(BTN_LEFT), SYN, UP(BTN_LEFT), SYN));
	CHECK_EQ(f.kbd.n, 0);
	f.ptr.n = 0;
	CHECK_RESP(&f, "pointer 1024 0", "error: position 1024,0 is outside "
		   "the 1024x768 screen");
	CHECK_RESP(&f, "pointer 0 768 click", "error: position 0,768 is "
		   "outside the 1024x768 screen");
	CHECK_EQ(f.ptr.n, 0);
	/* The size is asked for each time: a mode change applies at once. */
	f.w = 1920;
	f.h = 1080;
	CHECK_RESP(&f, "pointer 1919 1079", "ok");
	CHECK(REC_IS(&f.ptr, EV_ABS, ABS_X, 32759, EV_ABS, ABS_Y, 32752, SYN));
	f.w = f.h = 0;
	CHECK_RESP(&f, "pointer 0 0", "error: the guest shows no screen yet");
	f.hooks.screen_size = NULL;
	CHECK_RESP(&f, "pointer 0 0", "error: screen size unknown");
	f.hooks.pointer.event = NULL;
	CHECK_RESP(&f, "pointer 0 0", "error: no pointer device");
	f.hooks.keyboard.event = NULL;
	CHECK_RESP(&f, "key a", "error: no keyboard");
	CHECK_RESP(&f, "type a", "error: no keyboard");
}

TEST(test_screenshot_stop_ping)
{
	struct fake f;

	fake_init(&f);
	CHECK_RESP(&f, "ping", "ok pong");
	CHECK(!x.stop);
	CHECK_RESP(&f, "screenshot /tmp/dir with space/s.png",
		   "ok /tmp/dir with space/s.png");
	CHECK(!strcmp(f.shot, "/tmp/dir with space/s.png"));
	f.shot_fail = 1;
	CHECK_RESP(&f, "screenshot /x/y.png",
		   "error: cannot write '/x/y.png': disk full");
	f.hooks.display = NULL;
	CHECK_RESP(&f, "screenshot /x/y.png", "error: no display");
	/* stop answers first; the caller stops the VM after replying. */
	CHECK_RESP(&f, "stop", "ok stopping");
	CHECK(x.stop);
	CHECK_EQ(f.stops, 0);
	f.hooks.stop = NULL;
	CHECK_RESP(&f, "stop", "error: stop is not available");
	CHECK(!x.stop);
}

/* Raw lines: NULs, the length limit. */
TEST(test_exec_raw_lines)
{
	static char big[CONTROL_LINE_MAX + 8];
	struct fake f;

	fake_init(&f);
	CHECK_EQ(control_exec_start(&x, &f.hooks, "ping\0x", 6, 0),
		 CONTROL_DONE);
	CHECK(!strcmp(x.resp, "error: unknown command\n"));
	CHECK_EQ(control_exec_start(&x, &f.hooks, "\0\0\0", 3, 0),
		 CONTROL_DONE);
	CHECK(!strcmp(x.resp, "error: unknown command\n"));
	/* The longest request: 4095 bytes before the newline. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "type ", 5);
	f.kbd.n = 0;
	CHECK_EQ(control_exec_start(&x, &f.hooks, big, CONTROL_LINE_MAX - 1, 0),
		 CONTROL_PENDING);
	CHECK_EQ(control_exec_start(&x, &f.hooks, big, CONTROL_LINE_MAX, 0),
		 CONTROL_DONE);
	CHECK(!strcmp(x.resp, "error: request too long\n"));
}

TEST(test_format)
{
	char buf[32];

	CHECK_EQ(control_format(buf, sizeof(buf), 1, NULL), 3);
	CHECK(!strcmp(buf, "ok\n"));
	CHECK_EQ(control_format(buf, sizeof(buf), 1, ""), 3);
	CHECK(!strcmp(buf, "ok\n"));
	control_format(buf, sizeof(buf), 1, "a\nb\rc\x7f");
	CHECK(!strcmp(buf, "ok a?b?c?\n"));
	control_format(buf, sizeof(buf), 0, "bad");
	CHECK(!strcmp(buf, "error: bad\n"));
	CHECK_EQ(control_format(buf, sizeof(buf), 0,
				"a very long message that does not fit"), 31);
	CHECK(!strcmp(buf, "error: a very long message tha\n"));
}

/* ---- the client's request -------------------------------------------- */

static int build(const char *want, const char *err_want, int argc, ...)
{
	char *argv[8], line[CONTROL_LINE_MAX + 64], err[160] = "";
	va_list ap;
	int n;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	n = control_build_request(argc, argv, line, sizeof(line), err,
				  sizeof(err));
	if (want)
		return n == (int)strlen(want) && !strcmp(line, want);
	return n == -1 && !strcmp(err, err_want);
}

TEST(test_build_request)
{
	static char big[CONTROL_LINE_MAX + 8];
	char *argv[2] = { "type", big }, line[CONTROL_LINE_MAX + 8], err[160];

	CHECK(build("ping\n", NULL, 1, "ping"));
	CHECK(build("stop\n", NULL, 1, "stop"));
	CHECK(build("key ctrl+c\n", NULL, 2, "key", "ctrl+c"));
	CHECK(build("type hello  world\n", NULL, 3, "type", "hello ", "world"));
	CHECK(build("pointer 1 2 click\n", NULL, 4, "pointer", "1", "2", "click"));
	CHECK(build("screenshot /a b\n", NULL, 2, "screenshot", "/a b"));
	CHECK(build(NULL, "no command given", 0));
	CHECK(build(NULL, "unknown command 'pong'", 1, "pong"));
	CHECK(build(NULL, "wrong number of arguments for 'ping'", 2, "ping", "x"));
	CHECK(build(NULL, "wrong number of arguments for 'key'", 1, "key"));
	CHECK(build(NULL, "wrong number of arguments for 'key'", 3, "key", "a",
		    "b"));
	CHECK(build(NULL, "wrong number of arguments for 'type'", 1, "type"));
	CHECK(build(NULL, "wrong number of arguments for 'pointer'", 2,
		    "pointer", "1"));
	CHECK(build(NULL, "wrong number of arguments for 'screenshot'", 1,
		    "screenshot"));
	CHECK(build(NULL, "arguments must not contain line breaks", 2, "type",
		    "ls\nstop"));
	CHECK(build(NULL, "arguments must not contain line breaks", 2, "type",
		    "a\r"));
	/* 4096 bytes with the newline fit; one more does not. */
	memset(big, 'x', CONTROL_LINE_MAX - 6);
	big[CONTROL_LINE_MAX - 6] = '\0';
	CHECK_EQ(control_build_request(2, argv, line, sizeof(line), err,
				       sizeof(err)), CONTROL_LINE_MAX);
	big[CONTROL_LINE_MAX - 6] = 'x';
	big[CONTROL_LINE_MAX - 5] = '\0';
	CHECK_EQ(control_build_request(2, argv, line, sizeof(line), err,
				       sizeof(err)), -1);
	CHECK(!strcmp(err, "request too long"));
	/* A small buffer is respected too. */
	big[10] = '\0';
	CHECK_EQ(control_build_request(2, argv, line, 16, err, sizeof(err)), -1);
	CHECK_EQ(control_build_request(2, argv, line, 17, err, sizeof(err)), 16);
}

int main(void)
{
	RUN(test_parse_commands);
	RUN(test_parse_malformed);
	RUN(test_key_sequences);
	RUN(test_type_sequence);
	RUN(test_type_paced);
	RUN(test_pointer_scaling);
	RUN(test_pointer_events);
	RUN(test_screenshot_stop_ping);
	RUN(test_exec_raw_lines);
	RUN(test_format);
	RUN(test_build_request);
	return CHECK_DONE();
}
