/* Loading minivmm-gpu.so (gpu_module.h) for a VM with a GPU. */
#include "gpu_module.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef MINIVMM_VERSION
#define MINIVMM_VERSION "dev"
#endif

static const struct gpu_module *loaded;

/* dir/name into buf; 0 if it fits. */
static int join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len;
}

const struct gpu_module *gpu_module_load(char *err, size_t errlen)
{
	char exe[PATH_MAX], path[PATH_MAX + 64], *slash;
	const char *tried[2] = { GPU_MODULE_FILE, "../lib/minivmm/" GPU_MODULE_FILE };
	const struct gpu_module *mod;
	void *h = NULL;
	ssize_t n;

	if (loaded)
		return loaded;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(err, errlen, "cannot find the GPU module: where is "
			 "minivmm? (/proc/self/exe unreadable)");
		return NULL;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	for (size_t i = 0; i < 2 && !h; i++) {
		if (join(path, sizeof(path), exe, tried[i]))
			continue;
		if (access(path, F_OK) < 0)
			continue;
		/* NOW: a module from another build fails here, not later. */
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			snprintf(err, errlen, "cannot load the GPU module: %s",
				 dlerror());
			return NULL;
		}
	}
	if (!h) {
		snprintf(err, errlen, "the GPU module %s is missing: it is "
			 "built with minivmm (make) and must stay next to it, "
			 "or in ../lib/minivmm/", GPU_MODULE_FILE);
		return NULL;
	}
	mod = dlsym(h, GPU_MODULE_SYMBOL);
	if (!mod || mod->size != sizeof(*mod) ||
	    strcmp(mod->version, MINIVMM_VERSION)) {
		snprintf(err, errlen, "%s is not the GPU module of this "
			 "minivmm (%s): rebuild both", path, MINIVMM_VERSION);
		dlclose(h);
		return NULL;
	}
	loaded = mod;
	return mod;
}
