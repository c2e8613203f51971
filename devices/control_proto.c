/* The control protocol without sockets; see control.h.  Requests come
 * from untrusted clients: every field is checked before anything is sent
 * to the guest, and a request is either carried out whole or refused. */
#include "control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "keymap.h"
#include "virtio_input.h"

/* ---- events ---------------------------------------------------------- */

static void key_event(const struct input_sink *kbd, int code, int down)
{
	input_send(kbd, EV_KEY, (uint16_t)code, down);
	input_send(kbd, EV_SYN, SYN_REPORT, 0);
}

/* One SYN_REPORT per key, as a keyboard reports them one at a time:
 * some consumers want a modifier seen down before the key it changes. */
void control_send_keys(const struct input_sink *kbd, const int *codes,
		       unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		key_event(kbd, codes[i], 1);
	for (unsigned i = n; i-- > 0;)
		key_event(kbd, codes[i], 0);
}

int control_send_char(const struct input_sink *kbd, char c)
{
	int keys[2], code, shift;

	if (keymap_char(c, &code, &shift) < 0)
		return -1;
	keys[0] = KEY_LEFTSHIFT;
	keys[1] = code;
	control_send_keys(kbd, shift ? keys : keys + 1, shift ? 2 : 1);
	return 0;
}

void control_send_pointer(const struct input_sink *ptr, int32_t ax,
			  int32_t ay, int click)
{
	input_send(ptr, EV_ABS, ABS_X, ax);
	input_send(ptr, EV_ABS, ABS_Y, ay);
	input_send(ptr, EV_SYN, SYN_REPORT, 0);
	if (click) {
		key_event(ptr, BTN_LEFT, 1);
		key_event(ptr, BTN_LEFT, 0);
	}
}

/* Guests map abs to pixels as abs * size / (MAX + 1) (libinput) or
 * abs * (size - 1) / MAX (older X drivers); the centre of the pixel
 * lands inside it either way. */
int32_t control_scale(uint32_t p, uint32_t size)
{
	uint64_t v;

	if (!size)
		return 0;
	v = ((2 * (uint64_t)p + 1) * ((uint64_t)INPUT_ABS_MAX + 1)) /
	    (2 * (uint64_t)size);
	return v > INPUT_ABS_MAX ? INPUT_ABS_MAX : (int32_t)v;
}

/* ---- responses ------------------------------------------------------- */

