/* The decompressed-kernel cache (kernel_cache.h). */
#include "kernel_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

/* A 64-bit hash of the whole file, 8 bytes at a time (a few ms for a
 * distribution kernel): it names a cache entry, it guards nothing - the
 * entry is checked as an ELF for this bzImage anyway. */
void kernel_cache_name(const uint8_t *img, size_t size, char *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL, w;
	size_t i = 0;

	for (; i + 8 <= size; i += 8) {
		memcpy(&w, img + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < size; i++)
		h = (h ^ img[i]) * 0x100000001b3ULL;
	snprintf(buf, len, "vmlinux-%zx-%016llx", size, (unsigned long long)h);
}

/* The cache directory; 0 if one is named (it may not exist yet). */
static int cache_dir(char *buf, size_t len)
{
	const char *d = getenv("MINIVMM_CACHE_DIR"), *x, *home;
	int n;

	if (d && *d)
		n = snprintf(buf, len, "%s", d);
	else if ((x = getenv("XDG_CACHE_HOME")) && *x == '/')
		n = snprintf(buf, len, "%s/minivmm", x);
	else if ((home = getenv("HOME")) && *home == '/')
		n = snprintf(buf, len, "%s/.cache/minivmm", home);
	else
		return -1;
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int entry_path(const uint8_t *img, size_t size, char *buf, size_t len)
{
	char dir[PATH_MAX], name[64];
	int n;

	if (cache_dir(dir, sizeof(dir)))
		return -1;
	kernel_cache_name(img, size, name, sizeof(name));
	n = snprintf(buf, len, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int kernel_cache_map(const uint8_t *img, size_t size,
		     const struct bzimage_info *bi, uint8_t **data,
		     size_t *out_size)
{
	char path[PATH_MAX];
	struct vmlinux_info vi;
	struct stat st;
	const char *why;
	void *p;
	int fd;

	if (entry_path(img, size, path, sizeof(path)))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		close(fd);
		return -1;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	if (vmlinux_parse(p, (size_t)st.st_size, bi, &vi, &why)) {
		/* Not what we wrote (truncated, replaced): start over. */
		munmap(p, (size_t)st.st_size);
		unlink(path);
		return -1;
	}
	/* The whole file is about to be copied: read it in one go. */
	madvise(p, (size_t)st.st_size, MADV_WILLNEED);
	*data = p;
	*out_size = (size_t)st.st_size;
	return 0;
}

void kernel_cache_unmap(uint8_t *data, size_t size)
{
	if (data)
		munmap(data, size);
}

/* Keeps the KERNEL_CACHE_KEEP most recently written entries. */
static void prune(const char *dir)
{
	struct { char name[64]; time_t mtime; } e[64];
	unsigned n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)) && n < 64) {
		struct stat st;

		if (strncmp(de->d_name, "vmlinux-", 8) ||
		    strlen(de->d_name) >= sizeof(e[0].name) ||
		    fstatat(dirfd(d), de->d_name, &st, 0) < 0)
			continue;
		snprintf(e[n].name, sizeof(e[n].name), "%s", de->d_name);
		e[n++].mtime = st.st_mtime;
	}
	while (n > KERNEL_CACHE_KEEP) {
		unsigned oldest = 0;

		for (unsigned i = 1; i < n; i++)
			if (e[i].mtime < e[oldest].mtime)
				oldest = i;
		unlinkat(dirfd(d), e[oldest].name, 0);
		e[oldest] = e[--n];
	}
	closedir(d);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* In the detached process: decompress, write PATH.tmp.PID, rename. */
static void fill(const uint8_t *img, size_t size)
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX + 32];
	uint8_t *vml;
	size_t vml_size;
	const char *why;
	int fd;

	if (cache_dir(dir, sizeof(dir)) ||
	    entry_path(img, size, path, sizeof(path)))
		return;
	/* ~/.cache may not exist yet; make both levels, private. */
	if (!getenv("MINIVMM_CACHE_DIR") || !*getenv("MINIVMM_CACHE_DIR")) {
		char parent[PATH_MAX];
		char *slash;

		snprintf(parent, sizeof(parent), "%s", dir);
		slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			mkdir(parent, 0700);
		}
	}
	/* A cache we could not write would cost every boot a decompression
	 * for nothing. */
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || access(dir, W_OK) < 0)
		return;
	if (bzimage_decompress(img, size, &vml, &vml_size, &why))
		return;		/* not xz, or corrupt: boots stay as they are */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(vml);
		return;
	}
	if (write_all(fd, vml, vml_size) || fsync(fd) || close(fd) ||
	    rename(tmp, path))
		unlink(tmp);
	free(vml);
	prune(dir);
}

void kernel_cache_fill_async(const uint8_t *img, size_t size)
{
	pid_t child = fork(), grandchild;
	int devnull;

	if (child < 0)
		return;
	if (child > 0) {
		/* The child only forks again: reaped at once, and the
		 * grandchild belongs to init, not to us or our caller. */
		waitpid(child, NULL, 0);
		return;
	}
	grandchild = fork();
	if (grandchild != 0)
		_exit(0);
	/* Hold nothing of the caller's: not its terminal or pipes (a test
	 * waiting for EOF on our output), not descriptors it passed us. */
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
	sandbox_close_inherited_fds();
	setsid();
	setpriority(PRIO_PROCESS, 0, 19);
	fill(img, size);
	_exit(0);
}
