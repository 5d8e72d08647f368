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
LDLIBS_BPF += -lmicrohttpd -lpthread # the exporter room (user/exporter.c)
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
	user/ifname.c user/policy_file.c user/policy_copy.c user/progress.c user/nearest.c
# Kernel-facing library and the CLI.
LIB_SRCS  := $(CORE_SRCS) user/maps.c user/attach.c user/apply.c user/stats.c user/seed.c \
	user/bpffs.c user/log_libbpf.c user/clock.c \
	user/netlink.c user/tc.c user/ifaddr.c user/exporter.c \
	user/droplog.c user/droplog_nearest.c
# The service room (picfw run) and what it links: sd_notify from libsystemd.
SVC_SRCS  := user/service.c user/follow.c
LDLIBS_SVC := -lsystemd
CLI_SRCS  := user/main.c user/cli.c $(wildcard user/cmd_*.c) $(SVC_SRCS)

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
.PHONY: all tests-build clean test test-unit test-datapath test-e2e test-kernel demo deps help install uninstall \
	build-deps test-deps

# What the build needs, as PACKAGE:FILE (an absolute path, or a command on
# PATH or in /usr/sbin). A missing one stops `make` with the packages to
# install, not with a compiler error about bpf/bpf_helpers.h.
BUILD_DEPS := clang:$(CLANG) bpftool:$(BPFTOOL) libbpf-dev:/usr/include/bpf/bpf_helpers.h \
	libelf-dev:/usr/include/libelf.h zlib1g-dev:/usr/include/zlib.h \
	libmicrohttpd-dev:/usr/include/microhttpd.h libsystemd-dev:/usr/include/systemd/sd-daemon.h \
	libpcap-dev:/usr/include/pcap/pcap.h
