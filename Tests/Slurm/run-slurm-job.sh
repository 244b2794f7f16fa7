#!/usr/bin/env bash
# Starts a one-node Slurm (munge, slurmctld, slurmd) on this machine, submits Launch/slurm.sbatch
# with 2 tasks, waits for it and prints what happened; always stops the daemons again.
#
#   Tests/Slurm/run-slurm-job.sh SITELENS_BIN WORKDIR
#
# Under Launch/cluster (SITELENS_CLUSTER_NODES set) it is a Slurm of that many nodes instead: the
# controller on the head node0, one slurmd per node (each in its node's namespace, with its own
# hostname, spool, pid and log files), and the job asks for every node with one task each.
#
# Prints "job-state=..." "exit-code=..." "run-dir=..." and the job's log. Exits 77 with a
# "cannot-run:" line when Slurm cannot run here (not root, daemons missing), 0 when the job
# completed, 1 otherwise.
set -uo pipefail
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; WORK="$2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

for tool in slurmctld slurmd sbatch squeue scontrol sinfo munged; do
    command -v "$tool" >/dev/null 2>&1 || { echo "cannot-run: $tool is not installed (Debian: slurm-wlm munge)"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "cannot-run: the test daemons need root"; exit 77; }

# One test Slurm at a time: they share munged, which the one that started it stops.
mkdir -p /run/lock
exec 8>/run/lock/sitelens-slurm-test.lock
flock 8

mkdir -p "$WORK/state" "$WORK/spool" "$WORK/runs"
NODES="${SITELENS_CLUSTER_NODES:-}"
if [ -n "$NODES" ]; then
    HOST=node0 CPUS="$(nproc)"   # every node sees the machine's cores
    NODE_LINE="NodeName=node[1-$NODES] NodeAddr=10.231.0.[11-$((10 + NODES))] CPUs=$CPUS State=UNKNOWN"
    TASKS=(--nodes="$NODES" --ntasks-per-node=1)
else
    HOST="$(hostname -s)" CPUS="$(nproc)"
    NODE_LINE="NodeName=$HOST CPUs=$CPUS State=UNKNOWN"
    TASKS=(--ntasks=2)
fi
sed -e "s|@HOST@|$HOST|g" -e "s|@DIR@|$WORK|g" -e "s|@NODES@|$NODE_LINE|" \
    -e "s|@CTLD_PORT@|${SITELENS_SLURMCTLD_PORT:-16817}|" -e "s|@D_PORT@|${SITELENS_SLURMD_PORT:-16818}|" \
    "$ROOT/Tests/Slurm/slurm.conf.in" > "$WORK/slurm.conf"
export SLURM_CONF="$WORK/slurm.conf"

PIDS=()
STARTED_MUNGED=""
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    if [ -n "$STARTED_MUNGED" ]; then pkill -x -u munge munged 2>/dev/null; fi
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
}
trap cleanup EXIT

# Daemons get no descriptor of ours beyond stdin/stdout/stderr (which go to their logs): a
# daemon holding the caller's pipes open would keep the caller waiting after this script ends.
daemon() {
    local log="$1"; shift
    (
        for fd in /proc/self/fd/*; do
            fd="${fd##*/}"
            [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
        done
        exec "$@" < /dev/null > "$log" 2>&1
    ) &
    PIDS+=($!)
}

# munge refuses to run as root, and needs its socket folder owned by its user.
mkdir -p /run/munge && chown munge:munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    (command -v mungekey >/dev/null && mungekey --create --force) || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
if ! munge -n >/dev/null 2>&1; then
    daemon "$WORK/munged.log" runuser -u munge -- munged --force
    STARTED_MUNGED=1
    for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n >/dev/null 2>&1 || { echo "cannot-run: munged did not start: $(tail -3 "$WORK/munged.log")"; exit 77; }

if [ -n "$NODES" ]; then
    # Each daemon under its node's name: slurmctld and slurmd check the host name they run on.
    daemon "$WORK/slurmctld.out" unshare --uts sh -c "hostname node0 && exec slurmctld -D -f '$SLURM_CONF'"
    for k in $(seq 1 "$NODES"); do
        # nsenter, not `ip netns exec`: that mounts a sysfs of its own, hiding the cgroup file
        # system slurmd reads; the node's hosts file is bound in by hand instead, and /tmp is the
        # node's own (PMIx keeps per-step folders there under names that are the same on every node).
        mkdir -p "$WORK/spool/node$k"
        daemon "$WORK/slurmd-node$k.out" nsenter --net="/run/netns/node$k" unshare --uts --mount sh -c \
            "mount --bind /etc/netns/node$k/hosts /etc/hosts && mount -t tmpfs -o size=512m sitelens-node-tmp /tmp && hostname node$k && exec slurmd -D -N node$k -f '$SLURM_CONF'"
    done
else
    daemon "$WORK/slurmctld.out" slurmctld -D -f "$SLURM_CONF"
    mkdir -p "$WORK/spool/$HOST"
    daemon "$WORK/slurmd.out" slurmd -D -N "$HOST" -f "$SLURM_CONF"
fi
state=""
for _ in $(seq 150); do
    state="$(sinfo -h -o %t 2>/dev/null | sort -u | tr '\n' ' ' | sed 's/ $//')"
    [ "$state" = idle ] && break
    sleep 0.2
done
if [ "$state" != idle ]; then
    echo "cannot-run: the node did not become idle (state '$state')"
    tail -5 "$WORK"/slurmctld.log "$WORK"/slurmd*.log "$WORK"/*.out 2>/dev/null
    exit 77
fi

cd "$WORK"
JOB="$(SITELENS_BIN="$BIN" SITELENS_RUNS="$WORK/runs" \
       SITELENS_TRAIN_ARGS="--ensemble 2 --epochs 60 --learning-rate 0.01 --print-every 20" \
       sbatch --parsable "${TASKS[@]}" --export=ALL "$ROOT/Launch/slurm.sbatch")" || { echo "sbatch failed"; exit 1; }
JOB="${JOB%%;*}"
echo "job-id=$JOB"
for _ in $(seq 600); do
    [ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] && break
    sleep 0.5
done
INFO="$(scontrol show job "$JOB" 2>/dev/null)"
echo "job-state=$(echo "$INFO" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)"
echo "exit-code=$(echo "$INFO" | grep -o ' ExitCode=[0-9:]*' | cut -d= -f2)"
echo "run-dir=$WORK/runs/slurm-$JOB"
echo "--- job log"
cat "$WORK/sitelens-$JOB.out" 2>/dev/null
echo "$INFO" | grep -q 'JobState=COMPLETED' && exit 0
exit 1
