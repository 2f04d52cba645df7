#!/bin/sh
# test_install.sh BUILD_DIR SOURCE_DIR — what a user installs works alone.
#
# Installs the build into a temporary DESTDIR, builds a service and a
# client outside the tree with `pkg-config --cflags --libs revive` and
# nothing else, runs them under the *installed* revived, and kills the
# service with SIGKILL while a request is in flight: the client's calls must
# still return 1, 2, 3, 4. Also: the installed revived does not look in the
# build tree for services, and its version is the library's.
set -eu
build=$1
src=$2
tmp=$(mktemp -d /tmp/rv-install-XXXXXX)
revived_pid=
cleanup() {
    [ -n "$revived_pid" ] && kill "$revived_pid" 2>/dev/null && wait "$revived_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "test_install: $*" >&2; exit 1; }

meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >/dev/null
root=$tmp/root
pc=$(find "$root" -name revive.pc | head -n1)
[ -n "$pc" ] || fail "no revive.pc installed"
revived=$(find "$root" -name revived -type f | head -n1)
revivectl=$(find "$root" -name revivectl -type f | head -n1)
lib=$(dirname "$(find "$root" -name 'librevive.so.0' | head -n1)")
[ -x "$revived" ] && [ -x "$revivectl" ] && [ -d "$lib" ] || fail "revived, revivectl or librevive.so.0 not installed"
for page in revived.8 revivectl.1 revive-manifest.5 librevive.3; do
    [ -n "$(find "$root" -name "$page")" ] || fail "man page $page not installed"
done
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$root" LD_LIBRARY_PATH="$lib"

# built out of the tree, with pkg-config alone
flags=$(pkg-config --cflags --libs revive)
cc -Wall -Wextra -Werror -o "$tmp/counter-svc" "$src/tests/install/counter_svc.c" $flags
cc -Wall -Wextra -Werror -o "$tmp/counter-client" "$src/tests/install/counter_client.c" $flags

# the installed revived: its version, and no trace of the build tree
[ "$("$revived" --version)" = "revived $(pkg-config --modversion revive)" ] || fail "revived --version: $("$revived" --version)"
"$revived" --help | grep -q "$(cd "$build" && pwd)" && fail "the installed revived looks in the build tree: $("$revived" --help | tail -n1)"

# The service runs as a user of its own, confined to its paths
# (docs/sandbox.md): it reads its libraries and writes its FIFO in $tmp.
cat > "$tmp/manifest.ini" <<INI
[service counter]
exec = $tmp/counter-svc
args = --fifo $tmp/slow
ssr_size = 64
write_paths = $tmp
INI
mkfifo "$tmp/ready" "$tmp/slow"
chmod 711 "$tmp"
chmod 666 "$tmp/slow"
REVIVE_READY_FD=3 "$revived" --foreground --manifest "$tmp/manifest.ini" --socket "$tmp/revived.sock" \
    2>"$tmp/revived.log" 3>"$tmp/ready" &
revived_pid=$!
head -c 6 "$tmp/ready" >/dev/null

# The FIFO's reader is open before the client starts: the service opens
# it without blocking, and would not wait for a reader that came later.
exec 4<>"$tmp/slow"
"$tmp/counter-client" "$tmp/revived.sock" 4<&- >"$tmp/client.out" 2>&1 &
client=$!
head -c 1 <&4 >/dev/null              # SLOW is in the service, journaled, half-served
exec 4<&-
rm "$tmp/slow"                        # the re-run must not wait
"$revivectl" --socket "$tmp/revived.sock" kill counter --signal KILL
wait "$client" || { cat "$tmp/client.out" "$tmp/revived.log" >&2; fail "the client saw the kill"; }
"$revivectl" --socket "$tmp/revived.sock" status | grep -q "killed by SIGKILL" || fail "no restart recorded"
echo "test_install: built against the install, served through a SIGKILL: $(tr '\n' ' ' <"$tmp/client.out")"
