# Conclave: `make run` builds and starts the server; `make test` runs `make lint` and every test
# suite; `make format` formats the C++ and web sources as `make lint` checks them.
BUILD ?= build
CONCLAVE_FLAGS ?=
WERROR := $(if $(CI),ON,OFF)

.PHONY: run test lint format deps test-deps build web clean bench fuzz

run: deps build web
	@mkdir -p .conclave-data
	exec $(BUILD)/src/app/conclave $(CONCLAVE_FLAGS)

test:
	bash scripts/test.sh

# clang-format (check), clang-tidy on the C++ files changed since the merge-base with origin/main
# (LINT_FLAGS=--all: every file), ESLint and Prettier in web/.
LINT_FLAGS ?=
lint:
	@bash scripts/install-deps.sh lint
	bash scripts/lint.sh $(LINT_FLAGS)

format:
	@bash scripts/install-deps.sh lint
	bash scripts/lint.sh --format

deps:
	@bash scripts/install-deps.sh run

test-deps:
	@bash scripts/install-deps.sh test

# The server alone: no tests or benchmarks, so nothing beyond the run packages is needed.
build:
	@cmake -S . -B $(BUILD) -G Ninja -DCONCLAVE_LAYERS= -DCONCLAVE_WERROR=$(WERROR) -DCONCLAVE_TESTS=OFF -DCONCLAVE_BENCH=OFF >/dev/null
	@ninja -C $(BUILD) conclave

web:
	@cd web && npm run --silent build

bench:
	@bash scripts/install-deps.sh bench
	@cmake -S . -B $(BUILD) -G Ninja -DCONCLAVE_LAYERS= -DCONCLAVE_TESTS=ON -DCONCLAVE_BENCH=ON >/dev/null
	@ninja -C $(BUILD)
	bash scripts/bench.sh $(BUILD)

fuzz:
	bash scripts/fuzz.sh

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz build-lint web/dist
