/* The table minivmm looks up in minivmm-gpu.so (gpu_module.h). */
#include "gpu_module.h"

#include "display.h"
#include "display_sdl.h"
#include "virtio_gpu_virgl.h"

#ifndef MINIVMM_VERSION
#define MINIVMM_VERSION "dev"
#endif

__attribute__((visibility("default")))
const struct gpu_module minivmm_gpu_module = {
	.version = MINIVMM_VERSION,
	.size = sizeof(struct gpu_module),
	.headless_new = display_headless_new,
	.sdl_new = display_sdl_new,
	.sdl_on_close = display_sdl_on_close,
	.sdl_thread_hook = display_sdl_thread_hook,
	.enable_virgl = virtio_gpu_enable_virgl,
	.virgl_thread_hook = virtio_gpu_virgl_thread_hook,
};
