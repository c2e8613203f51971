/* The SDL display back end, end to end in a real window: on a private
 * Xvfb server started here (or SDL's offscreen driver when Xvfb is
 * missing; SKIP lines when neither can open a window).  Frames are checked
 * by reading back what the renderer drew; input by pushing SDL events and
 * recording what reaches the input sinks. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <SDL.h>
#include <linux/input-event-codes.h>
#include "check.h"
#include "display.h"
#include "display_sdl.h"

#define RED	0xff0000u
#define GREEN	0x00ff00u
#define BLUE	0x0000ffu
#define WHITE	0xffffffu
#define BLACK	0x000000u

static pid_t xvfb_pid;
static const char *backend;	/* "Xvfb", "offscreen" or NULL: skip */

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Xvfb picks a free display itself (-displayfd) and writes its number
 * once it accepts clients, so there is no race on the socket. */
static int start_xvfb(void)
{
	char num[32], disp[40];
	int fds[2];
	ssize_t n, got = 0;

	if (pipe(fds) < 0)
		return -1;
	xvfb_pid = fork();
	if (xvfb_pid < 0)
		return -1;
	if (xvfb_pid == 0) {
		char fdarg[16];
		int null = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(fds[0]);
		snprintf(fdarg, sizeof(fdarg), "%d", fds[1]);
		/* -noreset: by default the server resets when its last
		 * client leaves, and refuses the next test's window
		 * while it does. */
		execlp("Xvfb", "Xvfb", "-displayfd", fdarg, "-screen", "0",
		       "1024x768x24", "-nolisten", "tcp", "-noreset",
		       (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (got < (ssize_t)sizeof(num) - 1 &&
	       (n = read(fds[0], num + got, sizeof(num) - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += n;
		if (memchr(num, '\n', (size_t)got))
			break;
	}
	close(fds[0]);
	num[got] = 0;
	if (!got || !strchr(num, '\n')) {
		kill(xvfb_pid, SIGTERM);
		waitpid(xvfb_pid, NULL, 0);
		xvfb_pid = 0;
		return -1;
	}
	*strchr(num, '\n') = 0;
	snprintf(disp, sizeof(disp), ":%s", num);
	setenv("DISPLAY", disp, 1);
	setenv("SDL_VIDEODRIVER", "x11", 1);
	return 0;
}

static void stop_xvfb(void)
{
	if (xvfb_pid > 0) {
		kill(xvfb_pid, SIGTERM);
		waitpid(xvfb_pid, NULL, 0);
	}
}

/* SDL_Quit unloads what SDL dlopen()ed (Mesa's GL driver), and a leak
 * inside an unloaded library has no name LeakSanitizer could match in
 * tests/unit/lsan.supp.  So every library loaded now stays loaded. */
static int keep_one(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	if (info->dlpi_name && info->dlpi_name[0])
		dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
	return 0;
}

static void keep_libraries_loaded(void)
{
	dl_iterate_phdr(keep_one, NULL);
}

/* Input sinks that record what the SDL thread sends them. */
struct ev {
	uint16_t type, code;
	int32_t value;
};
struct recorder {
	pthread_mutex_t lock;
	struct ev evs[64];
	int n;
};
static struct recorder keys = { PTHREAD_MUTEX_INITIALIZER, { { 0 } }, 0 };
static struct recorder ptr = { PTHREAD_MUTEX_INITIALIZER, { { 0 } }, 0 };

static void record(void *ctx, uint16_t type, uint16_t code, int32_t value)
{
	struct recorder *r = ctx;

	pthread_mutex_lock(&r->lock);
	if (r->n < 64)
		r->evs[r->n++] = (struct ev){ type, code, value };
	pthread_mutex_unlock(&r->lock);
}

static void clear(struct recorder *r)
{
	pthread_mutex_lock(&r->lock);
	r->n = 0;
	pthread_mutex_unlock(&r->lock);
}

/* The recorded events equal want[0..n) (read after display_sdl_sync). */
static int recorded(struct recorder *r, const struct ev *want, int n)
{
	int ok = r->n == n;

	for (int i = 0; ok && i < n; i++)
		ok = r->evs[i].type == want[i].type &&
		     r->evs[i].code == want[i].code &&
		     r->evs[i].value == want[i].value;
	if (!ok) {
		fprintf(stderr, "  recorded %d events:", r->n);
		for (int i = 0; i < r->n; i++)
			fprintf(stderr, " (%u,%u,%d)", r->evs[i].type,
				r->evs[i].code, r->evs[i].value);
		fprintf(stderr, "\n");
	}
	return ok;
}

static int closes;

static void on_close(void *ctx)
{
	(void)ctx;
	__atomic_add_fetch(&closes, 1, __ATOMIC_SEQ_CST);
}

static struct display *open_display(void)
{
	char err[256];
	struct display *d = display_sdl_new("minivmm test", 640, 480, err,
					    sizeof(err));

	if (!d) {
		fprintf(stderr, "  %s\n", err);
		return NULL;
	}
	d->keyboard = (struct input_sink){ record, &keys };
	d->pointer = (struct input_sink){ record, &ptr };
	display_sdl_on_close(d, on_close, NULL);
	return d;
}

/* A w x h frame of four quadrants: red, green / blue, white. */
static uint32_t *quadrants(uint32_t w, uint32_t h)
{
	uint32_t *p = malloc((size_t)w * h * 4);

	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			p[y * w + x] = 0xff000000u |
				(y < h / 2 ? (x < w / 2 ? RED : GREEN)
					   : (x < w / 2 ? BLUE : WHITE));
	return p;
}

static void show_quadrants(struct display *d, uint32_t w, uint32_t h)
{
	uint32_t *p = quadrants(w, h);

	d->ops->set_mode(d, w, h);
	d->ops->update(d, (const uint8_t *)p, w * 4,
		       (struct display_rect){ 0, 0, w, h });
	free(p);
}

/* Reads the window back once it is w x h (a resize takes a moment to go
 * through the X server); NULL after 5 s. */
static uint32_t *read_window(struct display *d, uint32_t w, uint32_t h)
{
	uint32_t *px = malloc((size_t)w * h * 4);

	for (int i = 0; i < 250; i++) {
		if (display_sdl_read_pixels(d, (uint8_t *)px, w, h) == 0)
			return px;
		msleep(20);
	}
	fprintf(stderr, "  the window never became %ux%u\n", w, h);
	free(px);
	return NULL;
}

static uint32_t at(const uint32_t *px, uint32_t w, uint32_t x, uint32_t y)
{
	return px[y * w + x] & 0xffffffu;
}

/* The quadrants' centres when the image fills r. */
static void check_quadrants(const uint32_t *px, uint32_t w,
			    struct display_rect r)
{
	int was = check_failed_in_test;

	check_failed_in_test = 0;
	CHECK_EQ(at(px, w, r.x + r.w / 4, r.y + r.h / 4), RED);
	CHECK_EQ(at(px, w, r.x + 3 * r.w / 4, r.y + r.h / 4), GREEN);
	CHECK_EQ(at(px, w, r.x + r.w / 4, r.y + 3 * r.h / 4), BLUE);
	CHECK_EQ(at(px, w, r.x + 3 * r.w / 4, r.y + 3 * r.h / 4), WHITE);
	if (check_failed_in_test)
		fprintf(stderr, "  (the image expected at %u,%u %ux%u in a "
			"window %u wide)\n", r.x, r.y, r.w, r.h, w);
	check_failed_in_test |= was;
}

/* No window needed. */

TEST(key_table)
{
	static const int letters[] = {
		KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F, KEY_G, KEY_H, KEY_I,
		KEY_J, KEY_K, KEY_L, KEY_M, KEY_N, KEY_O, KEY_P, KEY_Q, KEY_R,
		KEY_S, KEY_T, KEY_U, KEY_V, KEY_W, KEY_X, KEY_Y, KEY_Z,
	};
	static const int fkeys[] = {
		KEY_F1, KEY_F2, KEY_F3, KEY_F4, KEY_F5, KEY_F6, KEY_F7,
		KEY_F8, KEY_F9, KEY_F10, KEY_F11, KEY_F12,
	};
	int seen[KEY_MAX + 1] = { 0 }, dup = 0, mapped = 0;

	for (int i = 0; i < 26; i++)
		CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_A + i), letters[i]);
	for (int i = 0; i < 9; i++)
		CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_1 + i), KEY_1 + i);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_0), KEY_0);
	for (int i = 0; i < 12; i++)
		CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_F1 + i), fkeys[i]);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_RETURN), KEY_ENTER);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_ESCAPE), KEY_ESC);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_PERIOD), KEY_DOT);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_GRAVE), KEY_GRAVE);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_LCTRL), KEY_LEFTCTRL);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_RALT), KEY_RIGHTALT);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_LGUI), KEY_LEFTMETA);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_UP), KEY_UP);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_PAGEDOWN), KEY_PAGEDOWN);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_KP_7), KEY_KP7);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_KP_ENTER), KEY_KPENTER);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_PRINTSCREEN), KEY_SYSRQ);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_NONUSBACKSLASH), KEY_102ND);
	CHECK_EQ(display_sdl_key_code(SDL_SCANCODE_UNKNOWN), 0);
	CHECK_EQ(display_sdl_key_code(-1), 0);
	CHECK_EQ(display_sdl_key_code(SDL_NUM_SCANCODES), 0);
	/* Only keys that are the same key may share a code. */
	for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++) {
		int k = display_sdl_key_code(sc);

		CHECK(k <= KEY_MAX);
		if (!k || k > KEY_MAX)
			continue;
		mapped++;
		if (seen[k] && k != KEY_BACKSLASH && k != KEY_KPEQUAL &&
		    k != KEY_SYSRQ && k != KEY_MUTE && k != KEY_STOP) {
			fprintf(stderr, "  key %d twice\n", k);
			dup = 1;
		}
		seen[k] = 1;
	}
	CHECK(!dup);
	CHECK(mapped > 150);
}

