# The two commands of the README, and their building blocks.
#   make demo   install what is missing, build, run the crash demo
#   make test   install what is missing, build, run every test, plain and
#               under ASan+UBSan, then fuzz each parser for FUZZ_CI_SECONDS
#   make fuzz   fuzz each parser with libFuzzer for FUZZ_SECONDS (docs/fuzzing.md);
#               make fuzz-merge does the same, then minimises the corpora
#               into tests/fuzz/corpus
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 60

.PHONY: all deps build build-asan demo test test-plain test-asan fuzz fuzz-ci fuzz-merge bench clean

all: build

deps:
	@./scripts/deps.sh

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) --buildtype=debugoptimized >/dev/null
	@ninja -C $(BUILD)

build-asan: deps
	@[ -f $(ASAN_BUILD)/build.ninja ] || meson setup $(ASAN_BUILD) --buildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	@ninja -C $(ASAN_BUILD)

demo: build
	@./demo/demo.sh $(BUILD)

test-plain: build
	meson test -C $(BUILD) --print-errorlogs --num-processes 2

test-asan: build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN_BUILD) --print-errorlogs --num-processes 2 --no-suite valgrind

fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) ./scripts/fuzz.sh $(FUZZ_BUILD)

fuzz-merge: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) ./scripts/fuzz.sh --merge $(FUZZ_BUILD)

# make test's last phase: a bounded search, after the tests have passed.
fuzz-ci: deps
	@FUZZ_SECONDS=$(FUZZ_CI_SECONDS) ./scripts/fuzz.sh $(FUZZ_BUILD)

test: test-plain test-asan fuzz-ci
	@./scripts/test-summary.sh $(BUILD) $(ASAN_BUILD)

bench: build
	@./bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
