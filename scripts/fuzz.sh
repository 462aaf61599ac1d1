#!/usr/bin/env bash
# fuzz.sh MODULE...
#
# Runs every Fuzz target of the given modules for FUZZTIME (default 5s) each,
# one target at a time (go test -fuzz takes one target of one package). Each
# target starts from its seeds: the f.Add calls, which read testdata/, and
# testdata/fuzz/FuzzName/. A failure leaves the input that broke it in
# testdata/fuzz/FuzzName/ for go test to replay, and fails the script.
set -euo pipefail

fuzztime=${FUZZTIME:-5s}
status=0
for module in "$@"; do
	# go test -list prints each package's matching names, then "ok <package>".
	targets=()
	while read -r first second _; do
		case $first in
		Fuzz*) targets+=("$first") ;;
		ok)
			for target in "${targets[@]}"; do
				echo "== fuzz $second $target ($fuzztime)"
				(cd "$module" && go test -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" "$second") || status=1
			done
			targets=()
			;;
		esac
	done < <(cd "$module" && go test -list '^Fuzz' ./...)
done
exit $status