TEST_DEPS  := libcmocka-dev:/usr/include/cmocka.h
define check_deps
	@missing=; for d in $(1); do p=$${d%%:*}; f=$${d#*:}; \
		case $$f in /*) [ -e "$$f" ] ;; \
		*) command -v "$$f" >/dev/null 2>&1 || [ -x "/usr/sbin/$$f" ] ;; esac || \
		missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "picfw: missing packages:$$missing" >&2; \
		echo "picfw: install them with: sudo scripts/deps.sh (or: sudo make deps)" >&2; \
		exit 1; fi
endef

all: $(BUILD)/picfw

help:
	@echo 'make            build build/picfw (BPF object, skeleton, CLI)'
	@echo 'make V=1        the same, showing every command'
	@echo 'make demo       set up, then run the namespace lab demo (root)'
	@echo 'make test       set up, then run unit, datapath and end-to-end tests (root)'
	@echo 'make test-unit | test-datapath | test-e2e   one layer'
	@echo 'make test-kernel   picfw under Debian 12'\''s kernel (6.1) in qemu: attach, traffic, apply (root)'
	@echo 'make test SANITIZE=1   unit and datapath layers under ASan and UBSan (in build-asan/)'
	@echo 'make fuzz [FUZZ_MINUTES=N]   N min differential test + N min libFuzzer (root)'
	@echo 'make lint       clang-tidy and cppcheck on user/ and bpf/'
	@echo 'make valgrind   memcheck over the CLI on the test policies'
	@echo 'make bench      benchmarks against the floor, xdp-filter and nftables (root)'
	@echo 'make install    picfw, units, man pages, completion, examples under $$(PREFIX) (/usr/local)'
	@echo 'make uninstall  remove them (same PREFIX and DESTDIR)'
	@echo 'make deps       install the Debian 12 packages the build and tests need (root)'
	@echo 'make clean      remove build/ and build-asan/'

deps:
	$(Q)scripts/deps.sh

build-deps:
	$(call check_deps,$(BUILD_DEPS))

test-deps:
	$(call check_deps,$(TEST_DEPS))

$(BUILD)/picfw.bpf.o: bpf/picfw.bpf.c Makefile | build-deps
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
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(LDLIBS_BPF) $(LDLIBS_SVC) -o $@

# The CLI with the test hooks, for the tests that inject faults through it.
$(BUILD)/picfw-test: $(CLI_OBJS) $(TEST_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(LDLIBS_BPF) $(LDLIBS_SVC) -o $@

$(BUILD)/tests/%.o: tests/unit/%.c Makefile | $(BUILD)/picfw.skel.h test-deps
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/datapath/%.c Makefile | $(BUILD)/picfw.skel.h test-deps
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

# test_follow drives the service's file watches (no libbpf, no libsystemd).
$(BUILD)/tests/test_follow: $(BUILD)/user/follow.o

# test_apply fails the library's map writes one by one (its failing-writer test).
$(BUILD)/tests/test_apply: PICFW_LDFLAGS += -Wl,--wrap=bpf_map_update_elem \
	-Wl,--wrap=bpf_map_delete_elem -Wl,--wrap=mmap

# packets.o builds frames, common.o holds what the datapath tests share.
$(DP_TESTS): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/packets.o $(BUILD)/tests/common.o \
	$(TEST_LIB_OBJS)
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

# With SANITIZE=1: the unit and datapath layers, under ASan and UBSan. The
# datapath tests drive the plain test CLI (build/picfw-test, an ASan CLI would
# add its own leak reports to what they read): build it too, even on a fresh
# clone where build/ does not exist yet.
test:
	$(Q)scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory tests-build
	$(if $(filter 1,$(SANITIZE)),$(Q)$(MAKE) --no-print-directory SANITIZE= BUILD=build build/picfw-test)
	$(Q)tests/run.sh $(BUILD) $(if $(filter 1,$(SANITIZE)),unit datapath)

test-unit test-datapath test-e2e: tests-build
	$(Q)tests/run.sh $(BUILD) $(@:test-%=%)

# picfw under Debian 12's own kernel (6.1) in qemu: attach, traffic, apply,
# detach (tests/kernel/run.sh; 3 to 5 minutes, not part of `make test`).
test-kernel:
	$(Q)scripts/deps.sh
	$(Q)scripts/deps.sh kernel
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/tests/peer
	$(Q)tests/kernel/run.sh $(BUILD)

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the systemd units
# (ExecStart= names $(SBINDIR)), the man pages, bash completion, the example
# policies. `make uninstall` with the same variables removes them again.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/picfw
UNITDIR    ?= $(PREFIX)/lib/systemd/system
COMPLDIR   ?= $(PREFIX)/share/bash-completion/completions
UNITS      := picfw@.service picfw-exporter.service
# Everything under etc/ but the units and the completion (installed above):
# the policies, the pool's hosts, Ansible, CI and Prometheus files, monitoring.
EXAMPLES   := $(shell find etc -type f ! -path 'etc/systemd/*' ! -path 'etc/bash-completion/*' | sort)
install: $(BUILD)/picfw
	install -D -m 0755 $(BUILD)/picfw $(DESTDIR)$(SBINDIR)/picfw
	install -D -m 0644 doc/picfw.8 $(DESTDIR)$(MANDIR)/man8/picfw.8
	install -D -m 0644 doc/picfw.policy.5 $(DESTDIR)$(MANDIR)/man5/picfw.policy.5
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' etc/systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -D -m 0644 etc/bash-completion/picfw $(DESTDIR)$(COMPLDIR)/picfw
	for f in $(EXAMPLES); do \
		install -D -m $$(test -x $$f && echo 0755 || echo 0644) $$f \
			$(DESTDIR)$(DOCDIR)/examples/$${f#etc/} || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/picfw $(DESTDIR)$(MANDIR)/man8/picfw.8 \
		$(DESTDIR)$(MANDIR)/man5/picfw.policy.5 $(DESTDIR)$(COMPLDIR)/picfw \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	rm -rf $(DESTDIR)$(DOCDIR)

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
# test_apply drives the CLI of its own build directory (build-asan/picfw-test
# under SANITIZE=1: a fresh clone has no build/).
$(BUILD)/tests/test_apply.o: PICFW_CFLAGS += -DPICFW_BUILD_DIR='"$(BUILD)"'
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
BENCH_BPF   := $(BUILD)/bench/floor.bpf.o $(BUILD)/bench/floor_tc.bpf.o \
	$(BUILD)/bench/xdp_drop.bpf.o $(BUILD)/bench/probes.bpf.o
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