size_t control_format(char *buf, size_t cap, int ok, const char *text)
{
	const char *head = ok ? (text && *text ? "ok " : "ok") : "error: ";
	size_t n = strlen(head);

	memcpy(buf, head, n);
	/* Room for the newline and the terminating NUL. */
	for (; text && *text && n + 2 < cap; text++) {
		unsigned char ch = (unsigned char)*text;

		buf[n++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

/* ---- parsing --------------------------------------------------------- */

/* Strict UTF-8: no overlong forms, surrogates or code points past
 * U+10FFFF. */
static int utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t need;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			need = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			need = 2, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			need = 3, cp = c & 0x07, min = 0x10000;
		else
			return 0;
		if (len - i - 1 < need)
			return 0;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

static int fail(char *err, size_t errlen, const char *msg, const char *what)
{
	if (what)
		/* Quoted client text is valid UTF-8 by now; cap its length. */
		snprintf(err, errlen, "%s '%.64s'", msg, what);
	else
		snprintf(err, errlen, "%s", msg);
	return -1;
}

/* A decimal pixel coordinate, at most 7 digits, no sign. */
static int parse_coord(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0;

	if (len == 0 || len > 7)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* One name of a combination; a character typed with shift ("!")
 * brings left shift along. */
static int add_key(struct control_request *r, const char *name, size_t len,
		   char *err, size_t errlen)
{
	char buf[32];
	int code, shift = 0;

	if (len == 0)
		return fail(err, errlen, "empty key name in combination", NULL);
	if (len >= sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(sizeof(buf) - 1), name);
		return fail(err, errlen, "unknown key", buf);
	}
	memcpy(buf, name, len);
	buf[len] = '\0';
	code = keymap_lookup(buf);
	if (code < 0 && len == 1 && keymap_char(buf[0], &code, &shift) < 0)
		code = -1;
	if (code < 0)
		return fail(err, errlen, "unknown key", buf);
	for (unsigned i = 0; i < r->nr_keys && shift; i++)
		if (r->keys[i] == KEY_LEFTSHIFT)
			shift = 0;	/* "shift+!": already held */
	for (unsigned i = 0; i < r->nr_keys; i++)
		if (r->keys[i] == code)	/* "c+c": pressed twice, released twice */
			return fail(err, errlen, "key given twice in combination",
				    buf);
	if (r->nr_keys + (unsigned)shift + 1 > CONTROL_MAX_COMBO)
		return fail(err, errlen, "too many keys in combination", NULL);
	if (shift)
		r->keys[r->nr_keys++] = KEY_LEFTSHIFT;
	r->keys[r->nr_keys++] = code;
	return 0;
}

/* NAME[+NAME...]; a '+' key is written as the last name ("ctrl++"). */
static int parse_keys(struct control_request *r, const char *s, size_t len,
		      char *err, size_t errlen)
{
	size_t end = len, start = 0;
	int plus_key = 0;

	if (len == 0 || memchr(s, ' ', len))
		return fail(err, errlen, "usage: key NAME[+NAME...]", NULL);
	if (s[len - 1] == '+' && (len == 1 || s[len - 2] == '+')) {
		plus_key = 1;
		end = len == 1 ? 0 : len - 2;	/* drop "++" / "+" */
	}
	while (start < end) {
		const char *p = memchr(s + start, '+', end - start);
		size_t n = p ? (size_t)(p - (s + start)) : end - start;

		if (add_key(r, s + start, n, err, errlen) < 0)
			return -1;
		start += n + 1;
		if (p && start == end)	/* a trailing "+": "ctrl+" */
			return fail(err, errlen, "empty key name in combination",
				    NULL);
	}
	if (plus_key && add_key(r, "+", 1, err, errlen) < 0)
		return -1;
	return 0;
}

/* Splits s into at most max words separated by single spaces; -1 for an
 * empty word (leading, trailing or double spaces) or too many. */
static int split_words(const char *s, size_t len, const char **w, size_t *wl,
		       unsigned max)
{
	unsigned n = 0;
	size_t i = 0;

	while (i <= len) {
		const char *sp = memchr(s + i, ' ', len - i);
		size_t l = sp ? (size_t)(sp - (s + i)) : len - i;

		if (l == 0 || n == max)
			return -1;
		w[n] = s + i;
		wl[n++] = l;
		i += l + 1;
	}
	return (int)n;
}

static int parse_pointer(struct control_request *r, const char *s,
			 size_t len, char *err, size_t errlen)
{
	const char *w[3];
	size_t wl[3];
	int n = split_words(s, len, w, wl, 3);

	if (n < 2 || parse_coord(w[0], wl[0], &r->x) ||
	    parse_coord(w[1], wl[1], &r->y) ||
	    (n == 3 && (wl[2] != 5 || memcmp(w[2], "click", 5))))
		return fail(err, errlen, "usage: pointer X Y [click]", NULL);
	r->click = n == 3;
	return 0;
}

int control_parse(const char *line, size_t len, struct control_request *r,
		  char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum control_cmd cmd;
		int args;	/* takes arguments */
	} cmds[] = {
		{ "ping", CONTROL_PING, 0 },
		{ "stop", CONTROL_STOP, 0 },
		{ "screenshot", CONTROL_SCREENSHOT, 1 },
		{ "key", CONTROL_KEY, 1 },
		{ "type", CONTROL_TYPE, 1 },
		{ "pointer", CONTROL_POINTER, 1 },
	};
	const char *sp = memchr(line, ' ', len);
	size_t vlen = sp ? (size_t)(sp - line) : len;
	const char *arg = sp ? sp + 1 : line + len;
	size_t alen = sp ? len - vlen - 1 : 0;
	unsigned i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strlen(cmds[i].name) == vlen &&
		    !memcmp(line, cmds[i].name, vlen))
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		return fail(err, errlen, "unknown command", NULL);
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)line[k];

		if (c < 0x20 || c == 0x7f)
			return fail(err, errlen, "control character in request",
				    NULL);
	}
	if (!utf8_valid((const unsigned char *)line, len))
		return fail(err, errlen, "request is not UTF-8 text", NULL);
	r->cmd = cmds[i].cmd;
	r->arg = arg;
	r->arg_len = alen;
	if (!cmds[i].args) {
		if (sp)
			return fail(err, errlen, r->cmd == CONTROL_PING ?
				    "usage: ping" : "usage: stop", NULL);
		return 0;
	}
	switch (r->cmd) {
	case CONTROL_SCREENSHOT:
		if (alen == 0 || arg[0] != '/')
			return fail(err, errlen, "usage: screenshot /ABSOLUTE/PATH",
				    NULL);
		return 0;
	case CONTROL_KEY:
		return parse_keys(r, arg, alen, err, errlen);
	case CONTROL_TYPE:
		if (alen == 0)
			return fail(err, errlen, "usage: type TEXT", NULL);
		for (size_t k = 0; k < alen; k++) {
			int code, shift;

			if (keymap_char(arg[k], &code, &shift) < 0)
				return fail(err, errlen, "cannot type non-ASCII "
					    "text (US keyboard layout)", NULL);
		}
		return 0;
	case CONTROL_POINTER:
		return parse_pointer(r, arg, alen, err, errlen);
	default:
		return 0;
	}
}

