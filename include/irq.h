/* How a device raises its interrupt without knowing what delivers it:
 * under KVM the callback is an irqchip line (KVM_IRQ_LINE or an irqfd); in
 * unit tests it records the level. */
#ifndef MINIVMM_IRQ_H
#define MINIVMM_IRQ_H

struct irq_line {
	void (*set_level)(void *ctx, unsigned gsi, int level);
	void *ctx;
	unsigned gsi;
};

static inline void irq_set(const struct irq_line *l, int level)
{
	if (l && l->set_level)
		l->set_level(l->ctx, l->gsi, level);
}

#endif