TEST(fit_keeps_aspect)
{
	struct display_rect r;

	r = display_sdl_fit(320, 200, 320, 200);
	CHECK(r.x == 0 && r.y == 0 && r.w == 320 && r.h == 200);
	r = display_sdl_fit(640, 200, 320, 200);	/* bars left/right */
	CHECK(r.x == 160 && r.y == 0 && r.w == 320 && r.h == 200);
	r = display_sdl_fit(320, 400, 320, 200);	/* bars top/bottom */
	CHECK(r.x == 0 && r.y == 100 && r.w == 320 && r.h == 200);
	r = display_sdl_fit(1000, 1000, 1024, 768);
	CHECK(r.x == 0 && r.y == 125 && r.w == 1000 && r.h == 750);
	r = display_sdl_fit(800, 600, 0, 0);
	CHECK(r.w == 0 && r.h == 0);
	r = display_sdl_fit(0, 0, 640, 480);
	CHECK(r.w == 0 && r.h == 0);
}

TEST(no_display_server_is_an_error)
{
	char err[256] = "";
	char *disp = getenv("DISPLAY") ? strdup(getenv("DISPLAY")) : NULL;
	char *drv = getenv("SDL_VIDEODRIVER") ?
		strdup(getenv("SDL_VIDEODRIVER")) : NULL;
	struct display *d;

	setenv("DISPLAY", ":4095", 1);	/* nothing listens there */
	setenv("SDL_VIDEODRIVER", "x11", 1);
	d = display_sdl_new("x", 64, 64, err, sizeof(err));
	CHECK(d == NULL);
	CHECK(!strncmp(err, "cannot open an SDL window: ", 27));
	CHECK(strlen(err) > 27);
	if (d)
		d->ops->destroy(d);
	disp ? setenv("DISPLAY", disp, 1) : unsetenv("DISPLAY");
	drv ? setenv("SDL_VIDEODRIVER", drv, 1) : unsetenv("SDL_VIDEODRIVER");
	free(disp);
	free(drv);
}

