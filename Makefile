# The two commands a newcomer needs (README): `make demo` and `make test`.
.PHONY: demo test bench fuzz programs setup man install

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

# The node-server measurements (bench/README.md, BENCHMARKS.md).
bench:
	python3 bench/run.py

# libFuzzer over every parser, FUZZ_SECONDS (default 60) each (docs/fuzzing.md).
fuzz:
	bash scripts/fuzz.sh

programs:
	$(MAKE) -C programs

setup:
	bash scripts/setup.sh

# The manual pages from the command definitions, in .build/man/ (docs/cli.md,
# "Man pages and completions"). CONFIGURATION: debug (default) or release.
CONFIGURATION ?= debug
man:
	bash scripts/man.sh $(CONFIGURATION)

# Builds release and installs the binaries, the manual pages and the shell
# completions under $(DESTDIR)$(PREFIX) (scripts/install.sh says where each
# goes). BUILD_DIR=DIR installs an existing build instead, as the tests do.
PREFIX ?= /usr/local
DESTDIR ?=
BUILD_DIR ?=
SWIFT_BUILD_FLAGS ?=
install:
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" BUILD_DIR="$(BUILD_DIR)" SWIFT_BUILD_FLAGS="$(SWIFT_BUILD_FLAGS)" bash scripts/install.sh
