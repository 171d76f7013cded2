#!/usr/bin/env bash
# t0810-ssh.sh - a search round through GNU parallel's --sshloginfile: a real
# sshd on a loopback port with throw-away keys; children run over ssh and
# their rewards come back (shared file system mode, and transfer mode).
. "$(dirname "$0")/lib.sh"
# only this test's folders: its own HOME (GNU parallel keeps ~/.parallel) and
# remote work folder, so that two runs of it never meet
export HOME=$tmp/home
mkdir -p "$HOME"

if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/sshd ]; then
	echo "1..0 # SKIP needs root and openssh-server (make deps-test installs it)"
	exit 0
fi
port=$((20000 + $$ % 20000))
ssh-keygen -q -t ed25519 -N '' -f "$tmp/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/userkey"
cp "$tmp/userkey.pub" "$tmp/authorized_keys"
cat >"$tmp/sshd_config" <<EOS
Port $port
ListenAddress 127.0.0.1
HostKey $tmp/hostkey
AuthorizedKeysFile $tmp/authorized_keys
PidFile $tmp/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
EOS
mkdir -p /run/sshd
/usr/sbin/sshd -f "$tmp/sshd_config" -E "$tmp/sshd.log"
trap 'kill $(cat "$tmp/sshd.pid" 2>/dev/null) 2>/dev/null; rm -rf "$tmp"' EXIT
ssh_cmd="ssh -p $port -i $tmp/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
echo "2/$ssh_cmd root@127.0.0.1" >"$tmp/hosts"
for i in $(seq 50); do $ssh_cmd root@127.0.0.1 true 2>/dev/null && break; sleep 0.1; done
$ssh_cmd root@127.0.0.1 true; rc=$?
t "sshd answers on 127.0.0.1:$port with the throw-away key" '[ $rc = 0 ]'

small_data "$tmp/d.h5" --valid 100 --train-subset 200
search() {
	make --no-print-directory -s search DATA="$tmp/d.h5" ROUNDS=1 CHILDREN=2 CHILD_F=4 \
		CHILD_TRAIN_IMAGES=96 CHILD_BATCH=24 SEED=3 JOBS=2 SSHLOGINFILE="$tmp/hosts" "$@"
}
search RUN="$tmp/shared" >"$tmp/out" 2>&1; rc=$?
t "a round over ssh (shared file system) completes" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/out"
head -3 "$tmp/shared/round-000/joblog" | sed "s/^/# /"
t "the joblog shows the children ran on the ssh host" \
	'[ "$(awk -F"\t" "\$2 ~ /127.0.0.1/" "$tmp/shared/round-000/joblog" | wc -l)" = 2 ]'
t "both children have rewards" '[ "$(ls "$tmp"/shared/round-000/arch_*.reward.h5 | wc -l)" = 2 ]'

# transfer mode: files travel with the job (no shared file system). The run
# folder must be relative for parallel to recreate it in the remote workdir.
rel=runs/.t0810-$$
trap 'kill $(cat "$tmp/sshd.pid" 2>/dev/null) 2>/dev/null; rm -rf "$tmp" "$rel"' EXIT
cp "$tmp/d.h5" "$tmp/d2.h5"
mkdir "$tmp/remote" && touch "$tmp/remote/mine"
SSH_TRANSFER=1 SSH_WORKDIR=$tmp/remote search RUN="$rel" >"$tmp/out" 2>&1; rc=$?
t "a round over ssh in transfer mode completes" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/out"
t "rewards and weights came back" \
	'[ "$(ls "$rel"/round-000/arch_*.reward.h5 | wc -l)" = 2 ] && [ "$(ls "$rel"/round-000/arch_*.weights.h5 | wc -l)" = 2 ]'
t "transfer mode matches the shared mode's history" \
	'cmp -s <(cut -f1-7 "$rel/history.tsv") <(cut -f1-7 "$tmp/shared/history.tsv")'
t "the remote work folder (this test's own) holds no job files" \
	'[ -e "$tmp/remote/mine" ] && [ -z "$(find "$tmp/remote" -name "arch_*")" ]'
finish
