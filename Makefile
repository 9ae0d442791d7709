# The two commands a newcomer needs (README): `make demo` and `make test`.
.PHONY: demo test bench fuzz programs setup

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
