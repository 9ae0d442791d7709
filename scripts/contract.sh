#!/usr/bin/env bash
# Writes the protocol's contract from the method types in Sources/Shared:
# docs/openrpc.json (what rpc.discover answers) and docs/api.md. The
# contract test fails when either differs from what the code makes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
swift build --product bpfleet
bin=$(swift build --show-bin-path)
"$bin/bpfleet" protocol openrpc > docs/openrpc.json
"$bin/bpfleet" protocol reference > docs/api.md
echo "contract: wrote docs/openrpc.json and docs/api.md"
