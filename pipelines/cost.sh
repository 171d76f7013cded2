#!/usr/bin/env bash
# cost.sh check|sample-flags|score-flags - the cost-aware settings of a search
# (MAX_PARAMS, MAX_MACS, TRANSFER_N, TRANSFER_F, REWARD, TARGET_MACS,
# TARGET_LATENCY_MS, REWARD_W; pipelines/search.mk, schemas/run.md).
#   check         refuse a bad value: one line naming the variable, exit 2
#   sample-flags  sample-arch's budget flags, one a line
#   score-flags   score's reward flags, one a line
set -eu
: "${SPACE:=nasnet}" "${MAX_PARAMS:=0}" "${MAX_MACS:=0}" "${TRANSFER_N:=}" "${TRANSFER_F:=}"
: "${REWARD:=accuracy}" "${TARGET_MACS:=}" "${TARGET_LATENCY_MS:=}" "${REWARD_W:=-0.07}"

bad() { echo "search: $1='${!1}': $2" >&2; exit 2; }
uint() { [[ ${!1} =~ ^[0-9]+$ ]] && [ ${#1} -le 18 ] || bad "$1" "$2"; }
number() { [[ ${!1} =~ ^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$ ]] || bad "$1" "$2"; }

case ${1:-} in
check)
	uint MAX_PARAMS "expected a non-negative integer (0: no limit)"
	uint MAX_MACS "expected a non-negative integer (0: no limit)"
	for v in TRANSFER_N TRANSFER_F; do
		[ -z "${!v}" ] || { [[ ${!v} =~ ^[1-9][0-9]{0,3}$ ]] || bad $v "expected a positive integer, or empty for the child's size"; }
	done
	case $REWARD in accuracy | cube | mnasnet | mnasnet-hard) ;;
	*) bad REWARD "expected accuracy, cube, mnasnet or mnasnet-hard" ;; esac
	[ -z "$TARGET_MACS" ] || uint TARGET_MACS "expected a positive integer"
	[ "${TARGET_MACS:-1}" != 0 ] || bad TARGET_MACS "expected a positive integer"
	[ -z "$TARGET_LATENCY_MS" ] || number TARGET_LATENCY_MS "expected a positive number of milliseconds"
	[ -z "$TARGET_LATENCY_MS" ] || awk -v x="$TARGET_LATENCY_MS" 'BEGIN { exit !(x > 0) }' ||
		bad TARGET_LATENCY_MS "expected a positive number of milliseconds"
	number REWARD_W "expected a number (the MnasNet exponent, e.g. -0.07)"
	case $REWARD in
	mnasnet*)
		[ -n "$TARGET_MACS$TARGET_LATENCY_MS" ] || bad REWARD "needs TARGET_MACS or TARGET_LATENCY_MS"
		[ -z "$TARGET_MACS" ] || [ -z "$TARGET_LATENCY_MS" ] || bad TARGET_MACS "give TARGET_MACS or TARGET_LATENCY_MS, not both" ;;
	*)
		[ -z "$TARGET_MACS" ] || bad TARGET_MACS "is for REWARD=mnasnet or mnasnet-hard"
		[ -z "$TARGET_LATENCY_MS" ] || bad TARGET_LATENCY_MS "is for REWARD=mnasnet or mnasnet-hard" ;;
	esac
	if [ "$SPACE" = nb201 ]; then
		[ "$MAX_PARAMS$MAX_MACS" = 00 ] || bad MAX_PARAMS "budgets need a cell space (SPACE=nasnet or enas); nb201 children are looked up"
		[ "$REWARD" = accuracy ] || bad REWARD "needs a cell space (SPACE=nasnet or enas); nb201 children are looked up"
	fi
	;;
sample-flags)
	[ "$MAX_PARAMS" = 0 ] || printf '%s\n' --max-params "$MAX_PARAMS"
	[ "$MAX_MACS" = 0 ] || printf '%s\n' --max-macs "$MAX_MACS"
	if [ "$MAX_PARAMS$MAX_MACS" != 00 ]; then
		[ -z "$TRANSFER_N" ] || printf '%s\n' --budget-cells "$TRANSFER_N"
		[ -z "$TRANSFER_F" ] || printf '%s\n' --budget-filters "$TRANSFER_F"
	fi
	;;
score-flags)
	[ "$REWARD" = accuracy ] && exit 0
	printf '%s\n' --reward "$REWARD"
	case $REWARD in mnasnet*)
		[ -z "$TARGET_MACS" ] || printf '%s\n' --target-macs "$TARGET_MACS"
		[ -z "$TARGET_LATENCY_MS" ] || printf '%s\n' --target-latency-ms "$TARGET_LATENCY_MS"
		printf '%s\n' --reward-w "$REWARD_W" ;;
	esac
	;;
*) echo "cost.sh: usage: cost.sh check|sample-flags|score-flags" >&2; exit 2 ;;
esac
