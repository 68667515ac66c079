# habox: one static musl binary with the applets havip, hasync, haprom,
# hawatch and hactl. `make` builds ./habox from .config (or
# config/defconfig); `make check` runs every test; `make demo` shows it;
# `make install` installs it. See README for the targets and variables.

OUT        ?= build
TARGET     ?= musl
SYSTEM_DEPS ?=
KCONFIG_CONFIG ?= .config
FUZZ_SECONDS ?= 60
V ?=

CONFIG_FILE := $(if $(wildcard $(KCONFIG_CONFIG)),$(KCONFIG_CONFIG),config/defconfig)
include $(CONFIG_FILE)

Q := $(if $(V),,@)
KCONFIG_FILES := Kconfig applets/Kconfig core/Kconfig

# --- toolchain and libraries -------------------------------------------
ifeq ($(TARGET),musl)
  CC      := musl-gcc
  OPT     := -Os -ffunction-sections -fdata-sections -fstack-protector-strong
  LDOPT   := -static -Wl,--gc-sections
  KHDR    := $(OUT)/kheaders
else ifeq ($(TARGET),san)
  CC      := clang
  OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
             -fno-sanitize-recover=undefined $(SAN_EXTRA)
  LDOPT   := -fsanitize=address,undefined
  KHDR    :=
else
  $(error TARGET must be musl or san)
endif

ifeq ($(SYSTEM_DEPS),1)
  # A musl-native system (e.g. Alpine) with the libraries installed.
  CC      := $(if $(filter default,$(origin CC)),cc,$(CC))
  DEPS    :=
  DEPSTAMP :=
  INIH_OBJ :=
  INIH_LIB := -linih
  DEPINC  :=
  KHDR    :=
else
  DEPS    := $(shell scripts/deps.sh prefix $(TARGET))
  DEPSTAMP := $(DEPS)/manifest
  INIH_OBJ := $(OUT)/obj/ini.o
  INIH_LIB :=
  DEPINC  := -isystem $(DEPS)/include \
             -DMBEDTLS_CONFIG_FILE='"ha_mbedtls_config.h"'
  LIBDIR  := -L$(DEPS)/lib
endif

PQ_LIBS  := -lpq -lpgcommon_shlib -lpgport_shlib
ifeq ($(SYSTEM_DEPS),1)
  PQ_LIBS := -lpq
endif
LIBS := $(if $(filter y,$(CONFIG_HAPROM)),$(PQ_LIBS)) \
        -lmbedtls -lmbedx509 -lmbedcrypto -lzstd -lz $(INIH_LIB)
ifeq ($(TARGET),san)
  LIBS += -lm -pthread
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wno-unused-parameter -Wformat=2 -Wvla -Werror
CPPFLAGS_ALL := -std=c11 -D_GNU_SOURCE -I$(OUT)/include -I. \
        $(DEPINC) $(if $(KHDR),-isystem $(KHDR)) -DINI_MAX_LINE=4096
CFLAGS_ALL := $(OPT) $(WARN) $(CFLAGS)

# --- sources, chosen by the configuration ------------------------------
CORE := core/log.c core/cli.c core/value.c core/config.c core/config_read.c \
        core/config_schema.c core/config_print.c \
        core/run.c \
        core/state.c core/util.c core/rand.c core/version.c core/wire.c \
        core/net.c core/tls.c core/chacha20.c core/gcm.c core/loop.c core/peer.c \
        core/server.c \
        core/pki.c \
        core/token.c core/elect.c core/elect_msg.c core/daemon.c \
        core/ctl.c core/jsonread.c core/members.c \
        core/json.c core/pgwal.c core/pgconf.c core/pgreply.c
CORE += $(if $(filter y,$(CONFIG_HASYNC)),core/flist.c core/inotree.c \
        core/pathset.c core/journal.c)
# libpq only with haprom (tests/integration/build.sh checks it).
CORE += $(if $(filter y,$(CONFIG_HAPROM)),core/pg.c)
CORE += $(if $(filter y,$(CONFIG_HASYNC)),core/delta.c core/delta_make.c \
        core/delta_apply.c core/sha256.c core/zio.c)
CORE += $(if $(filter y,$(CONFIG_HAVIP)),core/netlink.c core/nlmsg.c \
        core/neigh.c core/announce.c)