/* In a window. */

TEST(draws_the_frame)
{
	struct display *d = open_display();
	uint32_t *px;

	CHECK(d != NULL);
	if (!d)
		return;
	/* Black until the guest sets a mode. */
	px = read_window(d, 640, 480);
	CHECK(px && at(px, 640, 320, 240) == BLACK);
	free(px);

	/* A mode change sizes the window to the mode, 1:1. */
	show_quadrants(d, 320, 200);
	px = read_window(d, 320, 200);
	CHECK(px != NULL);
	if (px) {
		check_quadrants(px, 320, (struct display_rect){ 0, 0, 320, 200 });
		CHECK_EQ(at(px, 320, 0, 0), RED);
		CHECK_EQ(at(px, 320, 319, 199), WHITE);
	}
	free(px);

	/* Only the updated rectangle changes. */
	{
		uint32_t *p = quadrants(320, 200);

		for (int y = 10; y < 20; y++)
			for (int x = 10; x < 30; x++)
				p[y * 320 + x] = 0xff000000u | 0x123456;
		d->ops->update(d, (const uint8_t *)p, 320 * 4,
			       (struct display_rect){ 10, 10, 20, 10 });
		free(p);
	}
	px = read_window(d, 320, 200);
	CHECK(px != NULL);
	if (px) {
		CHECK_EQ(at(px, 320, 15, 15), 0x123456);
		CHECK_EQ(at(px, 320, 5, 5), RED);
		check_quadrants(px, 320, (struct display_rect){ 0, 0, 320, 200 });
	}
	free(px);

	/* Mode 0 x 0: nothing to show. */
	d->ops->set_mode(d, 0, 0);
	px = read_window(d, 320, 200);
	CHECK(px && at(px, 320, 50, 50) == BLACK && at(px, 320, 160, 100) == BLACK);
	free(px);
	d->ops->destroy(d);
}

