# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# picfw - XDP firewall for a Lync / Skype for Business Edge Access interface.
# `make help` lists the targets.

# SANITIZE=1 builds userspace with ASan and UBSan, in its own directory: its
# objects must not mix with the plain build's.
ifeq ($(SANITIZE),1)
BUILD    ?= build-asan
else
BUILD    ?= build
endif
CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= bpftool
VERSION  := 0.1.0

# The BPF compile uses UAPI headers; Debian keeps <asm/*.h> under the multiarch
# directory, which clang -target bpf does not search by itself.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
BPF_CFLAGS := -target bpf -mcpu=v3 -O2 -g -Wall -Wextra -Wno-unused-parameter \
	-Iinclude -I/usr/include/$(MULTIARCH) -MMD -MP

# CFLAGS is the user's (`make CFLAGS=-O0`); what the build needs is in
# PICFW_CFLAGS, which a command-line CFLAGS cannot drop (libbpf-bootstrap's
# INCLUDES habit).
CFLAGS   ?= -O2 -g
PICFW_CFLAGS := -std=gnu11 -Wall -Wextra -Wno-missing-field-initializers \
	-Iinclude -Iuser -I$(BUILD) -MMD -MP -DPICFW_VERSION='"$(VERSION)"'
LDLIBS_BPF := -lbpf -lelf -lz -lpcap
ifeq ($(SANITIZE),1)
PICFW_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
PICFW_LDFLAGS := -fsanitize=address,undefined
endif
ALL_CFLAGS  = $(PICFW_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(PICFW_LDFLAGS) $(LDFLAGS)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# The pure core (no libbpf): tested and fuzzed without a kernel.
CORE_SRCS := user/policy.c user/policy_lex.c user/policy_errors.c user/policy_prefix.c \
	user/policy_sets.c user/policy_statements.c user/policy_rows.c user/policy_resolve.c \
	user/policy_print.c user/policy_match.c user/compile.c user/diff.c user/log.c \
	user/ifname.c user/policy_file.c user/policy_copy.c
# Kernel-facing library and the CLI.
LIB_SRCS  := $(CORE_SRCS) user/maps.c user/attach.c user/apply.c user/stats.c user/seed.c \
	user/bpffs.c user/log_libbpf.c user/clock.c \
	user/netlink.c user/tc.c user/ifaddr.c user/droplog.c
CLI_SRCS  := user/main.c user/cli.c $(wildcard user/cmd_*.c)

CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)

# Test hooks (user/test_hooks.h) read the environment only in objects built
# with -DPICFW_TEST_HOOKS: those the datapath tests and $(BUILD)/picfw-test
# link, never the installed $(BUILD)/picfw.
HOOK_SRCS := $(shell grep -l '"test_hooks.h"' $(LIB_SRCS))
TEST_LIB_OBJS := $(filter-out $(HOOK_SRCS:%.c=$(BUILD)/%.o),$(LIB_OBJS)) \
	$(HOOK_SRCS:%.c=$(BUILD)/hooks/%.o)

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
DP_TESTS   := $(patsubst tests/datapath/%.c,$(BUILD)/tests/%,$(wildcard tests/datapath/test_*.c))
TEST_TOOLS := $(BUILD)/tests/peer

.DELETE_ON_ERROR:
.PHONY: all tests-build clean test test-unit test-datapath test-e2e demo deps help install

all: $(BUILD)/picfw

help:
	@echo 'make            build build/picfw (BPF object, skeleton, CLI)'
	@echo 'make V=1        the same, showing every command'
	@echo 'make demo       set up, then run the namespace lab demo (root)'
	@echo 'make test       set up, then run unit, datapath and end-to-end tests (root)'
	@echo 'make test-unit | test-datapath | test-e2e   one layer'
	@echo 'make test SANITIZE=1   unit and datapath layers under ASan and UBSan (in build-asan/)'
	@echo 'make fuzz [FUZZ_MINUTES=N]   N min differential test + N min libFuzzer (root)'
	@echo 'make lint       clang-tidy and cppcheck on user/ and bpf/'
	@echo 'make valgrind   memcheck over the CLI on the test policies'
	@echo 'make bench      benchmarks against the floor, xdp-filter and nftables (root)'
	@echo 'make install    install picfw and its man page under $$(PREFIX) (/usr/local)'
	@echo 'make clean      remove build/ and build-asan/'

deps:
	$(Q)scripts/deps.sh

