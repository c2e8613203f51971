/* Input events as they travel from a display back end or the control
 * socket to the guest's virtio-input devices: Linux evdev (type, code,
 * value) triples, with SYN_REPORT closing each group.  Keys use Linux key
 * codes (KEY_A = 30 ...); the pointer is absolute, 0..INPUT_ABS_MAX on
 * each axis across the whole screen, so it lines up with the host's. */
#ifndef MINIVMM_INPUT_EVENT_H
#define MINIVMM_INPUT_EVENT_H

#include <stdint.h>

#define INPUT_ABS_MAX 32767

struct input_sink {
	/* Thread-safe: called from the SDL thread or the event thread. */
	void (*event)(void *ctx, uint16_t type, uint16_t code, int32_t value);
	void *ctx;
};

static inline void input_send(const struct input_sink *s, uint16_t type,
			      uint16_t code, int32_t value)
{
	if (s && s->event)
		s->event(s->ctx, type, code, value);
}

#endif