TEST(letterboxes_to_keep_the_aspect)
{
	struct display *d = open_display();
	uint32_t *px;

	CHECK(d != NULL);
	if (!d)
		return;
	show_quadrants(d, 320, 200);
	display_sdl_set_window_size(d, 640, 200);	/* wider */
	px = read_window(d, 640, 200);
	CHECK(px != NULL);
	if (px) {
		check_quadrants(px, 640, (struct display_rect){ 160, 0, 320, 200 });
		CHECK_EQ(at(px, 640, 80, 100), BLACK);
		CHECK_EQ(at(px, 640, 560, 100), BLACK);
		CHECK_EQ(at(px, 640, 159, 50), BLACK);
		CHECK_EQ(at(px, 640, 161, 50), RED);
	}
	free(px);

	display_sdl_set_window_size(d, 400, 600);	/* taller, scaled */
	px = read_window(d, 400, 600);
	CHECK(px != NULL);
	if (px) {
		check_quadrants(px, 400, (struct display_rect){ 0, 175, 400, 250 });
		CHECK_EQ(at(px, 400, 200, 80), BLACK);
		CHECK_EQ(at(px, 400, 200, 520), BLACK);
	}
	free(px);

	display_sdl_set_window_size(d, 960, 600);	/* 3x */
	px = read_window(d, 960, 600);
	CHECK(px != NULL);
	if (px)
		check_quadrants(px, 960, (struct display_rect){ 0, 0, 960, 600 });
	free(px);
	d->ops->destroy(d);
}