$(BUILD)/picfw.bpf.o: bpf/picfw.bpf.c Makefile
	$(call msg,CLANG,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/picfw.skel.h: $(BUILD)/picfw.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name picfw_bpf > $@

# Everything in user/ may include the skeleton; generate it first.
$(BUILD)/user/%.o: user/%.c Makefile | $(BUILD)/picfw.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/hooks/user/%.o: user/%.c Makefile | $(BUILD)/picfw.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -DPICFW_TEST_HOOKS -c $< -o $@

$(BUILD)/picfw: $(CLI_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(LDLIBS_BPF) -o $@

# The CLI with the test hooks, for the tests that inject faults through it.
$(BUILD)/picfw-test: $(CLI_OBJS) $(TEST_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(LDLIBS_BPF) -o $@

$(BUILD)/tests/%.o: tests/unit/%.c Makefile | $(BUILD)/picfw.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/datapath/%.c Makefile | $(BUILD)/picfw.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/e2e/%.c Makefile
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(UNIT_TESTS): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ -lcmocka -o $@

$(DP_TESTS): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/packets.o $(TEST_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(LDLIBS_BPF) -lcmocka -o $@

$(BUILD)/tests/peer: $(BUILD)/tests/peer.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ -o $@

tests-build: $(BUILD)/picfw $(BUILD)/picfw-test $(UNIT_TESTS) $(DP_TESTS) $(TEST_TOOLS)

# `make demo` and `make test` install what is missing first, so that the two
# README commands work on a fresh Debian 12 machine.
demo:
	$(Q)scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/tests/peer
	$(Q)scripts/demo.sh $(BUILD)/picfw

# With SANITIZE=1: the unit and datapath layers, under ASan and UBSan.
test:
	$(Q)scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)tests/run.sh $(BUILD) $(if $(filter 1,$(SANITIZE)),unit datapath)

test-unit test-datapath test-e2e: tests-build
	$(Q)tests/run.sh $(BUILD) $(@:test-%=%)

PREFIX ?= /usr/local
install: $(BUILD)/picfw
	install -D -m 0755 $(BUILD)/picfw $(DESTDIR)$(PREFIX)/sbin/picfw
	install -D -m 0644 doc/picfw.8 $(DESTDIR)$(PREFIX)/share/man/man8/picfw.8

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD) build-asan

# --- The proof layer: differential test, fuzzing, static analysis, valgrind ---
# The differential test links the reference classifier beside packets.o.
.PHONY: fuzz fuzz-build lint valgrind test-sanitize

$(BUILD)/tests/reference.o: tests/reference/reference.c Makefile | $(BUILD)/picfw.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/reference -c $< -o $@

$(BUILD)/tests/test_differential.o: PICFW_CFLAGS += -Itests/reference
$(BUILD)/tests/test_differential: $(BUILD)/tests/reference.o

# libFuzzer harness of the policy parser and compiler: clang only, its own flags.
FUZZ_CC     ?= clang
FUZZ_CFLAGS := -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -Iinclude -Iuser
FUZZ_TARGETS := $(BUILD)/fuzz/fuzz_policy

$(BUILD)/fuzz/fuzz_policy: tests/fuzz/fuzz_policy.c $(CORE_SRCS) $(wildcard user/*.h include/*.h) Makefile
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_policy.c $(CORE_SRCS) -o $@

fuzz-build: $(FUZZ_TARGETS)

# `make fuzz FUZZ_MINUTES=N`: N minutes of differential test, N of libFuzzer.
FUZZ_MINUTES ?= 5
fuzz:
	$(Q)$(MAKE) --no-print-directory tests-build fuzz-build
	$(Q)scripts/fuzz.sh $(BUILD) $(FUZZ_MINUTES)

# The same as `make test SANITIZE=1`.
test-sanitize:
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 test

lint:
	$(Q)scripts/lint.sh $(BUILD)

valgrind: $(BUILD)/picfw
	$(Q)scripts/valgrind.sh $(BUILD)/picfw

# --- Benchmarks: `make bench` (scripts/bench.sh); results in $(BUILD)/bench/ ---
# bench/: the floor, XDP_DROP and probe programs, the BPF_PROG_TEST_RUN driver
# (testrun, linked with the library and the test packet builder) and the
# AF_PACKET sender of the end-to-end rounds.
.PHONY: bench bench-build
BENCH_BPF   := $(BUILD)/bench/floor.bpf.o $(BUILD)/bench/xdp_drop.bpf.o $(BUILD)/bench/probes.bpf.o
BENCH_TOOLS := $(BUILD)/bench/testrun $(BUILD)/bench/sender

$(BUILD)/bench/%.bpf.o: bench/%.bpf.c Makefile
	$(call msg,CLANG,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/%.o: PICFW_CFLAGS += -Itests/datapath
$(BUILD)/bench/%.o: bench/%.c Makefile | $(BUILD)/picfw.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/bench/testrun: $(BUILD)/bench/testrun.o $(BUILD)/tests/packets.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(LDLIBS_BPF) -o $@

$(BUILD)/bench/sender: $(BUILD)/bench/sender.o $(BUILD)/tests/packets.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ -o $@

bench-build: $(BUILD)/picfw $(BENCH_BPF) $(BENCH_TOOLS)

# Installs what is missing (as `make test` does), builds, then measures (root).
bench:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)scripts/bench.sh $(BUILD)

-include $(wildcard $(BUILD)/*.d $(BUILD)/*/*.d $(BUILD)/*/*/*.d)
