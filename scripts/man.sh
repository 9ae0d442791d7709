#!/usr/bin/env bash
# The manual pages, generated from the command definitions by
# swift-argument-parser's GenerateManual plugin (docs/cli.md, "Man pages
# and completions"): bpfleet.1 and bpfleetd.8 in .build/man/ (MAN_DIR).
#
#   scripts/man.sh [debug|release]     (default: debug)
#
# The plugin builds the package in that configuration (a no-op when it is
# built), runs each executable with --experimental-dump-help and writes an
# mdoc page for it. It takes one --section for every executable, so it runs
# twice: section 1 for the command line, section 8 for the daemon. The
# pages are generated, never committed: `make install` and `make test` make
# them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

configuration=${1:-debug}
man_dir=${MAN_DIR:-.build/man}
# Where the plugin writes, one directory per executable target.
outputs=.build/plugins/GenerateManual/outputs

rm -rf "$outputs"
swift package generate-manual --configuration "$configuration" --section 1 >/dev/null
swift package generate-manual --configuration "$configuration" --section 8 >/dev/null
install -D -m 0644 "$outputs/bpfleet/bpfleet.1" "$man_dir/bpfleet.1"
install -D -m 0644 "$outputs/bpfleetd/bpfleetd.8" "$man_dir/bpfleetd.8"
