/* Per-vCPU CPUID from what KVM supports: a distinct APIC id per vCPU, the
 * hypervisor bit, and a flat topology (every vCPU one core of one socket)
 * so the guest counts exactly --cpus CPUs. */
#ifndef MINIVMM_CPUID_H
#define MINIVMM_CPUID_H

#include <linux/kvm.h>

void cpuid_patch_for_vcpu(struct kvm_cpuid2 *c, unsigned apic_id,
			  unsigned nr_cpus);

#endif
