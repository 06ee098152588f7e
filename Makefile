# Sparrow — build, test and demo on a fresh Debian 12 machine with Swift 6.3 at /opt/swift.
#   make demo   install what is missing, build, run a real campaign from config/ and show the result
#   make test   install what is missing and run the whole test suite
SWIFT      ?= swift
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# System packages the build, the tests and the demo use.
APT_PACKAGES := libcurl4-openssl-dev libssl-dev libsqlite3-dev pkg-config tzdata python3 ca-certificates openssl
SPARROW    := .build/release/sparrow
DEMO_NOW   ?= 2026-11-22T12:30:00Z
OUT        := out

.PHONY: deps build test demo bench-plan benchmarks clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build -c release --product sparrow

test: deps
	$(SWIFT) build --build-tests -Xswiftc -warnings-as-errors --explicit-target-dependency-import-check error
	$(SWIFT) test --skip-build

demo: build
	@mkdir -p $(OUT)
	@echo "== sparrow plan: the example campaign (config/examples), as of $(DEMO_NOW)"
	$(SPARROW) plan --config config/sparrow.yaml --template config/examples/unpaid-reminder.mustache \
	  --now $(DEMO_NOW) --rejects $(OUT)/rejects.jsonl < config/examples/recipients.csv > $(OUT)/plan.jsonl
	@echo "== first plan lines ($(OUT)/plan.jsonl)"; head -n 3 $(OUT)/plan.jsonl
	@echo "== first rejects ($(OUT)/rejects.jsonl)"; head -n 3 $(OUT)/rejects.jsonl
	@echo "== a number, and a message's segments"
	$(SPARROW) phone "198 1234 5678"
	$(SPARROW) segment -- "【青禾旗舰店】亲，您拍下的羊绒围巾还未付款，库存有限，付款后我们会尽快为您发货。回T退订"

bench-plan: build
	scripts/bench-plan.sh

benchmarks: deps
	cd Benchmarks && $(SWIFT) build -c release

clean:
	rm -rf .build Benchmarks/.build $(OUT)
