#!/usr/bin/env bash
# help2man.sh TOOL VERSION - a man page (roff, section 1) from TOOL's --help
# text on stdin. The page is made at build time from the text the tool prints,
# so the two cannot drift: the first "usage:" line is the synopsis, the first
# sentence after it the description, and the whole text is the page's body.
set -eu -o pipefail
tool=$1 version=$2
text=$(cat)
[ -n "$text" ] || { echo "help2man.sh: $tool: empty --help text" >&2; exit 1; }
synopsis=$(sed -n 's/^usage: //p' <<<"$text" | head -1)
# the first sentence after the usage lines (and their indented continuations)
desc=$(awk 'NR == 1 || (u && /^([ \t]|$)/) { u = 1; next } { u = 0; print }' <<<"$text" |
	awk 'NF { p = p $0 " "; next } p { exit } END { print p }' |
	sed -e 's/\([^.]\)[.] .*/\1/' -e 's/ *$//' -e 's/[.]$//')
# roff: a backslash is \e; a line starting with . or ' would be a request
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
cat <<ROFF
.TH $(tr '[:lower:]' '[:upper:]' <<<"$tool") 1 "" "nasnet-c $version" "nasnet-c manual"
.SH NAME
$tool \\- $(esc <<<"$desc")
.SH SYNOPSIS
.B $(esc <<<"${synopsis%% *}")
$(esc <<<"${synopsis#* }")
.SH DESCRIPTION
The text of
.BR "$tool --help" :
.PP
.nf
$(esc <<<"$text")
.fi
.SH SEE ALSO
The nasnet-c README and the file formats in
.IR PREFIX/share/nasnet-c/schemas/ .
ROFF
