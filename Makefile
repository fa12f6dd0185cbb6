# novafs - one non-recursive Makefile for every service, the tests and the
# sanitizer build.
#
#   make                  build the daemons into $(O) (default: build)
#   make check            unit + integration tests, plain and with ASan/UBSan
#   make run              start a private RabbitMQ, every service, mount $(MNT)
#   make bench            print latency and throughput figures
#   make install DESTDIR=... PREFIX=...
#   make clean
#   make SANITIZE=address,undefined O=build/san   a sanitizer build

O        ?= build
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MNT      ?= $(CURDIR)/mnt/nova
CC       ?= cc
PKGS     := fuse3 libvirt librabbitmq sqlite3 jansson

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes \
	-Wstrict-prototypes -Wold-style-definition -Wpointer-arith \
	-Wundef -Wvla -Wwrite-strings -Wno-unused-parameter
ifeq ($(CI),true)
WARN += -Werror
endif

CFLAGS   ?= -O2 -g
# One libfuse API version for every file that includes a FUSE header.
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DFUSE_USE_VERSION=314 $(WARN) $(CFLAGS) -Irpc -MMD -MP $(PKG_CFLAGS)
ALL_LDFLAGS := $(LDFLAGS) -pthread
ifdef SANITIZE
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

.DELETE_ON_ERROR:
.PHONY: all check check-build run bench install clean

# Each service directory holds main.c (the daemon's main) and the modules
# it is built from; the modules also link into the unit tests.
RPC_SRC    := $(wildcard rpc/*.c)
NOVAFS_SRC := $(filter-out novafs/main.c,$(wildcard novafs/*.c))
VIRT_SRC   := $(filter-out virt/main.c,$(wildcard virt/*.c))
SCHED_SRC  := $(filter-out sched/main.c,$(wildcard sched/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
TOOL_SRC   := $(wildcard tests/tools/*.c)

obj = $(patsubst %.c,$(O)/obj/%.o,$(1))

LIBRPC    := $(O)/librpc.a
LIBNOVAFS := $(O)/libnovafs.a
LIBVIRT   := $(O)/libcompute.a
LIBSCHED  := $(O)/libsched.a

BINS  := $(O)/novafs $(O)/novafs-compute $(O)/novafs-scheduler
UNITS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))
TOOLS := $(patsubst tests/tools/%.c,$(O)/tests/%,$(TOOL_SRC))

all: $(BINS)

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBRPC): $(call obj,$(RPC_SRC))
$(LIBNOVAFS): $(call obj,$(NOVAFS_SRC))
$(LIBVIRT): $(call obj,$(VIRT_SRC))
$(LIBSCHED): $(call obj,$(SCHED_SRC))
$(O)/%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(O)/novafs: $(O)/obj/novafs/main.o $(LIBNOVAFS) $(LIBRPC)
$(O)/novafs-compute: $(O)/obj/virt/main.o $(LIBVIRT) $(LIBRPC)
$(O)/novafs-scheduler: $(O)/obj/sched/main.o $(LIBSCHED) $(LIBRPC)
$(BINS):
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter-out %.h,$^) $(PKG_LIBS)

# Unit tests and test tools link every module archive; the linker takes
# only the objects each one needs.
$(O)/tests/%: tests/unit/%.c $(LIBNOVAFS) $(LIBVIRT) $(LIBSCHED) $(LIBRPC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $(filter-out %.h,$^) $(PKG_LIBS)
$(O)/tests/%: tests/tools/%.c $(LIBNOVAFS) $(LIBVIRT) $(LIBSCHED) $(LIBRPC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter-out %.h,$^) $(PKG_LIBS)

check-build: $(BINS) $(UNITS) $(TOOLS)

# The whole suite twice: a plain build, then one with AddressSanitizer and
# UndefinedBehaviorSanitizer.  tests/run.sh prints the single
# "N passed, N failed" line and fails when anything did.
check:
	$(MAKE) check-build
	$(MAKE) check-build O=$(O)/san SANITIZE=address,undefined
	tests/run.sh $(O) $(O)/san

# Installs what is missing before building: a fresh machine has no -dev
# packages yet.
run:
	tests/lib/run-stack.sh $(O) $(MNT)

# Figures, not pass/fail: see bench/.
bench: $(BINS)
	bench/lifecycle.sh $(O)

install: $(BINS)
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)

clean:
	rm -rf $(O) mnt

-include $(shell find $(O)/obj $(O)/tests -name '*.d' 2>/dev/null)
