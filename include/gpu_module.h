/* The GPU stack - the SDL2 window, the headless screen and its PNG
 * screenshots, virgl (virglrenderer, EGL) - is built as a module,
 * minivmm-gpu.so, that minivmm loads only for a VM with --gpu: a VM
 * without one never maps, relocates or initialises SDL2, Mesa, libpng and
 * the ~60 libraries they pull in (7 MiB resident at start-up).  The module
 * calls back into minivmm (guest memory, the virtio-gpu core), which is
 * linked with --export-dynamic for it.  Unit tests link the same code
 * directly, without the module. */
#ifndef MINIVMM_GPU_MODULE_H
#define MINIVMM_GPU_MODULE_H

#include <stddef.h>
#include <stdint.h>

struct display;
struct virtio_gpu;

typedef int (*gpu_thread_hook_fn)(void *opaque, char *err, size_t errlen);

/* What minivmm calls in the module: the few entry points of display.h,
 * display_sdl.h and virtio_gpu_virgl.h that it needs. */
struct gpu_module {
	const char *version;	/* MINIVMM_VERSION of the module's build */
	size_t size;		/* sizeof(struct gpu_module) there */
	struct display *(*headless_new)(void);
	struct display *(*sdl_new)(const char *title, uint32_t w, uint32_t h,
				   char *err, size_t errlen);
	void (*sdl_on_close)(struct display *d, void (*fn)(void *ctx),
			     void *ctx);
	void (*sdl_thread_hook)(gpu_thread_hook_fn fn, void *opaque);
	int (*enable_virgl)(struct virtio_gpu *g, char *err, size_t errlen);
	void (*virgl_thread_hook)(gpu_thread_hook_fn fn, void *opaque);
};

#define GPU_MODULE_FILE		"minivmm-gpu.so"
#define GPU_MODULE_SYMBOL	"minivmm_gpu_module"

/* Loads the module from the directory minivmm runs from (the build
 * tree) or ../lib/minivmm next to it (an installed minivmm), once.
 * NULL with a one-line reason in err. */
const struct gpu_module *gpu_module_load(char *err, size_t errlen);

#endif
