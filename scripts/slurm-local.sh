#!/usr/bin/env bash
# A single-node SLURM on this machine, for the SLURM integration test (tests/slurm.rs) and for trying
# `lieflow slurm --submit` without a cluster.
#
#   scripts/slurm-local.sh start    install slurm-wlm and munge if missing (Debian, as root), start munged,
#                                   write a slurm.conf with this host as controller and only node, start
#                                   slurmctld and slurmd, wait until the node is idle
#   scripts/slurm-local.sh stop     stop the daemons this script started (by their pid files)
#   scripts/slurm-local.sh env      print the `export SLURM_CONF=…` line the SLURM commands need
#
# Everything (configuration, state, spool, logs, pid files) lives in $LIEFLOW_SLURM_DIR (default
# /tmp/lieflow-slurm); /etc/slurm is not touched. Commands find the configuration through SLURM_CONF, which
# tests/slurm.rs sets from the same folder.
set -euo pipefail

dir=${LIEFLOW_SLURM_DIR:-/tmp/lieflow-slurm}
conf=$dir/slurm.conf

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "slurm-local.sh: run as root (it starts munged, slurmctld and slurmd)" >&2
    exit 1
  fi
}

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
     && command -v sbatch >/dev/null; then
    return
  fi
  if ! command -v apt-get >/dev/null; then
    echo "slurm-local.sh: slurm-wlm and munge are missing and there is no apt-get to install them" >&2
    exit 1
  fi
  echo "installing slurm-wlm and munge (apt-get)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    return # a munged is already running
  fi
  if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile=/etc/munge/munge.key
    else
      dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    fi
    chown munge:munge /etc/munge/munge.key 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  munged --force --pid-file="$dir/munged.pid"
  for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "slurm-local.sh: munged did not come up" >&2
  exit 1
}

write_conf() {
  local host node
  host=$(hostname -s)
  # The node line as slurmd detects this machine (CPUs, sockets, cores, threads, memory), so it is not drained.
  node=$(slurmd -C | head -n 1)
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  cat >"$conf" <<EOF
# Written by lieflow scripts/slurm-local.sh: a single-node cluster for tests.
ClusterName=lieflow-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
MaxArraySize=10001
$node State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  need_root
  install_packages
  mkdir -p "$dir"
  start_munge
  write_conf
  export SLURM_CONF=$conf
  alive "$dir/slurmctld.pid" || slurmctld -f "$conf"
  alive "$dir/slurmd.pid" || slurmd -f "$conf"
  local state=""
  for _ in $(seq 150); do
    state=$(sinfo -h -N -o '%t' 2>/dev/null | head -n 1 || true)
    case $state in
      idle*|mix*|alloc*) echo "SLURM is up: node $(hostname -s) $state; export SLURM_CONF=$conf"; return ;;
      drain*|down*) scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.2
  done
  echo "slurm-local.sh: the node did not become idle (state: ${state:-none}); see $dir/log/" >&2
  exit 1
}

stop_pid() {
  local f=$1
  if alive "$f"; then
    local pid
    pid=$(cat "$f")
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$f"
}

stop() {
  need_root
  stop_pid "$dir/slurmd.pid"
  stop_pid "$dir/slurmctld.pid"
  stop_pid "$dir/munged.pid" # only a munged this script started
  echo "SLURM stopped"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
