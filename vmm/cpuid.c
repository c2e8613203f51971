/* CPUID patching for each vCPU; see cpuid.h. */
#include "cpuid.h"

static unsigned order_of(unsigned n)	/* bits needed to number n CPUs */
{
	unsigned s = 0;

	while ((1u << s) < n)
		s++;
	return s;
}

void cpuid_patch_for_vcpu(struct kvm_cpuid2 *c, unsigned apic_id,
			  unsigned nr_cpus)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* EBX[31:24] initial APIC id, [23:16] logical CPUs per
			 * package; ECX bit 31: running under a hypervisor. */
			e->ebx = (e->ebx & 0x0000ffff) | (apic_id << 24) |
				 ((nr_cpus & 0xff) << 16);
			e->ecx |= 1u << 31;
			if (nr_cpus > 1)
				e->edx |= 1u << 28;	/* HTT: count is valid */
			break;
		case 0xb:
		case 0x1f:
			/* Extended topology: level 0 = SMT (1 thread per core),
			 * level 1 = core (nr_cpus cores); x2APIC id in EDX. */
			e->edx = apic_id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = order_of(nr_cpus);
				e->ebx = nr_cpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 4:
			/* Deterministic cache parameters: EAX[31:26] is cores
			 * per package - 1; [25:14] threads sharing the cache. */
			if (!(e->eax & 0x1f))
				break;	/* no cache at this index */
			e->eax &= 0x3fff;
			e->eax |= ((nr_cpus - 1) & 0x3f) << 26;
			break;
		case 0x80000008:
			/* AMD: ECX[7:0] number of cores - 1, [15:12] id size. */
			e->ecx = (e->ecx & ~0xf0ffu) | ((nr_cpus - 1) & 0xff) |
				 (order_of(nr_cpus) << 12);
			break;
		default:
			break;
		}
	}
}
