# minivmm - see README.md.  `make` builds build/minivmm; `make test` runs
# every test (unit, unit under ASan+UBSan, boot tests on KVM or nested).

CC      ?= gcc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -MMD -MP \
	   -fno-strict-aliasing
# Debian libraries (README: "Dependencies and why").  The GPU stack's
# are linked into the GPU module only (include/gpu_module.h).
PKGS    := libseccomp liblzma
GPU_PKGS := sdl2 libpng virglrenderer epoxy egl
CFLAGS  += $(shell pkg-config --cflags $(PKGS) $(GPU_PKGS))
LDLIBS  += -lpthread -luring $(shell pkg-config --libs $(PKGS))
GPU_LDLIBS := $(shell pkg-config --libs $(GPU_PKGS))
# The sanitizer builds (unit tests) also check guest-memory invariants.
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all -DMINIVMM_DEBUG

B := build
VERSION := 0.1.0

# Sources that never touch KVM: linked into the unit tests too.
LIB_SRCS := $(sort $(wildcard boot/*.c devices/*.c devices/*/*.c)) \
	    vmm/guest_mem.c vmm/bus.c vmm/options.c vmm/cpuid.c vmm/escape.c \
	    vmm/loop.c vmm/stdin_feed.c vmm/control.c vmm/ctl_client.c \
	    vmm/sandbox.c vmm/sandbox_policy.c
VMM_SRCS := $(filter-out $(LIB_SRCS),$(sort $(wildcard vmm/*.c)))
# The GPU module, minivmm-gpu.so: display back ends and virgl.
GPU_SRCS := $(sort $(wildcard devices/display/*.c devices/virtio/gpu_virgl*.c)) \
	    devices/gpu_module.c
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
VMM_OBJS := $(VMM_SRCS:%.c=$(B)/obj/%.o)
GPU_OBJS := $(GPU_SRCS:%.c=$(B)/pic/%.o)
TESTS := $(TEST_SRCS:tests/unit/%.c=$(B)/tests/%)
ASAN_LIB_OBJS := $(LIB_SRCS:%.c=$(B)/asan/%.o)
ASAN_TESTS := $(TEST_SRCS:tests/unit/%.c=$(B)/asan-tests/%)

GUEST := $(B)/guest

.PHONY: all run test unit-tests boot-tests deps guest glguest clean bench fuzz
all: $(B)/minivmm $(B)/minivmm-gpu.so

# --export-dynamic: the GPU module calls back into minivmm.
# Linked beside and renamed over: a test starting minivmm during a rebuild
# gets the old file or the new one, never half of one.
$(B)/minivmm: $(filter-out $(GPU_SRCS:%.c=$(B)/obj/%.o),$(LIB_OBJS)) $(VMM_OBJS)
	$(CC) $(CFLAGS) -rdynamic -o $@.tmp $(filter %.o,$^) $(LDFLAGS) $(LDLIBS)
	mv -f $@.tmp $@

$(B)/minivmm-gpu.so: $(GPU_OBJS)
	$(CC) $(CFLAGS) -shared -o $@.tmp $^ $(LDFLAGS) $(GPU_LDLIBS)
	mv -f $@.tmp $@

# Flags live here: objects are rebuilt when it changes.
$(LIB_OBJS) $(VMM_OBJS) $(ASAN_LIB_OBJS) $(GPU_OBJS): Makefile

$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -DMINIVMM_VERSION='"$(VERSION)"' -c -o $@ $<

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DMINIVMM_VERSION='"$(VERSION)"' -c -o $@ $<

$(B)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS) $(GPU_LDLIBS)

$(B)/asan-tests/%: tests/unit/%.c $(ASAN_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -o $@ $(filter %.c %.o,$^) $(LDLIBS) $(GPU_LDLIBS)

unit-tests: $(TESTS) $(ASAN_TESTS) $(B)/pngcheck $(B)/seccomp-probe.so

# Host-side checker for the boot tests' screenshots.
$(B)/pngcheck: tests/tools/pngcheck.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS) $(GPU_LDLIBS)

# Preloaded into minivmm by the seccomp boot test: a forbidden call made
# from a device thread.
$(B)/seccomp-probe.so: tests/tools/seccomp-probe.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $<

# The default guest: Debian's stock kernel + a busybox initramfs.
guest: $(GUEST)/.done
$(GUEST)/.done: tools/mkguest.sh tools/guest-init.sh tools/guest/mvtool.c
	tools/mkguest.sh $(GUEST)

# The GL guest: Debian's Mesa, kmscube and glmark2 on an ext4 image.
glguest: $(B)/glguest/.done
$(B)/glguest/.done: tools/mkglguest.sh
	tools/mkglguest.sh $(B)/glguest

run: all guest
	tools/run-guest.sh $(B)/minivmm $(GUEST)

test: all unit-tests guest glguest
	tests/run-tests.sh

bench: all guest
	tools/bench-boot.sh $(B)/minivmm $(GUEST)

deps:
	tools/install-deps.sh

# libFuzzer targets (clang): each for FUZZ_SECONDS (default 60).
fuzz:
	tests/fuzz/run.sh $(or $(FUZZ_SECONDS),60)

clean:
	rm -rf $(B)/obj $(B)/pic $(B)/asan $(B)/tests $(B)/asan-tests $(B)/minivmm \
	       $(B)/minivmm-gpu.so

-include $(shell find $(B) -name '*.d' 2>/dev/null)
