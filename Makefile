# pecspec — the two promised commands are `make run` and `make test` (README).
GO      ?= go
BIN     := bin
OUT     ?= out
DEBS    := softhsm2 slapd ldap-utils clamav clamav-daemon libxml2-utils openssl curl ca-certificates chromium fonts-dejavu-core
FUZZTIME ?= 5s
export CGO_ENABLED := 1

.PHONY: all setup build run test test-short lint bench fuzz clean

all: build

# setup installs the Debian packages the lab needs, only the missing ones, and
# downloads the Go modules.
setup:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	$(GO) mod download

build: setup
	$(GO) build -o $(BIN)/ ./cmd/pecspec ./cmd/pecref

# run: the full suite against the reference pair; reports in $(OUT)/.
run: build
	$(BIN)/pecspec run --target reference --out $(OUT)

# test: unit tests, integration tests on the real lab, short fuzzing.
test: build lint
	$(GO) test -count=1 -timeout 8m ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME)

lint:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

# bench: micro-benchmarks, then the lab measurements (certified messages/s
# against token signatures/s; the 50 MB and 500-recipient messages' peak RSS).
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...
	PECSPEC_BENCH=1 $(GO) test -count=1 -timeout 20m -run '^TestBench' -v ./internal/flowtest | \
		grep -E '^(certified|50 MB|500-recipient)|^(--- )?FAIL|^ok'


# fuzz runs every fuzz target for FUZZTIME each (make fuzz FUZZTIME=10m for a long run).
FUZZ_TARGETS := ./pec:FuzzParse ./report:FuzzGrade ./report:FuzzDaticert ./report:FuzzCMS ./reference/deliverypoint:FuzzBreve ./reference/txlog:FuzzReader ./reference/index:FuzzParseLDIF ./probe:FuzzReadReply
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; echo "fuzz $$fn ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

clean:
	rm -rf $(BIN) $(OUT) .lab
