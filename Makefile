# bb — self-service terminal toolkit. GNU make.
# make [all] | check [SANITIZE=1] | fuzz [FUZZ_TIME=60] | demo | kiosk | bench | install |
# install-kiosk | uninstall | deps | clean

VERSION  = 0.1.0
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR  ?= $(DATADIR)/man
# systemd's unit directory for the kiosk's and the queue's units (for PREFIX=/usr:
# UNITDIR=/usr/lib/systemd/system; /etc/systemd/system for units made by the admin).
UNITDIR ?= $(PREFIX)/lib/systemd/system
# polkit's rules for the kiosk's user (pcscd): polkitd reads /etc/polkit-1/rules.d and
# /usr/share/polkit-1/rules.d only, whatever PREFIX is.
POLKITDIR ?= /etc/polkit-1/rules.d
DESTDIR ?=

PKGS     = jansson yaml-0.1 libssl libcrypto libcurl libpcsclite libeac libpng libjpeg expat \
	libmicrohttpd libqrencode cairo pangocairo p11-kit-1 libwebsockets
PKG_CONFIG ?= pkg-config

CC      ?= cc
CFLAGS  ?= -O2 -g
# Hardening as Debian's dpkg-buildflags gives it with hardening=+all (and, as Debian 13
# does, -fcf-protection and -fstack-clash-protection where the compiler has them): the
# programs read ID cards, cases and images from strangers. They come before the user's
# flags, so CFLAGS=-fno-stack-protector or LDFLAGS=-Wl,-z,lazy still win. -Wformat=2
# below includes -Wformat (a later plain -Wformat would lower it to level 1).
# FORTIFY needs the optimiser, and is left out when the user sets it, without -O or at
# -O0, and with the sanitizers (ASan intercepts the same functions).
cc_has = $(shell $(CC) -Werror $(1) -x c -c -o /dev/null /dev/null 2>/dev/null && echo $(1))
HARDEN_CFLAGS := -fstack-protector-strong -fPIE -Werror=format-security \
	$(call cc_has,-fcf-protection) $(call cc_has,-fstack-clash-protection)
HARDEN_LDFLAGS = -pie -Wl,-z,relro -Wl,-z,now
HARDEN_FORTIFY = $(if $(filter 1,$(SANITIZE))$(filter-out -O1 -O2 -O3 -Os -Og -Ofast -Oz,$(or \
	$(lastword $(filter -O%,$(CFLAGS))),-O0))$(findstring _FORTIFY_SOURCE,$(CPPFLAGS) \
	$(CFLAGS)),,-D_FORTIFY_SOURCE=2)
# Warnings stay on whatever the user sets (mblaze's habit).
override CFLAGS := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 \
	-Wno-format-nonliteral $(HARDEN_CFLAGS) $(CFLAGS)
override CPPFLAGS := -D_GNU_SOURCE -Ilib -DBB_VERSION='"$(VERSION)"' \
	-DBB_SERVICES_DIR='"$(DATADIR)/bb/services"' \
	-DBB_SCREENS_DIR='"$(DATADIR)/bb/screens"' $(HARDEN_FORTIFY) $(CPPFLAGS)
override LDFLAGS := $(HARDEN_LDFLAGS) $(LDFLAGS)

ifeq ($(SANITIZE),1)
B = .build-san
override CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
override LDFLAGS += -fsanitize=address,undefined
else
B = .build
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm

