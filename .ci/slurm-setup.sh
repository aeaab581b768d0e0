#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the test of `dmft sweep
# --slurm` (test/slurm/slurm.test.ts): munge for authentication, slurmctld
# and slurmd on localhost, one node (this host) with all its CPUs, one
# partition. Needs root and Debian's slurm-wlm and munge (.ci/run installs
# them). Idempotent: when the node already answers idle, nothing is done.
# Never overwrites a slurm.conf that this script did not write (a real cluster's).
set -eu
MARK='# written by dmftkit .ci/slurm-setup.sh'
CONF=/etc/slurm/slurm.conf
say() { echo "slurm-setup: $*" >&2; }
die() { say "$*"; exit 1; }

node=$(hostname -s)
idle() { sinfo -h -N -n "$node" -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; }
if command -v sinfo >/dev/null 2>&1 && idle; then say "node $node is up"; exit 0; fi

[ "$(id -u)" = 0 ] || die "needs root (it writes $CONF and starts munged, slurmctld and slurmd)"
for c in munged slurmctld slurmd sinfo; do
  command -v "$c" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin" command -v "$c" >/dev/null 2>&1 \
    || die "$c not found: install Debian's slurm-wlm and munge (apt-get install slurm-wlm munge)"
done
export PATH="$PATH:/usr/sbin"
if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
  die "$CONF exists and was not written by this script: not touching a real cluster's configuration"
fi

# munge: a key (the package creates one; make sure), its run and log directories, the daemon as user munge
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
[ -s /etc/munge/munge.key ] || { mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=128 2>/dev/null; }
chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
if ! munge -n </dev/null >/dev/null 2>&1; then
  runuser -u munge -- munged || die "munged did not start (see /var/log/munge/munged.log)"
  for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n </dev/null | unmunge >/dev/null || die "munge does not work (see /var/log/munge/munged.log)"
fi

# slurm: one node, this host, reached on the loopback address; no cgroups, no accounting
cpus=$(nproc)
mem=$(awk '/MemTotal/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)
install -d -m 0755 /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/slurm
cat >"$CONF" <<EOF
$MARK
ClusterName=dmftkit-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SlurmdTimeout=60
InactiveLimit=0
MinJobAge=300
KillWait=5
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
# no cgroup.conf: slurmd 22.05 loads a cgroup plugin even with proctrack/linuxproc
# and task/none, and autodetection (v1 or v2) is what works in a container

pgrep -x slurmctld >/dev/null || slurmctld || die "slurmctld did not start (see /var/log/slurm/slurmctld.log)"
pgrep -x slurmd >/dev/null || slurmd || die "slurmd did not start (see /var/log/slurm/slurmd.log)"
for _ in $(seq 150); do idle && { say "node $node is up ($cpus CPUs)"; exit 0; }; sleep 0.2; done
scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true
for _ in $(seq 50); do idle && { say "node $node is up ($cpus CPUs)"; exit 0; }; sleep 0.2; done
sinfo -N >&2 || true
tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
die "the node $node did not become idle within 40 s"
