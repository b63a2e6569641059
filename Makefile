# The two commands of the quickstart: `make demo` and `make test`. Both bootstrap the toolchain
# (Node >= 22 and pnpm, from the npm registry, into .toolchain/) when needed, install, and build
# incrementally; running either twice does not redo finished work.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
ENV := . scripts/env.sh &&
INSTALL_STAMP := node_modules/.helm-install-stamp
MANIFESTS := package.json pnpm-lock.yaml pnpm-workspace.yaml $(wildcard packages/*/package.json apps/*/package.json tools/*/package.json)

.PHONY: setup build demo test lint tcb-check tcb-report pack-check api-check api-update bench clean

$(INSTALL_STAMP): $(MANIFESTS)
	$(ENV) pnpm install --frozen-lockfile --prefer-offline
	touch $@

setup: $(INSTALL_STAMP)

build: setup
	$(ENV) pnpm build

demo: build
	$(ENV) ./helmts demo

lint: setup
	$(ENV) pnpm lint

tcb-check: build
	$(ENV) pnpm tcb:check

tcb-report: build
	$(ENV) pnpm tcb:report

pack-check: build
	$(ENV) pnpm pack:check

# API reports + SBOMs (packages/*/etc/): api-check fails when the build or the lockfile differs from
# the committed files, or an API change lacks a large enough changeset; api-update rewrites them.
api-check: build
	$(ENV) pnpm api:check

api-update: build
	$(ENV) pnpm api:update

# api:check compares the committed API reports/SBOMs with the build; pack:check packs every package
# twice (second clone) and requires byte-identical tarballs.
# Every step runs even when an earlier one fails, so one run shows every problem; any failure fails
# the target. Finished work is cached (turbo's task cache, pack:check's input hash).
TEST_STEPS := lint tcb:check test api:check pack:check
test: build
	@failed=; for step in $(TEST_STEPS); do \
	  echo "==> pnpm $$step"; \
	  $(ENV) pnpm $$step || failed="$$failed $$step"; \
	done; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed"; exit 1; fi; \
	echo "make test: all passed ($(TEST_STEPS))"

bench: build
	$(ENV) pnpm bench

clean:
	rm -rf node_modules packages/*/node_modules packages/*/dist apps/*/node_modules apps/*/dist tools/*/node_modules tools/*/dist .turbo
