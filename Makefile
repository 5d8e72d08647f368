# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# picfw - XDP firewall for a Lync / Skype for Business Edge Access interface.
# `make help` lists the targets.

BUILD    ?= build
CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= bpftool
VERSION  := 0.1.0

# The BPF compile uses UAPI headers; Debian keeps <asm/*.h> under the multiarch
# directory, which clang -target bpf does not search by itself.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
BPF_CFLAGS := -target bpf -mcpu=v3 -O2 -g -Wall -Wextra -Wno-unused-parameter \
	-Iinclude -I/usr/include/$(MULTIARCH) -MMD -MP

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wno-missing-field-initializers \
	-Iinclude -Iuser -I$(BUILD) -MMD -MP -DPICFW_VERSION='"$(VERSION)"'
LDLIBS_BPF := -lbpf -lelf -lz
ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# The pure core (no libbpf): tested and fuzzed without a kernel.
CORE_SRCS := user/policy.c user/compile.c user/diff.c user/log.c
# Kernel-facing library and the CLI.
LIB_SRCS  := $(CORE_SRCS) user/maps.c user/attach.c user/apply.c user/stats.c
CLI_SRCS  := user/main.c $(wildcard user/cmd_*.c)

CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)

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
	@echo 'make SANITIZE=1 build userspace with ASan and UBSan'
	@echo 'make install    install picfw and its man page under $$(PREFIX) (/usr/local)'
	@echo 'make clean      remove build/'

deps:
	$(Q)scripts/deps.sh

$(BUILD)/picfw.bpf.o: bpf/picfw.bpf.c Makefile
	$(call msg,CLANG,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/picfw.skel.h: $(BUILD)/picfw.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name picfw_bpf > $@

$(BUILD)/%.bpf.o: tests/bpf/%.bpf.c Makefile
	$(call msg,CLANG,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Everything in user/ may include the skeleton; generate it first.
$(BUILD)/user/%.o: user/%.c Makefile | $(BUILD)/picfw.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/picfw: $(CLI_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS_BPF) -o $@

$(BUILD)/tests/%.o: tests/unit/%.c Makefile | $(BUILD)/picfw.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/datapath/%.c Makefile | $(BUILD)/picfw.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/e2e/%.c Makefile
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(UNIT_TESTS): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -lcmocka -o $@

$(DP_TESTS): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/packets.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS_BPF) -lcmocka -o $@

$(BUILD)/tests/peer: $(BUILD)/tests/peer.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@

tests-build: $(BUILD)/picfw $(UNIT_TESTS) $(DP_TESTS) $(TEST_TOOLS)

# `make demo` and `make test` install what is missing first, so that the two
# README commands work on a fresh Debian 12 machine.
demo:
	$(Q)scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/tests/peer
	$(Q)scripts/demo.sh $(BUILD)/picfw

test:
	$(Q)scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)tests/run.sh $(BUILD)

test-unit test-datapath test-e2e: tests-build
	$(Q)tests/run.sh $(BUILD) $(@:test-%=%)

PREFIX ?= /usr/local
install: $(BUILD)/picfw
	install -D -m 0755 $(BUILD)/picfw $(DESTDIR)$(PREFIX)/sbin/picfw
	install -D -m 0644 doc/picfw.8 $(DESTDIR)$(PREFIX)/share/man/man8/picfw.8

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*.d $(BUILD)/*/*.d)