static void push_key(struct display *d, int type, SDL_Scancode sc,
		     uint16_t mod, int repeat)
{
	SDL_Event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = (uint32_t)type;
	ev.key.windowID = display_sdl_window_id(d);
	ev.key.state = type == SDL_KEYDOWN ? SDL_PRESSED : SDL_RELEASED;
	ev.key.repeat = (uint8_t)repeat;
	ev.key.keysym.scancode = sc;
	ev.key.keysym.mod = mod;
	CHECK_EQ(SDL_PushEvent(&ev), 1);
}

TEST(keys_reach_the_keyboard)
{
	struct display *d = open_display();
	static const struct ev want[] = {
		{ EV_KEY, KEY_A, 1 }, { EV_SYN, SYN_REPORT, 0 },
		{ EV_KEY, KEY_A, 0 }, { EV_SYN, SYN_REPORT, 0 },
		{ EV_KEY, KEY_LEFTSHIFT, 1 }, { EV_SYN, SYN_REPORT, 0 },
		{ EV_KEY, KEY_F12, 1 }, { EV_SYN, SYN_REPORT, 0 },
		{ EV_KEY, KEY_KPENTER, 0 }, { EV_SYN, SYN_REPORT, 0 },
	};

	CHECK(d != NULL);
	if (!d)
		return;
	display_sdl_sync(d);
	clear(&keys);
	push_key(d, SDL_KEYDOWN, SDL_SCANCODE_A, 0, 0);
	push_key(d, SDL_KEYDOWN, SDL_SCANCODE_A, 0, 1);	/* host repeat */
	push_key(d, SDL_KEYUP, SDL_SCANCODE_A, 0, 0);
	push_key(d, SDL_KEYDOWN, SDL_SCANCODE_LSHIFT, 0, 0);
	push_key(d, SDL_KEYDOWN, SDL_SCANCODE_F12, KMOD_LSHIFT, 0);
	push_key(d, SDL_KEYUP, SDL_SCANCODE_KP_ENTER, 0, 0);
	push_key(d, SDL_KEYDOWN, SDL_SCANCODE_UNKNOWN, 0, 0);	/* no code */
	display_sdl_sync(d);
	CHECK(recorded(&keys, want, 10));
	d->ops->destroy(d);
}

TEST(ctrl_alt_g_grabs_input)
{
	struct display *d = open_display();
	char title[128];
	static const struct ev want[] = {
		{ EV_KEY, KEY_LEFTCTRL, 1 }, { EV_SYN, SYN_REPORT, 0 },
		{ EV_KEY, KEY_LEFTALT, 1 }, { EV_SYN, SYN_REPORT, 0 },
		{ EV_KEY, KEY_G, 1 }, { EV_SYN, SYN_REPORT, 0 },
		{ EV_KEY, KEY_G, 0 }, { EV_SYN, SYN_REPORT, 0 },
	};

	CHECK(d != NULL);
	if (!d)
		return;
	display_sdl_window_title(d, title, sizeof(title));
	CHECK(!strcmp(title, "minivmm test"));
	display_sdl_sync(d);
	clear(&keys);
	push_key(d, SDL_KEYDOWN, SDL_SCANCODE_LCTRL, 0, 0);
	push_key(d, SDL_KEYDOWN, SDL_SCANCODE_LALT, KMOD_LCTRL, 0);
	push_key(d, SDL_KEYDOWN, SDL_SCANCODE_G, KMOD_LCTRL | KMOD_LALT, 0);
	push_key(d, SDL_KEYDOWN, SDL_SCANCODE_G, KMOD_LCTRL | KMOD_LALT, 1);
	push_key(d, SDL_KEYUP, SDL_SCANCODE_G, 0, 0);	/* mods let go first */
	display_sdl_window_title(d, title, sizeof(title));
	CHECK(!strcmp(title, "minivmm test" DISPLAY_SDL_GRAB_HINT));
	/* The hot key's G never reaches the guest; a plain G does. */
	push_key(d, SDL_KEYDOWN, SDL_SCANCODE_G, 0, 0);
	push_key(d, SDL_KEYUP, SDL_SCANCODE_G, 0, 0);
	display_sdl_sync(d);
	CHECK(recorded(&keys, want, 8));
	/* Again: released. */
	push_key(d, SDL_KEYDOWN, SDL_SCANCODE_G, KMOD_RCTRL | KMOD_RALT, 0);
	display_sdl_window_title(d, title, sizeof(title));
	CHECK(!strcmp(title, "minivmm test"));
	d->ops->destroy(d);
}