/* ---- carrying requests out ------------------------------------------ */

static int done(struct control_exec *x, int ok, const char *text)
{
	x->resp_len = control_format(x->resp, sizeof(x->resp), ok, text);
	return CONTROL_DONE;
}

static int do_screenshot(struct control_exec *x, const struct control_hooks *h)
{
	char err[256] = "";

	if (!h->display || !h->display->ops || !h->display->ops->screenshot)
		return done(x, 0, "no display");
	if (h->display->ops->screenshot(h->display, x->r.arg, err,
					sizeof(err)) < 0)
		return done(x, 0, err[0] ? err : "screenshot failed");
	return done(x, 1, x->r.arg);
}

static int do_pointer(struct control_exec *x, const struct control_hooks *h)
{
	uint32_t w = 0, hh = 0;
	char msg[96];

	if (!h->pointer.event)
		return done(x, 0, "no pointer device");
	if (!h->screen_size)
		return done(x, 0, "screen size unknown");
	h->screen_size(h->screen_ctx, &w, &hh);
	if (!w || !hh)
		return done(x, 0, "the guest shows no screen yet");
	if (x->r.x >= w || x->r.y >= hh) {
		snprintf(msg, sizeof(msg), "position %u,%u is outside the "
			 "%ux%u screen", x->r.x, x->r.y, w, hh);
		return done(x, 0, msg);
	}
	control_send_pointer(&h->pointer, control_scale(x->r.x, w),
			     control_scale(x->r.y, hh), x->r.click);
	return done(x, 1, NULL);
}

