/* A tiny "BIOS" at the x86 reset vector.  There is no firmware, but Linux
 * may still jump to F000:FFF0 to reboot: with hardware-reduced ACPI it
 * prefers an EFI reset, and without EFI it falls back to the BIOS entry
 * (machine_real_restart).  These bytes turn that jump into the keyboard
 * controller's reset command, which minivmm's i8042 port ends the VM on,
 * instead of running zeros forever. */
#include "boot.h"

#include "layout.h"

int x86_reset_vector_write(struct guest_mem *gm)
{
	static const uint8_t stub[] = {
		0xb0, 0xfe,		/* mov al, 0xfe   ; pulse reset line */
		0xe6, 0x64,		/* out 0x64, al   ; i8042 command port */
		0xf4,			/* hlt */
		0xeb, 0xfd,		/* jmp short hlt  ; should not get here */
	};

	return guest_mem_write(gm, RESET_VECTOR_ADDR, stub, sizeof(stub));
}
