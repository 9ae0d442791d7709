# The two commands a newcomer needs (README): `make demo` and `make test`.
.PHONY: demo test bench fuzz programs setup

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh

# libFuzzer over every parser, FUZZ_SECONDS (default 60) each (docs/fuzzing.md).
fuzz:
	bash scripts/fuzz.sh

programs:
	$(MAKE) -C programs

setup:
	bash scripts/setup.sh
