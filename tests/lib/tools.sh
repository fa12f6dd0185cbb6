# tools.sh - what ansible.sh and puppet.sh share: running a config
# management tool against the mount, and the checks on what it left.
#
#   ansible_run ARG...   ansible-playbook on localhost, its output in
#                        $TEST_TMP/run.out, its exit status returned
#   puppet_run ARG...    puppet apply --detailed-exitcodes (0: no change,
#                        2: changes, 4/6: failures), the same way
#   run_changed          changed=N of Ansible's recap
#   readme_block NAME    the code between <!-- BEGIN NAME --> and
#                        <!-- END NAME --> in README.md, fences removed
#   sticks_or_refused DESC FMT WANT BEFORE CMD...
#                        CMD either succeeds and stat -c FMT of $STAT_PATH
#                        then says WANT, or fails saying why and stat
#                        still says BEFORE: never success and something else.
# Every tool keeps its state in $TEST_TMP; nothing is read from /etc or $HOME.

TOOLS=$TEST_TMP/tools
mkdir -p "$TOOLS"
DATA=$PWD/tests/data

ansible_run() {
	env ANSIBLE_CONFIG="$TOOLS/ansible.cfg" ANSIBLE_HOME="$TOOLS/ansible" \
		ANSIBLE_LOCAL_TEMP="$TOOLS/ansible-local" ANSIBLE_REMOTE_TEMP="$TOOLS/ansible-remote" \
		ANSIBLE_NOCOWS=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_NOCOLOR=1 \
		ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_GATHERING=explicit \
		ANSIBLE_DEPRECATION_WARNINGS=0 \
		ansible-playbook -i localhost, -c local "$@" >"$TEST_TMP/run.out" 2>&1
}
: >"$TOOLS/ansible.cfg"

run_changed() { sed -n 's/^localhost *: .*changed=\([0-9]*\).*/\1/p' "$TEST_TMP/run.out"; }

puppet_run() {
	env HOME="$TOOLS" puppet apply --detailed-exitcodes --color=false \
		--modulepath="$TOOLS/puppet/modules" --vardir="$TOOLS/puppet/var" \
		--confdir="$TOOLS/puppet/conf" --codedir="$TOOLS/puppet/code" \
		--logdir="$TOOLS/puppet/log" --rundir="$TOOLS/puppet/run" \
		--publicdir="$TOOLS/puppet/public" "$@" >"$TEST_TMP/run.out" 2>&1
}
mkdir -p "$TOOLS/puppet/modules"

# run_out_has TEXT: the last run said TEXT.
run_out_has() { grep -q -- "$1" "$TEST_TMP/run.out"; }

# run_diag: the last run's output, as TAP comments.
run_diag() { grep -v '^$' "$TEST_TMP/run.out" | tail -n 25 | sed 's/^/#   /'; }

# check_run DESC WANT_RC CMD...: CMD exits WANT_RC (for Puppet: 0 is
# no change, 2 changes).
check_run() {
	local desc=$1 want=$2 rc; shift 2
	"$@"
	rc=$?
	if [ "$rc" = "$want" ]; then ok "$desc"; else not_ok "$desc (exit $rc, want $want)"; run_diag; fi
}

# check_run_fails DESC TEXT CMD...: CMD fails and its output says TEXT.
check_run_fails() {
	local desc=$1 want=$2 rc; shift 2
	"$@"
	rc=$?
	if [ "$rc" = 0 ]; then
		not_ok "$desc (succeeded)"
	elif run_out_has "$want"; then
		ok "$desc"
	else
		not_ok "$desc (does not say '$want')"; run_diag
	fi
}

readme_block() {
	sed -n "/^<!-- BEGIN $1 -->\$/,/^<!-- END $1 -->\$/p" README.md | sed '1,2d;$d' | sed '$d'
}

sticks_or_refused() {
	local desc=$1 fmt=$2 want=$3 before=$4 got rc; shift 4
	"$@"
	rc=$?
	got=$(stat -c "$fmt" "$STAT_PATH" 2>&1)
	if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
		ok "$desc: sticks"
	elif [ "$rc" != 0 ] && [ "$got" = "$before" ] && run_out_has "Operation not permitted"; then
		ok "$desc: refused (Operation not permitted), unchanged"
	else
		not_ok "$desc: exit $rc, then stat says '$got' (asked '$want', was '$before')"
		run_diag
	fi
}
