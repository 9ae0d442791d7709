#!/usr/bin/env bash
# `make install`: the two binaries, their manual pages and bpfleet's shell
# completions, under DESTDIR/PREFIX (docs/cli.md, "Man pages and
# completions"; docs/deploy.md for the node's own files).
#
#   PREFIX      where to install (default /usr/local)
#   DESTDIR     a staging root prepended to every path (packaging); empty
#   BUILD_DIR   install the bpfleet and bpfleetd found there, as built,
#               with the pages already in MAN_DIR (`scripts/man.sh`), and
#               build nothing; the tests install the debug build this way.
#               Unset: build release first (swift build -c release
#               $SWIFT_BUILD_FLAGS) and generate the pages.
#   MAN_DIR     the generated pages (default .build/man)
#
#   $PREFIX/bin/bpfleet                                 the command line
#   $PREFIX/sbin/bpfleetd                               the node server (the systemd unit's ExecStart)
#   $PREFIX/share/man/man1/bpfleet.1, man8/bpfleetd.8   the manual
#   $PREFIX/share/bash-completion/completions/bpfleet   bash
#   $PREFIX/share/zsh/site-functions/_bpfleet           zsh
#   $PREFIX/share/fish/vendor_completions.d/bpfleet.fish fish
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

prefix=${PREFIX:-/usr/local}
man_dir=${MAN_DIR:-.build/man}
build_dir=${BUILD_DIR:-}

if [ -z "$build_dir" ]; then
    # The pages first: the plugin builds with its own flags, and the
    # binaries installed must be the ones built with SWIFT_BUILD_FLAGS.
    scripts/man.sh release
    # shellcheck disable=SC2086 # SWIFT_BUILD_FLAGS is a list of flags
    swift build -c release ${SWIFT_BUILD_FLAGS:-}
    # shellcheck disable=SC2086
    build_dir=$(swift build -c release ${SWIFT_BUILD_FLAGS:-} --show-bin-path)
fi

for file in "$build_dir/bpfleet" "$build_dir/bpfleetd" "$man_dir/bpfleet.1" "$man_dir/bpfleetd.8"; do
    if [ ! -f "$file" ]; then
        echo "install: $file is missing (build first; the pages: scripts/man.sh)" >&2
        exit 1
    fi
done

# The completion scripts, made by bpfleet itself, before anything is
# installed: a command that cannot make them installs nothing.
completions=$(mktemp -d)
trap 'rm -rf "$completions"' EXIT
for shell in bash zsh fish; do
    "$build_dir/bpfleet" --generate-completion-script "$shell" > "$completions/$shell"
done

root="${DESTDIR:-}$prefix"
install -D -m 0755 "$build_dir/bpfleet" "$root/bin/bpfleet"
install -D -m 0755 "$build_dir/bpfleetd" "$root/sbin/bpfleetd"
install -D -m 0644 "$man_dir/bpfleet.1" "$root/share/man/man1/bpfleet.1"
install -D -m 0644 "$man_dir/bpfleetd.8" "$root/share/man/man8/bpfleetd.8"
install -D -m 0644 "$completions/bash" "$root/share/bash-completion/completions/bpfleet"
install -D -m 0644 "$completions/zsh" "$root/share/zsh/site-functions/_bpfleet"
install -D -m 0644 "$completions/fish" "$root/share/fish/vendor_completions.d/bpfleet.fish"
