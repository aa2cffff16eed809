# pecspec — the two promised commands are `make run` and `make test` (README).
GO      ?= go
BIN     := bin
OUT     ?= out
DEBS    := softhsm2 slapd ldap-utils clamav clamav-daemon dovecot-imapd dovecot-pop3d dnsmasq-base libxml2-utils openssl curl ca-certificates chromium fonts-dejavu-core poppler-utils
# FUZZTIME empty: each target's execution budget below; a duration (10m) or a
# count (1000000x) applies to every target.
FUZZTIME ?=
export CGO_ENABLED := 1

.PHONY: all setup build run test test-short lint bench load chaos fuzz clean

all: build

# setup installs the Debian packages the lab needs, only the missing ones, and
# downloads the Go modules. It leaves a stamp: make build and make run skip it
# while the stamp is newer than the Makefile (the DEBS list) and go.mod/go.sum
# (make setup runs it again).
SETUP_STAMP := $(BIN)/.setup-done
setup:
	@rm -f $(SETUP_STAMP)
	@$(MAKE) --no-print-directory $(SETUP_STAMP)

$(SETUP_STAMP): Makefile go.mod go.sum
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	$(GO) mod download
	@mkdir -p $(BIN) && touch $@

# The commit the binaries are built from, for pecspec version and the reports:
# the go command records it itself in a clone, not in a git worktree.
VCS_REVISION := $(shell git rev-parse HEAD 2>/dev/null)
VCS_MODIFIED := $(shell git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo true)
GOLDFLAGS := -X github.com/pecspec/pecspec/internal/version.revision=$(VCS_REVISION) \
	-X github.com/pecspec/pecspec/internal/version.modified=$(VCS_MODIFIED)

build: $(SETUP_STAMP)
	$(GO) build -buildvcs=auto -ldflags '$(GOLDFLAGS)' -o $(BIN)/ ./cmd/pecspec ./cmd/pecref

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
		grep -E '^(certified|50 MB|500-recipient|16 refused)|^(--- )?FAIL|^ok'

# load: service levels of the reference pair under load, ramping to the knee
# (pecspec load; docs/performance.md); load.json and load.html in $(OUT)/load.
load: build
	$(BIN)/pecspec load --target reference --ramp --rate 10 --duration 20s --out $(OUT)/load

# chaos: 1,000 certified messages alpha ⇄ beta through a fault-injecting
# proxy while alpha, beta, clamd and slapd are killed and restarted and slapd
# is frozen for 30 s; then exactly-once, the registri and peak memory are
# checked and the figures printed (internal/chaos, docs/reliability.md). Then
# a connection to IMAPS/POP3S that never starts TLS must be closed by Dovecot
# (its fixed 3-minute login timeout). Not part of make test: it takes minutes.
chaos: build
	PECSPEC_CHAOS=1 $(GO) test -count=1 -timeout 30m -run '^TestChaos$$' -v ./internal/chaos
	PECSPEC_CHAOS=1 $(GO) test -count=1 -timeout 5m -run '^TestNoTLSIsClosed$$' -v ./reference/lab

# fuzz runs every fuzz target for an execution count each (pkg:Fn:count), or for
# FUZZTIME when given (make fuzz FUZZTIME=10m for a long run). Counts, not
# durations, by default: a duration -fuzztime can fail with a bare "context
# deadline exceeded" at its end, a race in Go 1.26's fuzz coordinator
# (go.dev/issue/75804, fixed in Go 1.27), which must not fail make test.
FUZZ_TARGETS := ./pec:FuzzParse:30000 ./pec:FuzzPartsLenient:50000 ./report:FuzzGrade:3000 ./report:FuzzDaticert:60000 ./report:FuzzCMS:6000 \
	./reference/deliverypoint:FuzzBreve:60000 ./reference/txlog:FuzzReader:100000 \
	./reference/index:FuzzParseLDIF:50000 ./probe:FuzzReadReply:30000 ./probe:FuzzReadMultiline:30000 \
	./reference/antivirus:FuzzCheckStructure:50000 ./probe/load:FuzzArrivalParsing:30000 \
	./probe:FuzzIMAPScanner:50000 ./report:FuzzBERScanner:50000
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; fn=$${rest%%:*}; n=$${rest##*:}; \
		budget="$(FUZZTIME)"; [ -n "$$budget" ] || budget="$${n}x"; \
		echo "fuzz $$fn ($$pkg, $$budget)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $$budget $$pkg || exit 1; \
	done

clean:
	rm -rf $(BIN) $(OUT) .lab
