#!/usr/bin/env bash
# Every command's --help begins with its usage line (the VM cases need not run them), and
# it (and dmstore help CMD, the same), dmstore(8) and the bash completion agree: the groups and
# subcommands the helps list are the completion's, and every option a help names
# (long ones, and the short ones of its usage lines) is in the man page and in the
# completion's list for that command. Host only: --help needs no pool.
set -euo pipefail
cd "$(dirname "$0")/../.."
dmstore=./dmstore
# The man page's source (scdoc) without its bold marks and escapes: "[*--json*]" reads "[--json]".
page=doc/dmstore.8.scd
man=$(sed -e 's/\\\(.\)/\1/g' -e 's/[*]//g' "$page")
# shellcheck source=/dev/null
. completion/dmstore
failures=()

has_option() { # has_option TEXT OPTION: OPTION as a whole word, not the start of a longer one
	grep -qE -- "(^|[^a-zA-Z0-9-])$2([^a-zA-Z0-9-]|\$)" <<<"$1"
}

options_of() { # the long options a help names, and the short ones of its usage lines
	grep -oE -- '--[a-z][a-z0-9-]*' <<<"$1" | grep -vx -- '--help' || true
	sed '/^$/q' <<<"$1" | grep -oE -- '(^|[[ ])-[a-zA-Z]\b' | tr -d '[ ' | grep -vx -- '-h' || true
}

check() { # check KEY HELP: it begins with its usage line; its options are in the man page and in the completion's list for KEY
	local key=$1 help=$2 opt
	[[ ${help%%$'\n'*} == "usage: dmstore "*"$key"* ]] || failures+=("dmstore $key --help does not begin with its usage: ${help%%$'\n'*}")
	# shellcheck disable=SC2086
	[ "$("$dmstore" help $key)" = "$help" ] || failures+=("'dmstore help $key' is not 'dmstore $key --help'")
	for opt in $(options_of "$help" | sort -u); do
		has_option "$man" "$opt" || failures+=("dmstore $key: $opt is not in dmstore(8)")
		has_option "$(echo ${_dmstore_options[$key]:-})" "$opt" ||
			failures+=("dmstore $key: $opt is not in completion/dmstore")
	done
}

[[ $("$dmstore" --help) == "usage: dmstore "* ]] || failures+=("dmstore --help does not begin with its usage")
groups=$("$dmstore" --help | sed -n 's/^  \([a-z]\+\) .*/\1/p' | tr '\n' ' ')
[ "$groups" = "$_dmstore_groups " ] || failures+=("groups: --help has '$groups', the completion '$_dmstore_groups'")
for opt in $(options_of "$("$dmstore" --help)" | sort -u); do
	has_option "$man" "$opt" || failures+=("dmstore: $opt is not in dmstore(8)")
done
n=0
for g in $groups; do
	help=$("$dmstore" "$g" --help)
	[[ $help == "usage: dmstore "* ]] || failures+=("dmstore $g --help does not begin with its usage: ${help%%$'\n'*}")
	if [[ ${help%%$'\n'*} != *'<command>'* ]]; then
		check "$g" "$help"
		n=$((n + 1))
		continue
	fi
	subs=$(sed -n 's/^  \([a-z]\+\)\( .*\)\?$/\1/p' <<<"$help" | awk '!seen[$0]++' | tr '\n' ' ')
	[ "$subs" = "${_dmstore_subcommands[$g]:-} " ] ||
		failures+=("$g: --help lists '$subs', the completion '${_dmstore_subcommands[$g]:-}'")
	grep -q "^\*$g\b\|^\*dmstore $g\b" "$page" || failures+=("$g: not in dmstore(8)")
	# What the group's help says of all its commands (--pool, --wait) must be documented too.
	for opt in $(options_of "$help" | sort -u); do
		has_option "$man" "$opt" || failures+=("dmstore $g: $opt is not in dmstore(8)")
	done
	for s in $subs; do
		grep -qE "^(\*|## )$g $s\b" "$page" || grep -qE "^\*$g .*\b$s\b" "$page" ||
			failures+=("dmstore $g $s: no entry in dmstore(8)")
		check "$g $s" "$("$dmstore" "$g" "$s" --help)"
		n=$((n + 1))
	done
done
[ "$n" -gt 30 ] || failures+=("only $n commands found: the helps' format changed?")

# The completion itself, driven as bash drives it, with a dmstore that lists one object of each kind.
stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
cat > "$stub/dmstore" <<'STUB'
#!/bin/sh
printf '[\n  {\n    "name":"%s-one",\n    "attachments":[\n      {\n        "name":"not-me"\n      }\n    ]\n  }\n]\n' "$1"
STUB
chmod +x "$stub/dmstore"
complete_line() { # complete_line WORDS...: COMPREPLY for the last word, as one sorted line
	COMP_WORDS=("$stub/dmstore" "$@")
	COMP_CWORD=$#
	_dmstore
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
}
expect_completion() { # expect_completion WANT WORDS...
	local want=$1 got
	shift
	got=$(complete_line "$@")
	[ "$got" = "$want" ] || failures+=("completing '$*': got '$got', want '$want'")
}
expect_completion "pool " po
expect_completion "status " pool s
expect_completion "pool-one " pool activate ""
expect_completion "image-one " snap create c --image ""
expect_completion "vol-one " vol attach --pool p ""
expect_completion "snap-one " vol attach v --container ""
expect_completion "--format " pool status --f
expect_completion "json prometheus table " pool status --format ""
expect_completion "--json " --config /etc/x.conf config --j

if [ ${#failures[@]} -gt 0 ]; then
	printf 'FAIL: %s\n' "${failures[@]}" >&2
	exit 1
fi