APPLETS := applets/main.c \
        $(if $(filter y,$(CONFIG_HAVIP)),applets/havip.c applets/havip_ops.c) \
        $(if $(filter y,$(CONFIG_HASYNC)),$(wildcard applets/hasync/*.c)) \
        $(if $(filter y,$(CONFIG_HAPROM)),$(wildcard applets/haprom/*.c)) \
        $(if $(filter y,$(CONFIG_HAWATCH)),applets/hawatch/hawatch.c \
            applets/hawatch/peers.c applets/hawatch/res.c \
            applets/hawatch/local.c applets/hawatch/checks.c \
            applets/hawatch/ctl.c applets/hawatch/wdog.c \
            applets/hawatch/sync.c) \
        $(if $(filter y,$(CONFIG_HACTL)),applets/hactl/hactl.c \
                                          applets/hactl/enroll.c \
                                          applets/hactl/ops.c)

CORE_OBJ   := $(CORE:%.c=$(OUT)/obj/%.o) $(INIH_OBJ)
# hasync's data path touches every byte of every file: worth -O2 in the
# release build as zlib and mbedTLS are (scripts/deps.sh, FAST_CFLAGS).
FAST_OBJ   := $(patsubst %.c,$(OUT)/obj/%.o,core/delta.c core/delta_make.c \
        core/delta_apply.c core/sha256.c core/zio.c core/chacha20.c \
        core/gcm.c)
ifeq ($(TARGET),musl)
$(FAST_OBJ): CFLAGS_ALL += -O2
endif
APPLET_OBJ := $(APPLETS:%.c=$(OUT)/obj/%.o)
CORE_LIB   := $(OUT)/libhacore.a
# A group: mbedTLS calls back into core (mbedtls_hardware_poll in rand.c).
LINK_LIBS  := $(LIBDIR) -Wl,--start-group $(CORE_LIB) $(LIBS) -Wl,--end-group

# A unit test tests/unit/X_test.c is built when core/X.c is.
UNIT_SRC := $(foreach t,$(wildcard tests/unit/*_test.c),$(if $(filter \
        core/$(patsubst %_test.c,%,$(notdir $(t))).c,$(CORE)),$(t)))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(OUT)/tests/%)

GEN := $(OUT)/include/ha_kconfig.h $(OUT)/include/ha_version.h

.PHONY: all asan check demo fuzz fuzz-build sim bench clean \
        distclean menuconfig nconfig defconfig olddefconfig savedefconfig \
        deps-install tests install uninstall FORCE
.DELETE_ON_ERROR:

all: $(OUT)/habox $(if $(filter build,$(OUT)),habox)

# ./habox is the stripped release artifact; build/habox keeps its symbols.
habox: $(OUT)/habox
	$(Q)strip -o $@ $<

$(OUT)/habox: $(APPLET_OBJ) $(CORE_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDOPT) $(LDFLAGS) -o $@ $(APPLET_OBJ) $(LINK_LIBS)

$(CORE_LIB): $(CORE_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/obj/%.o: %.c $(GEN) | $(DEPSTAMP) $(KHDR)
	@echo "  CC      $@"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

# inih: the pristine upstream ini.c, compiled with our flags (no -Werror:
# not our code).
$(OUT)/obj/ini.o: $(DEPSTAMP)
	@echo "  CC      $@"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(OPT) -c -o $@ $(DEPS)/src/inih/ini.c

$(OUT)/tests/%: tests/unit/%.c tests/unit/check.h $(CORE_LIB) $(GEN)
	@echo "  CC      $@"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(CFLAGS_ALL) $(LDOPT) -o $@ $< \
		$(LINK_LIBS)

# Test helpers (tests/tools/NAME.c): small programs of ours that speak our
# protocols on purpose badly, capture packets, and so on.
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(OUT)/tools/%)

$(OUT)/tools/%: tests/tools/%.c $(CORE_LIB) $(GEN)
	@echo "  CC      $@"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(CFLAGS_ALL) $(LDOPT) -o $@ $< \
		$(LINK_LIBS)

tests: $(UNIT_BIN) $(TOOL_BIN)

$(DEPSTAMP):
	$(Q)scripts/debian-deps.sh --check build
	$(Q)scripts/deps.sh build $(TARGET) >/dev/null

# musl-gcc cannot see the kernel's uapi headers; give it just those three.
$(OUT)/kheaders:
	$(Q)mkdir -p $@.tmp && ln -sfn /usr/include/linux $@.tmp/linux && \
	ln -sfn /usr/include/asm-generic $@.tmp/asm-generic && \
	ln -sfn /usr/include/$$(gcc -print-multiarch)/asm $@.tmp/asm && \
	rm -rf $@ && mv $@.tmp $@

$(OUT)/include/ha_kconfig.h: FORCE
	@mkdir -p $(dir $@)
	$(Q)scripts/kconfig-header.sh Kconfig $(CONFIG_FILE) >$@.tmp
	$(Q)cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(OUT)/include/ha_version.h: FORCE
	@mkdir -p $(dir $@)
	$(Q)v=$$(cat VERSION); g=$$(git describe --always --dirty 2>/dev/null); \
	echo "#define HA_VERSION \"$$v$${g:+ ($$g)}\"" >$@.tmp
	$(Q)cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)

# --- other builds -------------------------------------------------------
asan:
	$(Q)$(MAKE) --no-print-directory TARGET=san OUT=build-asan all tests

# A fuzz target fuzz/X_fuzz.c is built when core/X.c is.
FUZZ_SRC := $(foreach t,$(wildcard fuzz/*_fuzz.c),$(if $(filter \
        core/$(patsubst %_fuzz.c,%,$(notdir $(t))).c,$(CORE)),$(t)))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build-fuzz/%)

fuzz-build:
	$(Q)$(MAKE) --no-print-directory TARGET=san OUT=build-fuzz \
		SAN_EXTRA=-fsanitize=fuzzer-no-link build-fuzz/libhacore.a $(FUZZ_BIN)

build-fuzz/%_fuzz: fuzz/%_fuzz.c $(CORE_LIB)
	@echo "  FUZZ    $@"
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< \
		$(LINK_LIBS)

# Each target for FUZZ_SECONDS, starting from its committed seed corpus.
fuzz: fuzz-build
	$(Q)scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

# --- the two commands a newcomer runs ------------------------------------
deps-install:
	$(Q)scripts/debian-deps.sh --install $(DEPS_SET)

check:
	$(Q)scripts/debian-deps.sh --install check
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)$(MAKE) --no-print-directory asan
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)HABOX_TOOLS=$(CURDIR)/$(OUT)/tools tests/run.sh --habox $(CURDIR)/habox \
		--unit $(OUT)/tests --unit build-asan/tests --fuzz build-fuzz \
		--asan $(CURDIR)/build-asan/habox

# Benchmarks print figures (medians, ratios against a peer run in the same
# script); they assert nothing. BENCH=name runs one.
BENCH ?= *
bench:
	$(Q)scripts/debian-deps.sh --install bench
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)for b in bench/$(BENCH).sh; do [ -f "$$b" ] || continue; \
		echo "== $$b"; HABOX=$(CURDIR)/habox HABOX_TOP=$(CURDIR) \
		HABOX_TOOLS=$(CURDIR)/$(OUT)/tools bash "$$b" || exit 1; done

# The election simulation with more seeds than `make check` runs.
SEEDS ?= 100000
sim:
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)SIM_SEEDS=$(SEEDS) $(OUT)/tests/elect_test

demo:
	$(Q)scripts/debian-deps.sh --install demo
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh $(CURDIR)/habox

# --- install --------------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=] [BINDIR=] [MANDIR=] [DOCDIR=]
#              [INIT=sysvinit|openrc|none] [INITDIR=/etc/init.d] [HABOX=file]
# installs the binary HABOX (default ./habox, built first if out of date;
# HABOX=file on the command line is installed as it is, nothing is built),
# a symlink per applet it has built in (`habox --list`), the manual pages of
# those applets, the example configurations under DOCDIR and, with hawatch
# built in, the init script of INIT with the binary's path filled in. It never writes
# /etc/habox: copy an example there. `make uninstall` with the same variables
# removes what install put there: only symlinks to habox, not the config.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/habox
INIT    ?= sysvinit
INITDIR ?= /etc/init.d
DESTDIR ?=
# Only from the command line: tests/run.sh exports HABOX for its scripts.
ifneq ($(origin HABOX),command line)
  HABOX := habox
endif
APPLET_NAMES := $(shell grep -o '^APPLET.[a-z]*' applets/applets.def | cut -c8-)
EXAMPLES := $(wildcard config/*.conf)
MAN_PAGES := $(wildcard doc/*.[158])
INST_BIN := $(DESTDIR)$(BINDIR)

install: $(if $(filter habox,$(HABOX)),habox)
	$(Q)case "$(INIT)" in sysvinit|openrc|none) ;; *) \
		echo "INIT must be sysvinit, openrc or none (not '$(INIT)')" >&2; \
		exit 2 ;; esac
	$(Q)applets=$$("$(abspath $(HABOX))" --list) || { \
		echo "$(HABOX) --list failed: is it a habox binary for this \
machine?" >&2; exit 1; }; \
	set -e; \
	echo "  INSTALL $(INST_BIN)/habox ($$(echo $$applets))"; \
	install -d -m 0755 "$(INST_BIN)" "$(DESTDIR)$(MANDIR)/man1" \
		"$(DESTDIR)$(MANDIR)/man5" "$(DESTDIR)$(MANDIR)/man8" \
		"$(DESTDIR)$(DOCDIR)/examples"; \
	install -m 0755 "$(HABOX)" "$(INST_BIN)/habox"; \
	for a in $$applets; do ln -sfn habox "$(INST_BIN)/$$a"; done; \
	want=" habox.1 habox.conf.5 "; \
	for a in $$applets; do want="$$want$$a.8 "; done; \
	for m in $(MAN_PAGES); do \
		n=$${m##*/}; \
		case $$want in *" $$n "*) ;; *) continue ;; esac; \
		install -m 0644 "$$m" "$(DESTDIR)$(MANDIR)/man$${n##*.}/$$n"; \
	done; \
	install -m 0644 $(EXAMPLES) "$(DESTDIR)$(DOCDIR)/examples/"; \
	install -m 0644 README "$(DESTDIR)$(DOCDIR)/README"; \
	if [ "$(INIT)" != none ] && echo "$$applets" | grep -qx hawatch; then \
		echo "  INSTALL $(DESTDIR)$(INITDIR)/hawatch ($(INIT))"; \
		install -d -m 0755 "$(DESTDIR)$(INITDIR)"; \
		t=$$(mktemp); rc=0; \
		sed 's|/usr/sbin/habox|$(BINDIR)/habox|g' \
			"initscripts/$(INIT)/hawatch" >"$$t" && \
		install -m 0755 "$$t" "$(DESTDIR)$(INITDIR)/hawatch" || rc=1; \
		rm -f "$$t"; exit $$rc; \
	fi

