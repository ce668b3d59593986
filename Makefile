# dmstore — see README.md. `make` builds libdmstore and the dmstore program;
# `make check` runs the unit tests on the host and the integration tests
# against the real kernel dm-thin target (natively, or in scripts/vm).

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/dmstore
BASH_COMPLETION_DIR ?= $(PREFIX)/share/bash-completion/completions
# systemd reads units from /usr/local/lib/systemd/system too.
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
PKG_CONFIG ?= pkg-config
CC ?= cc

PKGS := devmapper blkid uuid mount ext2fs com_err sqlite3 libarchive json-c libcrypto
# Quiet when a package is missing: `make check` installs them, then re-runs make.
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
# The dmstore program's own (bench/, cmd/): io_uring for the I/O engine, inih for workload files and the
# config, libblkid for the signatures on a baseline device, libudev for the kernel's uevents pool monitor
# listens to.
BENCH_PKGS := liburing inih blkid libudev
BENCH_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(BENCH_PKGS) 2>/dev/null)
BENCH_LIBS := $(shell $(PKG_CONFIG) --libs $(BENCH_PKGS) 2>/dev/null) -lpthread -lm
# The Docker volume plugin's own: its HTTP server, systemd's socket activation, inih for the config.
PLUGIN_PKGS := libmicrohttpd libsystemd inih
PLUGIN_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PLUGIN_PKGS) 2>/dev/null)
PLUGIN_LIBS := $(shell $(PKG_CONFIG) --libs $(PLUGIN_PKGS) 2>/dev/null) -pthread

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(WARN) -Iinclude -I. $(PKG_CFLAGS)
CFLAGS ?= -O2 -g
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRC := $(sort $(wildcard util/*.c dm/*.c fs/*.c pool/*.c runtime/*.c))
# conf/: dmstore.conf, read by both programs (never by the library).
CMD_SRC := $(sort $(wildcard cmd/*.c bench/*.c conf/*.c))
PLUGIN_SRC := $(sort $(wildcard docker/*.c conf/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test-*.c))

B := build
LIB_OBJ := $(LIB_SRC:%.c=$(B)/pic/%.o)
CMD_OBJ := $(CMD_SRC:%.c=$(B)/obj/%.o)
PLUGIN_OBJ := $(PLUGIN_SRC:%.c=$(B)/obj/%.o)
# The unit tests reach the plugin's request handling: everything but its main().
PLUGIN_SAN_OBJ := $(filter-out $(B)/san/docker/main.o,$(PLUGIN_SRC:%.c=$(B)/san/%.o))
SAN_LIB_OBJ := $(LIB_SRC:%.c=$(B)/san/%.o)
HOOKS_OBJ := $(LIB_SRC:%.c=$(B)/hooks/%.o) $(CMD_SRC:%.c=$(B)/hooks/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

# One version, the public header's; the soname changes only when the ABI breaks.
VERSION := $(shell sed -n 's/^\#define DMS_VERSION "\(.*\)"$$/\1/p' include/dmstore.h)
SONAME := libdmstore.so.1

# The containerd snapshotter (snapshotter/, Go), built when go is installed, offline, in GOPATH
# mode against Debian's packaged sources (golang-github-containerd-containerd-dev), linking
# libdmstore.a through cgo; and containerd's conformance suite compiled against it (go test -c),
# which tests/vm/60-snapshotter.sh runs in the VM.
GO := $(shell command -v go 2>/dev/null)
GO_SRC := $(wildcard snapshotter/*.go snapshotter/dmstore/*.go)
GO_PKG := $(B)/go/src/dmstore/snapshotter
# It reads dmstore.conf with conf/'s parser, linked in too (with inih) from an archive, as the
# library: cgo hands its link CGO_LDFLAGS more than once, and an object would be defined twice.
GO_C_OBJ := $(B)/libdmstore-conf.a $(B)/libdmstore.a
GO_ENV = GO111MODULE=off GOPATH="$(CURDIR)/$(B)/go:/usr/share/gocode" GOCACHE="$(CURDIR)/$(B)/go/cache" \
	CGO_CFLAGS="-I$(CURDIR)/include -I$(CURDIR)" \
	CGO_LDFLAGS="$(addprefix $(CURDIR)/,$(GO_C_OBJ)) $(PKG_LIBS) $(shell $(PKG_CONFIG) --libs inih 2>/dev/null)"

# `make V=1` shows the full commands.
ifeq ($(V),1)
Q :=
say := @true
else
Q := @
say := @printf '  %-6s %s\n'
endif

# The man pages: scdoc sources in doc/, built into build/ (dmstore.8, dmstore.conf.5, ...).
MAN_SRC := $(sort $(wildcard doc/*.scd))
MAN_PAGES := $(MAN_SRC:doc/%.scd=$(B)/%)
SCDOC ?= scdoc

# Test builds carry the hooks (DMS_TEST_HOOKS: crash points) that a shipped library must not have.
TEST_DEFS := -DDMS_TEST_HOOKS

# libFuzzer targets (tests/fuzz/fuzz-*.c): clang, and the library built again for them with
# coverage and the sanitizers. Test hooks stay out: a crash point is not a finding.
FUZZ_CC ?= clang
FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(B)/fuzz-obj/%.o) $(B)/fuzz-obj/tests/fuzz/fuzz.o

.PHONY: all check check-installed deps unit hostcheck vmcheck torture bench clean install uninstall fuzz FORCE
all: $(B)/libdmstore.a $(B)/libdmstore.so dmstore dmstore-docker-plugin $(B)/dmstore.pc $(MAN_PAGES)

$(MAN_PAGES): $(B)/%: doc/%.scd
	@mkdir -p $(B)
	$(say) SCDOC $@
	$(Q)$(SCDOC) < $< > $@.tmp && mv $@.tmp $@

$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(BASE_CFLAGS) $(BENCH_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/docker/%.o: docker/%.c
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(BASE_CFLAGS) $(PLUGIN_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/san/docker/%.o: docker/%.c
	@mkdir -p $(dir $@)
	$(say) CC-SAN $<
	$(Q)$(CC) $(BASE_CFLAGS) $(PLUGIN_CFLAGS) $(TEST_DEFS) $(SAN_FLAGS) -MMD -MP -c $< -o $@

$(B)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC-SAN $<
	$(Q)$(CC) $(BASE_CFLAGS) $(TEST_DEFS) $(SAN_FLAGS) -MMD -MP -c $< -o $@

$(B)/hooks/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC-TEST $<
	$(Q)$(CC) $(BASE_CFLAGS) $(TEST_DEFS) $(BENCH_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

ifneq ($(GO),)
all: dmstore-snapshotter $(B)/snapshotter-suite.test $(B)/snapshotter-bench
endif

# The OCI images the snapshotter's VM cases and the benchmark import, made on the host (natively
# a second; in each TCG boot it was a minute) when umoci and skopeo are installed.
OCI_TOOLS := $(shell command -v umoci 2>/dev/null && command -v skopeo 2>/dev/null)
OCI_IMAGES := $(B)/oci/a.tar $(B)/oci/b.tar $(B)/oci/c.tar
ifneq ($(OCI_TOOLS),)
all: $(OCI_IMAGES)
endif

$(OCI_IMAGES) &: tests/make-oci-images
	$(say) OCI $(B)/oci
	$(Q)tests/make-oci-images $(B)/oci

# GOPATH mode wants the package under $GOPATH/src: a link to the folder.
$(GO_PKG):
	@mkdir -p $(dir $@)
	$(Q)ln -sfn "$(CURDIR)/snapshotter" $@

# go's cache does not look into the files CGO_LDFLAGS names: their hash, set as a
# (never read) variable, makes a new archive a new link.
GO_STAMP = -ldflags "-X main.libdmstore=$$(cd "$(CURDIR)" && cat $(GO_C_OBJ) | sha1sum | cut -c1-16)"

dmstore-snapshotter: $(GO_SRC) $(GO_C_OBJ) | $(GO_PKG)
	$(say) GO $@
	$(Q)cd $(GO_PKG) && $(GO_ENV) go build $(GO_STAMP) -o "$(CURDIR)/$@" .

$(B)/snapshotter-suite.test: $(GO_SRC) $(GO_C_OBJ) | $(GO_PKG)
	$(say) GO $@
	$(Q)cd $(GO_PKG)/dmstore && $(GO_ENV) go test $(GO_STAMP) -c -o "$(CURDIR)/$@" .

# scripts/bench's client of containerd's snapshots API (no cgo: it only talks gRPC).
$(B)/snapshotter-bench: $(wildcard snapshotter/bench/*.go) | $(GO_PKG)
	$(say) GO $@
	$(Q)cd $(GO_PKG)/bench && $(GO_ENV) CGO_ENABLED=0 go build -o "$(CURDIR)/$@" .

$(B)/fuzz-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC-FUZZ $<
	$(Q)$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_FLAGS) -MMD -MP -c $< -o $@

$(B)/fuzz/%: $(B)/fuzz-obj/tests/fuzz/%.o $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(say) LD $@
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS)

# Pattern-made objects are intermediate to make: kept, or every build compiles the library again.
.PRECIOUS: $(B)/fuzz-obj/%.o

fuzz: $(FUZZ_BIN)

$(B)/libdmstore.a: $(LIB_OBJ)
	@rm -f $@
	$(say) AR $@
	$(Q)$(AR) rcs $@ $^

$(B)/libdmstore-conf.a: $(B)/pic/conf/config.o
	@rm -f $@
	$(say) AR $@
	$(Q)$(AR) rcs $@ $^

$(B)/libdmstore.so: $(LIB_OBJ)
	$(say) LD $@
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(PKG_LIBS)

$(B)/libdmstore-san.a: $(SAN_LIB_OBJ)
	@rm -f $@
	$(say) AR $@
	$(Q)$(AR) rcs $@ $^

# The programs use libdmstore's public API only, by construction: their objects are linked once more
# against libdmstore.so, which exports nothing else, and against only the libraries they use
# themselves, not those the library wraps (libdevmapper, libext2fs, sqlite3, ...). A call of an
# internal symbol, or of libdevmapper, fails the build here. They ship linked with libdmstore.a all
# the same: one file that runs from the tree, in the test VM and after `make install` alike, with no
# loader path to set.
PUBLIC_CLIENT_LIBS := $(shell $(PKG_CONFIG) --libs json-c 2>/dev/null)
$(B)/public-api/dmstore: $(CMD_OBJ) $(B)/libdmstore.so
	@mkdir -p $(dir $@)
	$(say) CHECK $@
	$(Q)$(CC) -o $@ $(CMD_OBJ) $(B)/libdmstore.so $(PUBLIC_CLIENT_LIBS) $(BENCH_LIBS)

$(B)/public-api/dmstore-docker-plugin: $(PLUGIN_OBJ) $(B)/libdmstore.so
	@mkdir -p $(dir $@)
	$(say) CHECK $@
	$(Q)$(CC) -o $@ $(PLUGIN_OBJ) $(B)/libdmstore.so $(PUBLIC_CLIENT_LIBS) $(PLUGIN_LIBS)

dmstore: $(CMD_OBJ) $(B)/libdmstore.a $(B)/public-api/dmstore
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) -o $@ $(CMD_OBJ) $(B)/libdmstore.a $(PKG_LIBS) $(BENCH_LIBS)

dmstore-docker-plugin: $(PLUGIN_OBJ) $(B)/libdmstore.a $(B)/public-api/dmstore-docker-plugin
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) -o $@ $(PLUGIN_OBJ) $(B)/libdmstore.a $(PKG_LIBS) $(PLUGIN_LIBS)

# What the integration tests run: dmstore with the test hooks.
$(B)/dmstore-test: $(HOOKS_OBJ)
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) -o $@ $(HOOKS_OBJ) $(PKG_LIBS) $(BENCH_LIBS)

# The layer calls, which have no command, with the test hooks: tests/vm/74-kill-every-step.sh kills them.
$(B)/layer-driver: tests/vm/layer-driver.c $(LIB_SRC:%.c=$(B)/hooks/%.o)
	$(say) LD $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# A daemon's threads, one waiting on the pool's events: tests/vm/60-ops.sh.
$(B)/wait-driver: tests/vm/wait-driver.c $(B)/libdmstore.a
	$(say) LD $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

VM_DRIVERS := $(B)/dmstore-test $(B)/layer-driver $(B)/wait-driver

# Remade whenever PREFIX, LIBDIR or INCLUDEDIR differ from the last build's, so that
# `make install PREFIX=/opt/dmstore` installs a .pc that points there.
$(B)/dmstore.pc: FORCE
	@mkdir -p $(B)
	@printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))' \
		'includedir=$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))' '' \
		'Name: libdmstore' 'Description: block-level container storage on dm-thin' \
		'Version: $(VERSION)' 'Requires.private: $(PKGS)' \
		'Libs: -L$${libdir} -ldmstore' 'Cflags: -I$${includedir}' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# Unit tests link the sanitizer build of the library: a test may reach any internal symbol.
$(B)/tests/%: tests/unit/%.c $(B)/libdmstore-san.a
	@mkdir -p $(dir $@)
	$(say) LD $@
	$(Q)$(CC) $(BASE_CFLAGS) $(BENCH_CFLAGS) $(CMOCKA_CFLAGS) $(SAN_FLAGS) -MMD -MP -o $@ $< $(B)/libdmstore-san.a \
		$(PKG_LIBS) $(BENCH_LIBS) $(CMOCKA_LIBS) $(UNIT_LDFLAGS)

# A test that stands in for the kernel answers dm/ calls itself (ld --wrap): the host has no device-mapper.
$(B)/tests/test-txn: UNIT_LDFLAGS = -Wl,--wrap=dms_dm_message -Wl,--wrap=dms_thin_pool_status

# The plugin's tests link its request handling too (a static pattern: it must win over the rule above).
$(filter $(B)/tests/test-docker-%,$(UNIT_BIN)): $(B)/tests/test-docker-%: tests/unit/test-docker-%.c \
		$(PLUGIN_SAN_OBJ) $(B)/libdmstore-san.a
	@mkdir -p $(dir $@)
	$(say) LD $@
	$(Q)$(CC) $(BASE_CFLAGS) $(PLUGIN_CFLAGS) $(CMOCKA_CFLAGS) $(SAN_FLAGS) -o $@ $< $(PLUGIN_SAN_OBJ) \
		$(B)/libdmstore-san.a $(PKG_LIBS) $(PLUGIN_LIBS) $(CMOCKA_LIBS)

$(B)/selftest/skip: tests/selftest/skip.c
	@mkdir -p $(dir $@)
	$(say) LD $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CMOCKA_CFLAGS) -o $@ $< $(CMOCKA_LIBS)

deps:
	@scripts/install-deps

unit: $(UNIT_BIN)
	@tests/run-unit $(UNIT_BIN)

# Host tests (tests/host/*.sh): install and uninstall, the library example, help/man/completion agreement,
# the torture table's sums.
hostcheck: all
	@tests/run-host

vmcheck: all $(VM_DRIVERS)
	@tests/run-vm

# Everything `make check` runs, plus the long families (tests/vm/*.sh: torture_* cases, the
# fuzz targets for a while each), then the power cuts (tests/power-cut), then the figures table
# (tests/torture-figures), whatever failed.
torture: deps
	@$(MAKE) --no-print-directory all $(VM_DRIVERS) $(UNIT_BIN) $(B)/selftest/skip $(FUZZ_BIN)
	@rm -f $(B)/torture-figures; rc=0; \
	DMSTORE_FIGURES=$(CURDIR)/$(B)/torture-figures DMSTORE_TORTURE=1 DMSTORE_VM_TIMEOUT=$${DMSTORE_VM_TIMEOUT:-21600} \
		tests/run-check $(UNIT_BIN) || rc=1; \
	DMSTORE_FIGURES=$(CURDIR)/$(B)/torture-figures tests/power-cut $${DMSTORE_POWER_CUTS:-20} || rc=1; \
	tests/torture-figures $(B)/torture-figures; exit $$rc

# Benchmarks are never timed tests: not part of `make check`. BENCH_ARGS=--quick for a smoke run.
bench: all
	@scripts/bench $(BENCH_ARGS)

# Installs what is missing first, then re-reads this Makefile so pkg-config sees it.
check: deps
	@$(MAKE) --no-print-directory check-installed

check-installed: all $(VM_DRIVERS) $(UNIT_BIN) $(B)/selftest/skip $(FUZZ_BIN)
	@tests/run-check $(UNIT_BIN)

# What `make install` puts where (under DESTDIR), and so what `make uninstall` removes.
INSTALLED := $(SBINDIR)/dmstore $(SBINDIR)/dmstore-docker-plugin $(SBINDIR)/dmstore-snapshotter \
	$(LIBDIR)/libdmstore.a $(LIBDIR)/libdmstore.so.$(VERSION) $(LIBDIR)/$(SONAME) $(LIBDIR)/libdmstore.so \
	$(INCLUDEDIR)/dmstore.h $(LIBDIR)/pkgconfig/dmstore.pc \
	$(MANDIR)/man8/dmstore.8 $(MANDIR)/man8/dmstore-docker-plugin.8 $(MANDIR)/man8/dmstore-snapshotter.8 \
	$(MANDIR)/man5/dmstore.conf.5 $(DOCDIR)/dmstore.conf.example \
	$(BASH_COMPLETION_DIR)/dmstore \
	$(SYSTEMD_UNIT_DIR)/dmstore-docker-plugin.service $(SYSTEMD_UNIT_DIR)/dmstore-docker-plugin.socket \
	$(SYSTEMD_UNIT_DIR)/dmstore-pools.service $(SYSTEMD_UNIT_DIR)/dmstore-monitor@.service \
	$(SYSTEMD_UNIT_DIR)/dmstore-snapshotter.service

install: all
	install -D -m 0755 dmstore $(DESTDIR)$(SBINDIR)/dmstore
	install -D -m 0755 dmstore-docker-plugin $(DESTDIR)$(SBINDIR)/dmstore-docker-plugin
	install -D -m 0644 $(B)/libdmstore.a $(DESTDIR)$(LIBDIR)/libdmstore.a
	install -D -m 0755 $(B)/libdmstore.so $(DESTDIR)$(LIBDIR)/libdmstore.so.$(VERSION)
	ln -sfn libdmstore.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sfn $(SONAME) $(DESTDIR)$(LIBDIR)/libdmstore.so
	install -D -m 0644 include/dmstore.h $(DESTDIR)$(INCLUDEDIR)/dmstore.h
	install -D -m 0644 $(B)/dmstore.pc $(DESTDIR)$(LIBDIR)/pkgconfig/dmstore.pc
	install -D -m 0644 $(B)/dmstore.8 $(DESTDIR)$(MANDIR)/man8/dmstore.8
	install -D -m 0644 $(B)/dmstore-docker-plugin.8 $(DESTDIR)$(MANDIR)/man8/dmstore-docker-plugin.8
	install -D -m 0644 $(B)/dmstore.conf.5 $(DESTDIR)$(MANDIR)/man5/dmstore.conf.5
	install -D -m 0644 doc/dmstore.conf.example $(DESTDIR)$(DOCDIR)/dmstore.conf.example
	install -D -m 0644 completion/dmstore $(DESTDIR)$(BASH_COMPLETION_DIR)/dmstore
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' docker/dmstore-docker-plugin.service.in \
		> $(DESTDIR)$(SYSTEMD_UNIT_DIR)/dmstore-docker-plugin.service
	install -m 0644 docker/dmstore-docker-plugin.socket $(DESTDIR)$(SYSTEMD_UNIT_DIR)/
	if [ -x dmstore-snapshotter ]; then \
		install -D -m 0755 dmstore-snapshotter $(DESTDIR)$(SBINDIR)/dmstore-snapshotter && \
		install -D -m 0644 $(B)/dmstore-snapshotter.8 $(DESTDIR)$(MANDIR)/man8/dmstore-snapshotter.8 && \
		sed 's|@SBINDIR@|$(SBINDIR)|g' snapshotter/dmstore-snapshotter.service.in \
			> $(DESTDIR)$(SYSTEMD_UNIT_DIR)/dmstore-snapshotter.service; \
	fi
	for u in dmstore-pools.service dmstore-monitor@.service; do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/$$u.in > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u || exit 1; \
	done

# Directories only dmstore puts files in go too, when empty; shared ones (lib/, share/man/) stay.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf $(B) dmstore dmstore-docker-plugin dmstore-snapshotter

-include $(shell find $(B) -name '*.d' 2>/dev/null)