LIB_SRC = $(wildcard lib/*.c lib/*/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/assets.o
# The kiosk page's style and script, compiled in (bb-form serve needs no files but its
# screens): each becomes a byte array with a NUL after it, the length without.
ASSETS  = lib/screen/assets/kiosk.css lib/screen/assets/kiosk.js
PROGS   = bb-form bb-queue bb-submit bb-eid bb-capture
BINS    = $(PROGS:%=$(B)/%)
UNIT_SRC = $(wildcard tests/unit/*.c)
UNITS    = $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%)
RIG_SRC  = $(wildcard tests/rig/*.c)
RIGS     = $(RIG_SRC:tests/rig/%.c=$(B)/rig/%)
# The simulated ID card (tests/rig/card): linked into the card simulator and the unit tests.
CARD_SRC = $(wildcard tests/rig/card/*.c)
CARD_OBJ = $(CARD_SRC:%.c=$(B)/%.o)
MANS     = $(wildcard man/*.[1-8])
# The kiosk (scripts/kiosk: the session loop, the screen and browser wrappers, the flows'
# shared pieces; not start, which runs the source tree's test rig for make kiosk) and the
# systemd units, the queue's among them.
KIOSK_FILES   = $(filter-out %.service %.timer %.rules scripts/kiosk/start,$(wildcard scripts/kiosk/*))
POLKIT_RULES  = $(wildcard scripts/kiosk/*.rules)
SYSTEMD_UNITS = $(wildcard scripts/kiosk/*.service scripts/kiosk/*.timer) \
	scripts/queue/bb-queue.service scripts/queue/bb-queue.timer
# Fuzz targets (tests/fuzz/README): each with libFuzzer (clang) in .build-fuzz for make fuzz,
# and with the replay driver under the normal compiler in $(B)/fuzz for make check.
FUZZ_SRC  = $(filter-out tests/fuzz/driver.c tests/fuzz/common.c tests/fuzz/keys.c, \
	$(wildcard tests/fuzz/*.c))
FUZZ_ALL  = $(FUZZ_SRC:tests/fuzz/%.c=%)
REPLAYS   = $(FUZZ_ALL:%=$(B)/fuzz/%)
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_TIME ?= 60
FUZZ_TIMEOUT ?= 1
FUZZ_CC   ?= clang
FB        = .build-fuzz
FUZZ_SAN  = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -O1 -g -Wall -Wextra $(FUZZ_SAN)

all: $(BINS)

# Each object depends on the headers (and sources) it includes, as the compiler lists them
# in a .d file beside it (-MMD); -MP adds an empty rule per header, so a removed header
# does not stop make.
DEPFLAGS = -MMD -MP
$(B)/%.o: %.c $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

# The compiled-in services directory follows PREFIX/DATADIR: rebuild when they change.
$(B)/datadir: FORCE
	@mkdir -p $(@D)
	@echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' > $@
$(B)/lib/config.o: $(B)/datadir

# Everything is rebuilt when the flags change (hardening came after the first builds).
BUILD_FLAGS = $(subst ','\'',$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) $(LDFLAGS))
$(B)/flags: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '$(BUILD_FLAGS)' | cmp -s - $@ || printf '%s\n' '$(BUILD_FLAGS)' > $@

$(B)/gen/assets.c $(FB)/gen/assets.c: $(ASSETS) Makefile
	@mkdir -p $(@D)
	@{ echo '#include <stddef.h>'; \
	for f in $(ASSETS); do \
		n=bb_asset_$$(basename $$f | tr . _); \
		echo "const unsigned char $$n[] = {"; \
		od -An -v -tx1 $$f | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
		echo '0 };'; \
		echo "const size_t $${n}_len = sizeof $$n - 1;"; \
	done; } > $@.tmp && mv $@.tmp $@

$(B)/gen/assets.o: $(B)/gen/assets.c $(B)/flags
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libbb.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/%: $(B)/cmd/%.o $(B)/libbb.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/librig.a: $(CARD_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/unit/%: $(B)/tests/unit/%.o $(B)/librig.a $(B)/libbb.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

# Test rig programs (tests/rig/*.c): small tools the tests drive, on libbb.
$(B)/rig/%: $(B)/tests/rig/%.o $(B)/librig.a $(B)/libbb.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The replay of the fuzz corpora and crashes: driver.c's main() instead of libFuzzer's.
# Some targets include a lib/ source to reach its static parsers.
$(B)/fuzz/%: $(B)/tests/fuzz/%.o $(B)/tests/fuzz/driver.o $(B)/tests/fuzz/common.o \
    $(B)/tests/fuzz/keys.o $(B)/libbb.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

replays: $(REPLAYS)

# libFuzzer builds: libbb instrumented (fuzzer-no-link), never mixed with .build*.
$(FB)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(PKG_CFLAGS) $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer-no-link \
	    -c -o $@ $<

# The screen's assets too (server.c, which the screen target includes, serves them).
$(FB)/gen/assets.o: $(FB)/gen/assets.c
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

$(FB)/libbb.a: $(LIB_SRC:%.c=$(FB)/%.o) $(FB)/gen/assets.o
	@rm -f $@
	$(AR) rcs $@ $^

$(FB)/fuzz/%: $(FB)/tests/fuzz/%.o $(FB)/tests/fuzz/common.o $(FB)/tests/fuzz/keys.o \
    $(FB)/libbb.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

# Each target in turn for FUZZ_TIME seconds, niced, on a working corpus in .build-fuzz
# seeded from tests/fuzz/corpus and crashes; findings go to .build-fuzz/artifacts/TARGET.
# An input slower than FUZZ_TIMEOUT seconds is a finding. The targets' stderr is closed
# (OpenPACE logs every refused input there); libFuzzer's report still comes.
fuzz: deps
	$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FB)/fuzz/%)
	@fail=""; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FB)/corpus/$$t $(FB)/artifacts/$$t; \
		dirs=""; for d in tests/fuzz/corpus/$$t tests/fuzz/crashes/$$t; do \
			[ -d $$d ] && dirs="$$dirs $$d"; done; \
		echo "fuzz: $$t for $(FUZZ_TIME) s (log $(FB)/$$t.log)"; \
		nice -n 19 $(FB)/fuzz/$$t -max_total_time=$(FUZZ_TIME) \
			-timeout=$(FUZZ_TIMEOUT) -rss_limit_mb=2048 -close_fd_mask=2 \
			-print_final_stats=1 $(FUZZ_ARGS) \
			-artifact_prefix=$(FB)/artifacts/$$t/ $(FB)/corpus/$$t $$dirs \
			> $(FB)/$$t.log 2>&1 || fail="$$fail $$t"; \
		grep -E '^(stat::(number_of_executed_units|slowest_unit_time_sec|peak_rss_mb)|SUMMARY)|DONE' \
			$(FB)/$$t.log; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz: failed:$$fail (see $(FB)/artifacts)"; exit 1; fi

deps:
	scripts/install-deps

# Every test: command tests (tests/*.t) and unit tests, run by prove; man pages lint.
check: deps
	$(MAKE) --no-print-directory all units rigs replays SANITIZE=$(SANITIZE)
	BB_BIN=$(abspath $(B)) BB_TOP=$(CURDIR) CMOCKA_MESSAGE_OUTPUT=TAP \
		prove $(PROVEFLAGS) tests/*.t $(UNITS)

units: $(UNITS)

rigs: $(RIGS) $(B)/rig/p11mock.so

# A PKCS#11 module for the token answers SoftHSM2 does not give (tests/0750-eid-pkcs11.t).
$(B)/rig/p11mock.so: tests/rig/p11mock/p11mock.c $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(filter-out -fPIE,$(CFLAGS)) -fPIC -shared \
		-Wl,-z,relro -Wl,-z,now -o $@ $<

bench: deps
	$(MAKE) --no-print-directory all rigs
	BB_BIN=$(abspath $(B)) BB_TOP=$(CURDIR) sh tests/bench/run

demo: deps
	$(MAKE) --no-print-directory all rigs
	BB_BIN=$(abspath $(B)) sh scripts/demo

# The kiosk on this machine's display, for a person to try (scripts/kiosk/start).
kiosk: deps
	$(MAKE) --no-print-directory all rigs
	BB_BIN=$(abspath $(B)) BB_TOP=$(CURDIR) sh scripts/kiosk/start

install: all install-kiosk
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DATADIR)/bb/services \
		$(DESTDIR)$(DATADIR)/bb/screens/catalog $(DESTDIR)$(DATADIR)/bb/screens/pictures \
		$(DESTDIR)$(DATADIR)/bb/kiosk
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)/
	for m in $(MANS); do install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/; done
	for d in scripts/services/*/; do \
		install -d $(DESTDIR)$(DATADIR)/bb/services/$$(basename $$d) && \
		{ [ ! -e $$d/form.yaml ] || \
		install -m 644 $$d/form.yaml $(DESTDIR)$(DATADIR)/bb/services/$$(basename $$d)/; } && \
		install -m 755 $$d/flow $(DESTDIR)$(DATADIR)/bb/services/$$(basename $$d)/ || exit; \
	done
	install -m 644 scripts/kiosk/flow.sh $(DESTDIR)$(DATADIR)/bb/kiosk/
	install -m 644 scripts/screens/*.yaml $(DESTDIR)$(DATADIR)/bb/screens/
	install -m 644 scripts/screens/catalog/*.yaml $(DESTDIR)$(DATADIR)/bb/screens/catalog/
	for p in scripts/screens/pictures/*.svg; do \
		[ ! -e "$$p" ] || install -m 644 $$p $(DESTDIR)$(DATADIR)/bb/screens/pictures/; \
	done

# The kiosk's scripts, the services' flows and the units, which name the programs and
# scripts by their installed paths (the sources say /usr/local; BINDIR and DATADIR here).
# Builds nothing: tests/0030-units.t installs these into a scratch prefix.
install-kiosk:
	install -d $(DESTDIR)$(DATADIR)/bb/kiosk $(DESTDIR)$(UNITDIR)
	# Debian's rules.d is 0700, polkitd's: install -d would open it to all.
	[ -d $(DESTDIR)$(POLKITDIR) ] || install -d -m 700 $(DESTDIR)$(POLKITDIR)
	install -m 644 $(POLKIT_RULES) $(DESTDIR)$(POLKITDIR)/
	for f in $(KIOSK_FILES); do \
		if [ -x $$f ]; then m=755; else m=644; fi; \
		install -m $$m $$f $(DESTDIR)$(DATADIR)/bb/kiosk/ || exit; \
	done
	for d in scripts/services/*/; do \
		if [ -f $$d/flow ]; then \
			install -d $(DESTDIR)$(DATADIR)/bb/services/$$(basename $$d) && \
			install -m 755 $$d/flow $(DESTDIR)$(DATADIR)/bb/services/$$(basename $$d)/; \
		fi || exit; \
	done
	for u in $(SYSTEMD_UNITS); do \
		sed -e 's|/usr/local/bin|$(BINDIR)|g' -e 's|/usr/local/share/bb|$(DATADIR)/bb|g' \
			$$u > $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp && \
		chmod 644 $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp && \
		mv $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp $(DESTDIR)$(UNITDIR)/$${u##*/} || exit; \
	done

uninstall:
	for u in $(SYSTEMD_UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$${u##*/}; done
	for r in $(POLKIT_RULES); do rm -f $(DESTDIR)$(POLKITDIR)/$${r##*/}; done
	rm -rf $(DESTDIR)$(DATADIR)/bb/kiosk
	for p in $(PROGS); do rm -f $(DESTDIR)$(BINDIR)/$$p; done
	for m in $(MANS); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; done
	rm -rf $(DESTDIR)$(DATADIR)/bb/services $(DESTDIR)$(DATADIR)/bb/screens
	rm -f $(DESTDIR)$(DATADIR)/bb/kiosk/flow.sh

clean:
	rm -rf .build .build-san .build-fuzz

FORCE:
.PHONY: all check units rigs replays fuzz bench demo kiosk deps install install-kiosk \
	uninstall clean FORCE
.SECONDARY:

-include $(shell find $(B) $(FB) -name '*.d' 2>/dev/null)
