# novafs - one non-recursive Makefile for every service, the tests and the
# sanitizer build.
#
#   make                  build the daemons into $(O) (default: build)
#   make check            unit + integration tests, plain and with ASan/UBSan
#   make run              start a private RabbitMQ, every service, mount $(MNT)
#                         (HOSTS=4: four compute hosts, node1 to node4;
#                         LIBVIRT=qemu: the compute host on qemu:///system)
#   make bench            print the benchmark table (bench/run.sh)
#   make install DESTDIR=... PREFIX=...
#   make clean
#   make SANITIZE=address,undefined O=build/san   a sanitizer build
#
# Layering.  Each directory is a module: common/ (helpers that know no
# service), rpc/ (the bus), and one per service.  A module's public headers
# are listed below and copied, alone, into $(O)/include, the only include
# path: a file includes another module's header as "rpc/bus.h", and its own
# module's private headers by their bare name ("conn.h", found beside it).
# So no file can reach another module's private header.

O        ?= build
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MNT      ?= $(CURDIR)/mnt/nova
LIBVIRT  ?= test
HOSTS    ?= 1
CC       ?= cc
PKGS     := fuse3 libvirt librabbitmq sqlite3 jansson nettle

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes \
	-Wstrict-prototypes -Wold-style-definition -Wpointer-arith \
	-Wundef -Wvla -Wwrite-strings -Wno-unused-parameter \
	-Wno-missing-field-initializers
ifeq ($(CI),true)
WARN += -Werror
endif

CFLAGS   ?= -O2 -g
# One libfuse API version for every file that includes a FUSE header.
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DFUSE_USE_VERSION=314 $(WARN) $(CFLAGS) \
	-iquote $(O)/include -MMD -MP $(PKG_CFLAGS)
ALL_LDFLAGS := $(LDFLAGS) -pthread
ifdef SANITIZE
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

.DELETE_ON_ERROR:
.PHONY: all check check-build run bench install clean headers

# The public interface of each module.
PUBLIC_HEADERS := $(wildcard common/*.h) rpc/rpc.h rpc/bus.h rpc/contract.h \
	rpc/methods.h rpc/states.h
INCLUDES := $(patsubst %,$(O)/include/%,$(PUBLIC_HEADERS))

$(O)/include/%.h: %.h
	@mkdir -p $(dir $@)
	cp $< $@

# Each service directory holds main.c (the daemon's main) and the modules
# it is built from; the modules also link into the unit tests.
COMMON_SRC := $(wildcard common/*.c)
RPC_SRC    := $(wildcard rpc/*.c)
NOVAFS_SRC := $(filter-out novafs/main.c,$(wildcard novafs/*.c))
VIRT_SRC   := $(filter-out virt/main.c,$(wildcard virt/*.c))
SCHED_SRC  := $(filter-out sched/main.c,$(wildcard sched/*.c))
NETMGR_SRC := $(filter-out netmgr/main.c,$(wildcard netmgr/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
TOOL_SRC   := $(wildcard tests/tools/*.c)
BENCH_SRC  := $(wildcard bench/*.c)

obj = $(patsubst %.c,$(O)/obj/%.o,$(1))

LIBCOMMON := $(O)/libcommon.a
LIBRPC    := $(O)/librpc.a
LIBNOVAFS := $(O)/libnovafs.a
LIBCOMPUTE := $(O)/libcompute.a
LIBSCHED  := $(O)/libsched.a
LIBNETMGR := $(O)/libnetmgr.a
LIBS      := $(LIBNOVAFS) $(LIBCOMPUTE) $(LIBSCHED) $(LIBNETMGR) $(LIBRPC) \
	$(LIBCOMMON)

BINS  := $(O)/novafs $(O)/novafs-compute $(O)/novafs-scheduler \
	$(O)/novafs-network
UNITS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))
TOOLS := $(patsubst tests/tools/%.c,$(O)/tests/%,$(TOOL_SRC))
BENCH := $(patsubst bench/%.c,$(O)/bench/%,$(BENCH_SRC))

all: $(BINS)

headers: $(INCLUDES)

$(O)/obj/%.o: %.c | headers
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
$(LIBRPC): $(call obj,$(RPC_SRC))
$(LIBNOVAFS): $(call obj,$(NOVAFS_SRC))
$(LIBCOMPUTE): $(call obj,$(VIRT_SRC))
$(LIBSCHED): $(call obj,$(SCHED_SRC))
$(LIBNETMGR): $(call obj,$(NETMGR_SRC))
$(O)/%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(O)/novafs: $(O)/obj/novafs/main.o $(LIBNOVAFS) $(LIBRPC) $(LIBCOMMON)
$(O)/novafs-compute: $(O)/obj/virt/main.o $(LIBCOMPUTE) $(LIBRPC) $(LIBCOMMON)
$(O)/novafs-scheduler: $(O)/obj/sched/main.o $(LIBSCHED) $(LIBRPC) $(LIBCOMMON)
$(O)/novafs-network: $(O)/obj/netmgr/main.o $(LIBNETMGR) $(LIBRPC) $(LIBCOMMON)
$(BINS):
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Unit tests and test tools may reach the private headers of the modules
# they test, by bare name; they link every module archive, and the
# linker takes only the objects each needs.
TEST_INCLUDES := -iquote common -iquote rpc -iquote novafs -iquote virt \
	-iquote sched -iquote netmgr -iquote tests/unit
$(O)/tests/%: tests/unit/%.c $(LIBS) | headers
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TEST_INCLUDES) $(ALL_LDFLAGS) -o $@ $< $(LIBS) $(PKG_LIBS)
$(O)/tests/%: tests/tools/%.c $(LIBS) | headers
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TEST_INCLUDES) $(ALL_LDFLAGS) -o $@ $< $(LIBS) $(PKG_LIBS)
# Benchmark floors are standalone programs: they must not share novafs's
# code, or they would not be floors.
$(O)/bench/%: bench/%.c $(wildcard bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(PKG_LIBS)

check-build: $(BINS) $(UNITS) $(TOOLS) $(BENCH)

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
	LIBVIRT=$(LIBVIRT) HOSTS=$(HOSTS) tests/lib/run-stack.sh $(O) $(MNT)

# Figures, not pass/fail: see bench/.
bench: $(BINS) $(TOOLS) $(BENCH)
	bench/run.sh $(O)

install: $(BINS)
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)

clean:
	rm -rf $(O) mnt

-include $(shell find $(O)/obj $(O)/tests -name '*.d' 2>/dev/null)