static void push_mouse(struct display *d, uint32_t type, int x, int y,
		       int button_or_wheel)
{
	SDL_Event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	if (type == SDL_MOUSEMOTION) {
		ev.motion.windowID = display_sdl_window_id(d);
		ev.motion.x = x;
		ev.motion.y = y;
	} else if (type == SDL_MOUSEWHEEL) {
		ev.wheel.windowID = display_sdl_window_id(d);
		ev.wheel.y = button_or_wheel;
		ev.wheel.direction = SDL_MOUSEWHEEL_NORMAL;
	} else {
		ev.button.windowID = display_sdl_window_id(d);
		ev.button.button = (uint8_t)button_or_wheel;
		ev.button.state = type == SDL_MOUSEBUTTONDOWN ?
			SDL_PRESSED : SDL_RELEASED;
		ev.button.x = x;
		ev.button.y = y;
	}
	CHECK_EQ(SDL_PushEvent(&ev), 1);
}

TEST(mouse_is_absolute_over_the_image)
{
	struct display *d = open_display();
	uint32_t *px;
	const int32_t M = INPUT_ABS_MAX;
	const struct ev want[] = {
		/* image corners: the window is 640 x 200, the image
		 * 320 x 200 at x = 160 */
		{ EV_ABS, ABS_X, 0 }, { EV_ABS, ABS_Y, 0 },
		{ EV_SYN, SYN_REPORT, 0 },
		{ EV_ABS, ABS_X, M }, { EV_ABS, ABS_Y, M },
		{ EV_SYN, SYN_REPORT, 0 },
		/* the middle */
		{ EV_ABS, ABS_X, 160 * M / 319 }, { EV_ABS, ABS_Y, 100 * M / 199 },
		{ EV_SYN, SYN_REPORT, 0 },
		/* on the black bars: clamped to the edges */
		{ EV_ABS, ABS_X, 0 }, { EV_ABS, ABS_Y, 50 * M / 199 },
		{ EV_SYN, SYN_REPORT, 0 },
		{ EV_ABS, ABS_X, M }, { EV_ABS, ABS_Y, M },
		{ EV_SYN, SYN_REPORT, 0 },
		/* buttons, where they were pressed */
		{ EV_ABS, ABS_X, 80 * M / 319 }, { EV_ABS, ABS_Y, 20 * M / 199 },
		{ EV_KEY, BTN_LEFT, 1 }, { EV_SYN, SYN_REPORT, 0 },
		{ EV_ABS, ABS_X, 80 * M / 319 }, { EV_ABS, ABS_Y, 20 * M / 199 },
		{ EV_KEY, BTN_LEFT, 0 }, { EV_SYN, SYN_REPORT, 0 },
		{ EV_ABS, ABS_X, 0 }, { EV_ABS, ABS_Y, 0 },
		{ EV_KEY, BTN_RIGHT, 1 }, { EV_SYN, SYN_REPORT, 0 },
		{ EV_ABS, ABS_X, 0 }, { EV_ABS, ABS_Y, 0 },
		{ EV_KEY, BTN_MIDDLE, 1 }, { EV_SYN, SYN_REPORT, 0 },
		/* the wheel */
		{ EV_REL, REL_WHEEL, 1 }, { EV_SYN, SYN_REPORT, 0 },
		{ EV_REL, REL_WHEEL, -2 }, { EV_SYN, SYN_REPORT, 0 },
	};

	CHECK(d != NULL);
	if (!d)
		return;
	show_quadrants(d, 320, 200);
	display_sdl_set_window_size(d, 640, 200);
	px = read_window(d, 640, 200);	/* the resize went through */
	CHECK(px != NULL);
	free(px);
	display_sdl_sync(d);
	clear(&ptr);
	push_mouse(d, SDL_MOUSEMOTION, 160, 0, 0);
	push_mouse(d, SDL_MOUSEMOTION, 479, 199, 0);
	push_mouse(d, SDL_MOUSEMOTION, 320, 100, 0);
	push_mouse(d, SDL_MOUSEMOTION, 10, 50, 0);
	push_mouse(d, SDL_MOUSEMOTION, 630, 300, 0);
	push_mouse(d, SDL_MOUSEBUTTONDOWN, 240, 20, SDL_BUTTON_LEFT);
	push_mouse(d, SDL_MOUSEBUTTONUP, 240, 20, SDL_BUTTON_LEFT);
	push_mouse(d, SDL_MOUSEBUTTONDOWN, 160, 0, SDL_BUTTON_RIGHT);
	push_mouse(d, SDL_MOUSEBUTTONDOWN, 160, 0, SDL_BUTTON_MIDDLE);
	push_mouse(d, SDL_MOUSEWHEEL, 0, 0, 1);
	push_mouse(d, SDL_MOUSEWHEEL, 0, 0, -2);
	display_sdl_sync(d);
	CHECK(recorded(&ptr, want, (int)(sizeof(want) / sizeof(want[0]))));

	/* No mode, no image to point at: nothing is sent. */
	d->ops->set_mode(d, 0, 0);
	display_sdl_sync(d);
	clear(&ptr);
	push_mouse(d, SDL_MOUSEMOTION, 100, 100, 0);
	display_sdl_sync(d);
	CHECK_EQ(ptr.n, 0);
	d->ops->destroy(d);
}

