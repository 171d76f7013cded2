#!/usr/bin/env bash
# t0610-history.sh - nas-history names its columns, and --fields picks them
# by name, so scripts never count columns.
. "$(dirname "$0")/lib.sh"

bin/show-genotype --quiet nasnet-a -o "$tmp/a.h5" >/dev/null
bin/score --quiet --failed "boom" "$tmp/a.h5" >/dev/null
t "a failed child's reward file" '[ -s "$tmp/a.reward.h5" ]'
expect 0 "nas-history prints the default table" bin/nas-history "$tmp/a.reward.h5"
t "header names the default columns" \
	'[ "$(head -n 1 "$tmp/out")" = "$(printf "round\tindex\treward\taccuracy\tparams\tmult_adds\tstatus\tgenotype\trung\tepochs")" ]'
expect 0 "--fields reward,status" bin/nas-history --fields reward,status "$tmp/a.reward.h5"
t "just those columns, header first" \
	'[ "$(cat "$tmp/out")" = "$(printf "reward\tstatus\n0.000000\tfailed: boom")" ]'
expect 0 "--fields with --no-header, timing and default columns mixed" \
	bin/nas-history --no-header --fields status,file,round "$tmp/a.reward.h5"
t "columns in the order asked" '[ "$(cat "$tmp/out")" = "$(printf "failed: boom\t%s\t-1" "$tmp/a.reward.h5")" ]'
expect 2 "an unknown column is a usage error" bin/nas-history --fields reward,bogus "$tmp/a.reward.h5"
one_line_err "unknown column 'bogus'" "unknown column: one line naming it"
finish
