#!/usr/bin/env bash
# readme_options.sh BUILD_DIR [--update] - the README's option reference is
# each service's own --help-markdown, pasted between the markers
# "<!-- BEGIN options PROG -->" and "<!-- END options PROG -->".  Prints
# the README as it should be; with --update, writes it.  Exit 1 when a
# service has no markers in the README.
set -eu
build=$1
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out" "$out.table"' EXIT
cp README.md "$out"
for prog in novafs novafs-compute novafs-scheduler novafs-network; do
	"$build/$prog" --help-markdown >"$out.table"
	grep -qx "<!-- BEGIN options $prog -->" "$out" || { echo "README.md: no options markers for $prog" >&2; exit 1; }
	awk -v prog="$prog" -v table="$out.table" '
		$0 == "<!-- BEGIN options " prog " -->" {
			print; while ((getline line < table) > 0) print line; skip = 1; next
		}
		$0 == "<!-- END options " prog " -->" { skip = 0 }
		!skip' "$out" >"$out.new"
	mv "$out.new" "$out"
done
if [ "${2:-}" = --update ]; then cp "$out" README.md; else cat "$out"; fi