static void push_close(struct display *d, int quit)
{
	SDL_Event ev;

	memset(&ev, 0, sizeof(ev));
	if (quit) {
		ev.type = SDL_QUIT;
	} else {
		ev.type = SDL_WINDOWEVENT;
		ev.window.windowID = display_sdl_window_id(d);
		ev.window.event = SDL_WINDOWEVENT_CLOSE;
	}
	CHECK_EQ(SDL_PushEvent(&ev), 1);
}

TEST(closing_the_window_calls_back)
{
	struct display *d = open_display();

	CHECK(d != NULL);
	if (!d)
		return;
	closes = 0;
	push_close(d, 0);
	display_sdl_sync(d);
	CHECK_EQ(closes, 1);
	push_close(d, 1);
	display_sdl_sync(d);
	CHECK_EQ(closes, 2);
	/* The window stays until minivmm destroys it. */
	show_quadrants(d, 64, 64);
	display_sdl_sync(d);
	d->ops->destroy(d);
	CHECK_EQ(closes, 2);
}

TEST(cursor_screenshot_and_one_window)
{
	struct display *d = open_display();
	char err[256], path[] = "/tmp/minivmm-sdl-test-XXXXXX";
	uint8_t cursor[64 * 64 * 4], png[24] = { 0 };
	struct display *second;
	int fd;

	CHECK(d != NULL);
	if (!d)
		return;
	second = display_sdl_new("two", 64, 64, err, sizeof(err));
	CHECK(second == NULL);
	CHECK(strstr(err, "already open") != NULL);

	for (int i = 0; i < 64 * 64; i++) {	/* a half-opaque square */
		cursor[i * 4 + 0] = 0xff;
		cursor[i * 4 + 1] = 0;
		cursor[i * 4 + 2] = 0;
		cursor[i * 4 + 3] = (i % 64 < 16 && i / 64 < 16) ? 0xff : 0;
	}
	d->ops->cursor_define(d, cursor, 1, 1);
	d->ops->cursor_move(d, 10, 10);
	display_sdl_sync(d);
	d->ops->cursor_define(d, cursor, 200, 200);	/* hot spot clamped */
	d->ops->cursor_define(d, NULL, 0, 0);
	display_sdl_sync(d);

	/* A PNG of the frame: signature, then IHDR's width and height. */
	show_quadrants(d, 32, 16);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(d->ops->screenshot(d, path, err, sizeof(err)), 0);
	fd = open(path, O_RDONLY);
	CHECK_EQ(read(fd, png, sizeof(png)), (long)sizeof(png));
	CHECK(!memcmp(png, "\x89PNG\r\n\x1a\n", 8));
	CHECK(!memcmp(png + 12, "IHDR\0\0\0\x20\0\0\0\x10", 12));
	close(fd);
	unlink(path);
	d->ops->destroy(d);

	/* Destroyed: a new window may open. */
	d = open_display();
	CHECK(d != NULL);
	if (d)
		d->ops->destroy(d);
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* An idle window sleeps in SDL_WaitEvent: no polling loop. */
TEST(idle_costs_no_cpu)
{
	struct display *d = open_display();
	double before;

	CHECK(d != NULL);
	if (!d)
		return;
	show_quadrants(d, 320, 200);
	free(read_window(d, 320, 200));
	msleep(200);
	before = cpu_seconds();
	msleep(1000);
	CHECK(cpu_seconds() - before < 0.05);
	d->ops->destroy(d);
}

int main(void)
{
	/* Neither Xvfb nor any window is needed for these. */
	RUN(key_table);
	RUN(fit_keeps_aspect);
	if (start_xvfb() == 0) {
		backend = "Xvfb";
		RUN(no_display_server_is_an_error);
	} else {
		/* SDL's offscreen driver renders in memory; with its
		 * software renderer, since its GL one draws into a
		 * pbuffer that keeps the window's first size. */
		setenv("SDL_VIDEODRIVER", "offscreen", 1);
		setenv("SDL_RENDER_DRIVER", "software", 1);
		backend = "offscreen";
	}
	{
		char err[256];
		struct display *d = display_sdl_new("probe", 64, 64, err,
						    sizeof(err));

		if (d) {
			keep_libraries_loaded();
			d->ops->destroy(d);
		} else {
			fprintf(stderr, "  no window with %s: %s\n", backend,
				err);
			backend = NULL;
		}
	}
	if (backend) {
		printf("# windows on %s (DISPLAY=%s)\n", backend,
		       getenv("DISPLAY") ? getenv("DISPLAY") : "");
		RUN(draws_the_frame);
		RUN(letterboxes_to_keep_the_aspect);
		RUN(keys_reach_the_keyboard);
		RUN(ctrl_alt_g_grabs_input);
		RUN(mouse_is_absolute_over_the_image);
		RUN(closing_the_window_calls_back);
		RUN(cursor_screenshot_and_one_window);
		if (!strcmp(backend, "Xvfb"))
			RUN(idle_costs_no_cpu);
		else
			printf("SKIP idle_costs_no_cpu: the offscreen driver "
			       "polls for events\n");
	} else {
		static const char *const skipped[] = {
			"draws_the_frame", "letterboxes_to_keep_the_aspect",
			"keys_reach_the_keyboard", "ctrl_alt_g_grabs_input",
			"mouse_is_absolute_over_the_image",
			"closing_the_window_calls_back",
			"cursor_screenshot_and_one_window", "idle_costs_no_cpu",
		};

		for (size_t i = 0; i < sizeof(skipped) / sizeof(*skipped); i++)
			printf("SKIP %s: neither Xvfb nor SDL's offscreen "
			       "driver can open a window\n", skipped[i]);
	}
	stop_xvfb();
	return CHECK_DONE();
}