uninstall:
	$(Q)set -e; \
	echo "  REMOVE  $(INST_BIN)/habox and its applet links"; \
	for a in $(APPLET_NAMES); do \
		if [ -L "$(INST_BIN)/$$a" ] && [ "$$(readlink "$(INST_BIN)/$$a")" = habox ]; \
		then rm -f "$(INST_BIN)/$$a"; fi; \
	done; \
	rm -f "$(INST_BIN)/habox"; \
	for m in $(MAN_PAGES); do \
		n=$${m##*/}; rm -f "$(DESTDIR)$(MANDIR)/man$${n##*.}/$$n"; \
	done; \
	for e in $(notdir $(EXAMPLES)); do \
		rm -f "$(DESTDIR)$(DOCDIR)/examples/$$e"; done; \
	rm -f "$(DESTDIR)$(DOCDIR)/README"; \
	rmdir "$(DESTDIR)$(DOCDIR)/examples" "$(DESTDIR)$(DOCDIR)" \
		2>/dev/null || true; \
	i="$(DESTDIR)$(INITDIR)/hawatch"; \
	if [ "$(INIT)" != none ] && [ -f "$$i" ] && grep -q habox "$$i"; \
	then rm -f "$$i"; fi

# --- Kconfig front ends (Debian: kconfig-frontends) ---------------------
KCONF_HINT := "needs kconfig-frontends (apt-get install kconfig-frontends-nox); \
without it, edit .config by hand (start from config/defconfig)"
menuconfig nconfig:
	$(Q)command -v kconfig-$(@:config=)conf >/dev/null || { echo $(KCONF_HINT); exit 2; }
	$(Q)KCONFIG_CONFIG=$(KCONFIG_CONFIG) kconfig-$(@:config=)conf Kconfig

defconfig:
	$(Q)if command -v kconfig-conf >/dev/null; then \
		KCONFIG_CONFIG=$(KCONFIG_CONFIG) kconfig-conf --defconfig=config/defconfig Kconfig; \
	else cp config/defconfig $(KCONFIG_CONFIG); fi

olddefconfig:
	$(Q)command -v kconfig-conf >/dev/null || { echo $(KCONF_HINT); exit 2; }
	$(Q)KCONFIG_CONFIG=$(KCONFIG_CONFIG) kconfig-conf --olddefconfig Kconfig

savedefconfig:
	$(Q)command -v kconfig-conf >/dev/null || { echo $(KCONF_HINT); exit 2; }
	$(Q)KCONFIG_CONFIG=$(KCONFIG_CONFIG) kconfig-conf --savedefconfig=defconfig Kconfig

clean:
	rm -rf build build-asan build-fuzz habox

distclean: clean
	rm -f .config .config.old

FORCE:
