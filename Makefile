# The two commands a newcomer needs (README): `make demo` and `make test`.
.PHONY: demo test bench programs setup

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh

programs:
	$(MAKE) -C programs

setup:
	bash scripts/setup.sh
