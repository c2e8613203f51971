/* The whole x86 machine minivmm builds from its options: the KVM VM, the
 * platform devices, the virtio devices in their MMIO slots, the event loop
 * and the terminal input, and how it all ends. */
#ifndef MINIVMM_MACHINE_H
#define MINIVMM_MACHINE_H

#include "control.h"
#include "display.h"
#include "loop.h"
#include "options.h"
#include "platform.h"
#include "serial.h"
#include "stdin_feed.h"
#include "virtio_slot.h"
#include "vm.h"

struct virtio_blk;
struct virtio_console;
struct virtio_rng;
struct virtio_gpu;
struct virtio_input;

struct file_buf {
	uint8_t *data;
	size_t size;
	int mapped;	/* munmap, not free */
};

struct machine {
	struct vm vm;
	struct serial com1;
	struct platform platform;
	struct loop loop;
	struct stdin_feed input;
	int sig_fd;
	int stopped_by_signal;

	struct virtio_slot slot[VIRTIO_MAX_DEVICES];
	unsigned nr_slots;
	struct virtio_blk *blk[MAX_DISKS];
	struct virtio_dev blk_dev[MAX_DISKS];
	unsigned nr_blk;
	struct virtio_console *console;
	struct virtio_rng *rng;

	/* --gpu: the device, where its screen goes, the guest's keyboard
	 * and tablet, and the control socket that drives them. */
	struct display *display;
	struct virtio_gpu *gpu;
	struct virtio_input *keyboard, *tablet;
	uint32_t screen_w, screen_h;	/* the scanout, for pointer scaling */
	struct display_ops display_proxy;
	const struct display_ops *display_real;
	struct control control;
	int close_fd;			/* eventfd: the SDL window was closed */
};

/* machine_display.c: the GPU, its display back end and input devices
 * (in that slot order, after the disks, console and rng), and the
 * control socket. */
struct virtio_slot *machine_next_slot(struct machine *m);
int machine_add_display(struct machine *m, const struct vm_options *o);
int machine_start_control(struct machine *m, const struct vm_options *o);
void machine_stop_display(struct machine *m);

/* Builds and runs the VM; returns minivmm's exit status. */
int machine_run(struct machine *m, const struct vm_options *o,
		struct file_buf *kernel, struct file_buf *vmlinux,
		struct file_buf *initrd, const char *cmdline);

#endif
