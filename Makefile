# Sparrow — build, test and demo on a fresh Debian 12 machine with Swift 6.3 at /opt/swift.
#   make demo   install what is missing, build, run a real campaign from config/ against the gateway
#               simulator with delivery receipts, and show the report
#   make test   install what is missing and run the whole test suite (beside a throw-away PostgreSQL)
SWIFT      ?= swift
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# System packages the build, the tests and the demo use.
APT_PACKAGES := libcurl4-openssl-dev libssl-dev libsqlite3-dev pkg-config tzdata python3 ca-certificates openssl curl
# What the tests use besides: a headless browser that opens the HTML report, and a font with Chinese glyphs for it.
TEST_PACKAGES := chromium fonts-wqy-microhei
SPARROW    := .build/release/sparrow
DEMO_NOW   ?= 2026-11-22T04:30:00Z

.PHONY: deps test-deps build test test-tsan lint demo bench-plan benchmark-check benchmark-thresholds clean

# apt_install PACKAGES: installs those of Debian's PACKAGES that are missing.
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(APT_PACKAGES))

test-deps: deps
	$(call apt_install,$(TEST_PACKAGES))

build: deps
	$(SWIFT) build -c release --product sparrow
	$(SWIFT) build -c release --product sparrow-gateway-sim

# The suite runs beside a throw-away PostgreSQL cluster on loopback (scripts/with-postgres.sh installs Debian's
# postgresql if it is missing, starts the cluster, and removes it afterwards).
test: test-deps
	$(SWIFT) build --build-tests -Xswiftc -warnings-as-errors --explicit-target-dependency-import-check error
	scripts/with-postgres.sh $(SWIFT) test --skip-build
	scripts/cdnow-check.py .build/debug/sparrow

# The concurrency-heavy suites (dispatch, transport, receipts) again under ThreadSanitizer, in a build folder of
# their own so that the plain build stays as it is.
TSAN_SUITES := SparrowDispatchTests|SparrowTransportTests|SparrowReceiptsTests
test-tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan -Xswiftc -DSPARROW_TSAN
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan -Xswiftc -DSPARROW_TSAN \
	  --filter '$(TSAN_SUITES)'

# Checks the Swift code against .swift-format with the toolchain's swift-format: its rules and its layout (line
# breaks, indentation, line length). It changes no file, and fails on any finding.
lint:
	$(SWIFT) format lint --strict --configuration .swift-format --recursive --parallel Sources Tests Benchmarks Fuzz Package.swift

demo: build
	scripts/demo.sh $(DEMO_NOW)

bench-plan: build
	scripts/bench-plan.sh

# Runs the package-benchmark suites for their malloc counts only (exact, unlike times on a shared machine) and fails
# when one is above its p90 in Benchmarks/Thresholds/. Fewer mallocs pass, with a reminder to lower the thresholds.
# The plugin builds the suites itself; TransportBench, a tool rather than a suite, is built after it: in that order
# the second build reuses the first, where the other order builds everything twice.
benchmark-check: deps
	@cd Benchmarks && status=0 && \
	  $(SWIFT) package --disable-sandbox benchmark thresholds check --metric mallocCountTotal || status=$$?; \
	  if [ $$status = 4 ]; then echo "fewer mallocs than Benchmarks/Thresholds/: lower them with make benchmark-thresholds"; \
	  elif [ $$status != 0 ]; then exit $$status; fi
	cd Benchmarks && $(SWIFT) build -c release --product TransportBench

benchmark-thresholds: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox --allow-writing-to-package-directory \
	  benchmark thresholds update --metric mallocCountTotal

clean:
	rm -rf .build .build-tsan Benchmarks/.build out state
