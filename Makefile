# The two commands of the README, and their building blocks.
#   make demo   install what is missing, build, run the crash demo
#   make test   install what is missing, build, run every test, plain and
#               under ASan+UBSan
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all deps build build-asan demo test test-plain test-asan bench clean

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

test: test-plain test-asan
	@./scripts/test-summary.sh $(BUILD) $(ASAN_BUILD)

bench: build
	@./bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
