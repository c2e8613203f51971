/* mvtool: a tiny static helper put into the default guest's initramfs for
 * the boot tests (built by tools/mkguest.sh).  It speaks only kernel
 * interfaces (DRM ioctls, evdev), so it needs no library in the guest.
 *
 *   mvtool pattern [SECONDS]  draw the known test pattern full-screen on
 *                             the first connected DRM connector through a
 *                             dumb buffer, print "pattern WxH", hold it
 *   mvtool keys N [DEVNAME]   print the next N EV_KEY events of the input
 *                             device named DEVNAME (default: the first
 *                             with "keyboard" in its name) as
 *                             "key CODE VALUE"
 *
 * The pattern, pixel (x, y) as 0xRRGGBB, must match tests/boot/pattern.py:
 *   R = (x * 255) / (W - 1), G = (y * 255) / (H - 1),
 *   B = ((x / 32) + (y / 32)) % 2 ? 0xff : 0x00 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "drm.h"
#include "drm_mode.h"

static int die(const char *what)
{
	fprintf(stderr, "mvtool: %s: %s\n", what, strerror(errno));
	return 1;
}

static uint32_t pattern_pixel(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	uint32_t r = (x * 255) / (w - 1), g = (y * 255) / (h - 1);
	uint32_t b = ((x / 32) + (y / 32)) % 2 ? 0xff : 0x00;

	return (r << 16) | (g << 8) | b;
}

static int pattern(int seconds)
{
	struct drm_mode_card_res res = { 0 };
	uint32_t conn_ids[16], crtc_ids[16], enc_ids[16];
	struct drm_mode_get_connector conn;
	struct drm_mode_modeinfo modes[64];
	struct drm_mode_create_dumb dumb = { 0 };
	struct drm_mode_map_dumb map = { 0 };
	struct drm_mode_fb_cmd fb = { 0 };
	struct drm_mode_crtc crtc = { 0 };
	int fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	uint32_t w, h;
	uint8_t *px;

	if (fd < 0)
		return die("/dev/dri/card0");
	if (ioctl(fd, DRM_IOCTL_SET_MASTER, 0) < 0)
		return die("SET_MASTER");
	if (ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0)
		return die("GETRESOURCES");
	if (res.count_connectors > 16 || res.count_crtcs > 16 ||
	    res.count_encoders > 16 || !res.count_connectors || !res.count_crtcs)
		return fprintf(stderr, "mvtool: odd DRM resources\n"), 1;
	res.connector_id_ptr = (uintptr_t)conn_ids;
	res.crtc_id_ptr = (uintptr_t)crtc_ids;
	res.encoder_id_ptr = (uintptr_t)enc_ids;
	res.count_fbs = 0;
	if (ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0)
		return die("GETRESOURCES");
	memset(&conn, 0, sizeof(conn));
	conn.connector_id = conn_ids[0];
	if (ioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn) < 0)
		return die("GETCONNECTOR");
	if (!conn.count_modes || conn.count_modes > 64)
		return fprintf(stderr, "mvtool: connector has %u modes\n",
			       conn.count_modes), 1;
	conn.modes_ptr = (uintptr_t)modes;
	conn.count_props = conn.count_encoders = 0;
	if (ioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn) < 0)
		return die("GETCONNECTOR");
	/* The preferred mode comes first. */
	w = modes[0].hdisplay;
	h = modes[0].vdisplay;

	dumb.width = w;
	dumb.height = h;
	dumb.bpp = 32;
	if (ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &dumb) < 0)
		return die("CREATE_DUMB");
	fb.width = w;
	fb.height = h;
	fb.pitch = dumb.pitch;
	fb.bpp = 32;
	fb.depth = 24;
	fb.handle = dumb.handle;
	if (ioctl(fd, DRM_IOCTL_MODE_ADDFB, &fb) < 0)
		return die("ADDFB");
	map.handle = dumb.handle;
	if (ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map) < 0)
		return die("MAP_DUMB");
	px = mmap(NULL, dumb.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		  (off_t)map.offset);
	if (px == MAP_FAILED)
		return die("mmap");
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t v = pattern_pixel(x, y, w, h);
			memcpy(px + (size_t)y * dumb.pitch + x * 4, &v, 4);
		}
	crtc.crtc_id = crtc_ids[0];
	crtc.fb_id = fb.fb_id;
	crtc.set_connectors_ptr = (uintptr_t)&conn.connector_id;
	crtc.count_connectors = 1;
	crtc.mode = modes[0];
	crtc.mode_valid = 1;
	if (ioctl(fd, DRM_IOCTL_MODE_SETCRTC, &crtc) < 0)
		return die("SETCRTC");
	/* Dumb buffers need a dirty call on virtio-gpu to reach the host. */
	{
		struct drm_clip_rect clip = { 0, 0, (unsigned short)w, (unsigned short)h };
		struct drm_mode_fb_dirty_cmd dirty = {
			.fb_id = fb.fb_id, .num_clips = 1,
			.clips_ptr = (uintptr_t)&clip,
		};
		ioctl(fd, DRM_IOCTL_MODE_DIRTYFB, &dirty);
	}
	printf("pattern %ux%u\n", w, h);
	fflush(stdout);
	sleep((unsigned)seconds);
	return 0;
}

static int find_input(const char *want, char *path, size_t len)
{
	for (int i = 0; i < 32; i++) {
		char name[256] = "";
		int fd;

		snprintf(path, len, "/dev/input/event%d", i);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ioctl(fd, EVIOCGNAME(sizeof(name) - 1), name);
		if (strstr(name, want))
			return fd;
		close(fd);
	}
	return -1;
}

static int keys(int n, const char *want)
{
	char path[64];
	int fd = find_input(want, path, sizeof(path));
	struct input_event ev;

	if (fd < 0)
		return fprintf(stderr, "mvtool: no input device named *%s*\n",
			       want), 1;
	printf("reading %s\n", path);
	fflush(stdout);
	while (n > 0 && read(fd, &ev, sizeof(ev)) == sizeof(ev)) {
		if (ev.type != EV_KEY)
			continue;
		printf("key %u %d\n", ev.code, ev.value);
		fflush(stdout);
		n--;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "pattern"))
		return pattern(argc > 2 ? atoi(argv[2]) : 3600);
	if (argc >= 3 && !strcmp(argv[1], "keys"))
		return keys(atoi(argv[2]), argc > 3 ? argv[3] : "keyboard");
	fprintf(stderr, "usage: mvtool pattern [SECONDS] | keys N [NAME]\n");
	return 2;
}