int control_exec_start(struct control_exec *x, const struct control_hooks *h,
		       const char *line, size_t len, uint64_t now_ms)
{
	char err[160];

	x->typed = 0;
	x->stop = 0;
	x->progress_ms = now_ms;
	if (len >= sizeof(x->line))
		return done(x, 0, "request too long");
	memcpy(x->line, line, len);
	x->line[len] = '\0';
	if (memchr(line, '\0', len)) {
		/* Binary: not worth telling apart from an unknown verb. */
		return done(x, 0, "unknown command");
	}
	if (control_parse(x->line, len, &x->r, err, sizeof(err)) < 0)
		return done(x, 0, err);
	switch (x->r.cmd) {
	case CONTROL_PING:
		return done(x, 1, "pong");
	case CONTROL_STOP:
		if (!h->stop)
			return done(x, 0, "stop is not available");
		x->stop = 1;
		return done(x, 1, "stopping");
	case CONTROL_SCREENSHOT:
		return do_screenshot(x, h);
	case CONTROL_KEY:
		if (!h->keyboard.event)
			return done(x, 0, "no keyboard");
		control_send_keys(&h->keyboard, x->r.keys, x->r.nr_keys);
		return done(x, 1, NULL);
	case CONTROL_TYPE:
		if (!h->keyboard.event)
			return done(x, 0, "no keyboard");
		return control_exec_step(x, h, now_ms);
	case CONTROL_POINTER:
		return do_pointer(x, h);
	}
	return done(x, 0, "unknown command");
}

/* One character per call, once the keyboard has passed on the last. */
int control_exec_step(struct control_exec *x, const struct control_hooks *h,
		      uint64_t now_ms)
{
	char msg[96];

	if (x->r.cmd != CONTROL_TYPE || x->typed >= x->r.arg_len)
		return CONTROL_DONE;
	if (h->keyboard_pending && h->keyboard_pending(h->pending_ctx)) {
		if (now_ms - x->progress_ms < CONTROL_JOB_TIMEOUT_MS)
			return CONTROL_PENDING;
		snprintf(msg, sizeof(msg), "the guest stopped taking keys after "
			 "%zu of %zu characters", x->typed, x->r.arg_len);
		x->typed = x->r.arg_len;
		return done(x, 0, msg);
	}
	control_send_char(&h->keyboard, x->r.arg[x->typed++]);
	x->progress_ms = now_ms;
	if (x->typed < x->r.arg_len)
		return CONTROL_PENDING;
	return done(x, 1, NULL);
}

/* ---- the client's request -------------------------------------------- */

/* Arity per command, so `ctl` catches typos as usage errors (exit 2)
 * before connecting; the server checks everything again. */
static int arity_ok(const char *cmd, int nargs)
{
	if (!strcmp(cmd, "ping") || !strcmp(cmd, "stop"))
		return nargs == 0;
	if (!strcmp(cmd, "screenshot") || !strcmp(cmd, "key"))
		return nargs == 1;
	if (!strcmp(cmd, "type"))
		return nargs >= 1;
	if (!strcmp(cmd, "pointer"))
		return nargs == 2 || nargs == 3;
	return -1;
}

int control_build_request(int argc, char **argv, char *line, size_t cap,
			  char *err, size_t errlen)
{
	size_t n = 0;
	int ok;

	if (argc < 1)
		return fail(err, errlen, "no command given", NULL);
	ok = arity_ok(argv[0], argc - 1);
	if (ok < 0)
		return fail(err, errlen, "unknown command", argv[0]);
	if (!ok)
		return fail(err, errlen, "wrong number of arguments for",
			    argv[0]);
	for (int i = 0; i < argc; i++) {
		/* The space before it, it, the '\n'; and the NUL. */
		size_t l = strlen(argv[i]), need = n + (i ? 1 : 0) + l + 1;

		/* A newline would end the request early and start another. */
		if (strpbrk(argv[i], "\r\n"))
			return fail(err, errlen, "arguments must not contain "
				    "line breaks", NULL);
		if (l > CONTROL_LINE_MAX || need > CONTROL_LINE_MAX ||
		    need + 1 > cap)
			return fail(err, errlen, "request too long", NULL);
		if (i)
			line[n++] = ' ';
		memcpy(line + n, argv[i], l);
		n += l;
	}
	line[n++] = '\n';
	line[n] = '\0';
	return (int)n;
}
