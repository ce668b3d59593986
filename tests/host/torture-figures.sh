#!/usr/bin/env bash
# make torture's figures table adds figures up whole, past 2^31 too (Debian's awk, mawk, clamps
# printf %d to 2147483647 and prints large sums as 4e+09), and counts a name it never saw as 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
f=$(mktemp)
trap 'rm -f "$f"' EXIT
printf 'bytes_verified 2000000000\nbytes_verified 2000000001\nlost_bytes 0\n' > "$f"
out=$(tests/torture-figures "$f")
grep -Eq '^  bytes verified +4000000001$' <<<"$out" || { echo "bytes not summed whole: $out"; exit 1; }
grep -Eq '^  leaked devices +0$' <<<"$out" || { echo "an absent figure is not 0: $out"; exit 1; }
