#!/usr/bin/env bash
# A real Slurm cluster run (issue 14): installs Slurm and MUNGE from Debian's packages, starts
# munged, slurmctld and slurmd for one node on this machine (their key, slurm.conf, state, spool
# and logs all under a temporary directory; ports 16817/16818), submits a job array
# `sbatch --array=1-3` whose tasks run `tamga run scenarios/tutorial.toml --runs 30 --seed 7
# --shard auto/3`, merges the parts and checks that summary.json, runs.csv and report.html are
# byte-identical to an unsharded run. Then a 2-task array given `--shard auto/3` must fail with
# the array-size error.
#
# Usage: tools/ci/slurm-cluster-test.sh [TAMGA_BINARY]   (default: target/release/tamga)
# Needs root (the daemons run as root) and a Debian-like system with apt-get. Never skips: if a
# package, daemon or job does not come up it exits non-zero with the daemons' logs on stderr.
# The daemons it started are stopped by their pids on exit, whatever happens.
set -euo pipefail

repo=$(realpath "$(dirname "$0")/../..")
tamga=$(realpath -m "${1:-$repo/target/release/tamga}")
cd "$repo"
scenario=$repo/scenarios/tutorial.toml
runs=30
seed=7
shards=3
# ports away from Slurm's defaults (6817/6818), so a system Slurm cannot get in the way
ctld_port=${TAMGA_CI_SLURMCTLD_PORT:-16817}
slurmd_port=${TAMGA_CI_SLURMD_PORT:-16818}

say() { echo "slurm-cluster-test: $*" >&2; }
fail() {
    say "FAIL: $*"
    exit 1
}

[[ $(id -u) -eq 0 ]] || fail "must run as root (it installs packages and runs slurmd)"
[[ -x $tamga ]] || fail "no tamga binary at $tamga (cargo build --release --locked first)"

start=$SECONDS

# --- packages ------------------------------------------------------------------------------
need=()
for cmd in munged mungekey munge unmunge slurmctld slurmd sbatch sinfo scontrol squeue scancel; do
    command -v "$cmd" >/dev/null || need+=("$cmd")
done
if ((${#need[@]})); then
    say "installing slurm-wlm and munge (missing: ${need[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=120 update -q >/dev/null
    apt-get -o DPkg::Lock::Timeout=120 install -y -q --no-install-recommends slurm-wlm munge >/dev/null
    for cmd in "${need[@]}"; do
        command -v "$cmd" >/dev/null || fail "$cmd is still missing after apt-get install"
    done
fi
say "$(slurmd -V), $(munged -V 2>&1 | head -n 1)"

# --- cleanup: stop what we started, by pid; print logs on failure ----------------------------
tmp=$(mktemp -d /tmp/tamga-slurm-ci.XXXXXX)
chmod 0755 "$tmp"
node=      # this host's short name: the controller's and the one node's
pids=()    # munged slurmctld slurmd, in start order
names=()
jobs_submitted=()

cleanup() {
    local status=$?
    set +e
    if ((${#jobs_submitted[@]})) && [[ -n ${SLURM_CONF:-} ]]; then
        scancel "${jobs_submitted[@]}" 2>/dev/null
    fi
    # let every slurmstepd (slurmd's per-job daemon) finish before slurmd goes: each removes its
    # socket NODE_JOB.STEP from the spool directory when it exits
    for _ in $(seq 150); do
        if [[ -z $node ]] || ! compgen -G "$tmp/spool/${node}_*" >/dev/null; then break; fi
        sleep 0.1
    done
    # stop in reverse order: slurmd, slurmctld, munged
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        local pid=${pids[i]}
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            if kill -0 "$pid" 2>/dev/null; then
                say "${names[i]} (pid $pid) ignored SIGTERM; sending SIGKILL"
                kill -KILL "$pid"
            fi
        fi
        wait "$pid" 2>/dev/null
    done
    if ((status != 0)); then
        for log in "$tmp"/log/*; do
            [[ -s $log ]] || continue
            # in the foreground the daemons write their log to stderr too: show one of the two
            [[ $log == *.stderr && -s ${log%.stderr}.log ]] && continue
            echo "----- $log (last 60 lines) -----" >&2
            tail -n 60 "$log" >&2
        done
        say "failed after $((SECONDS - start)) s"
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$tmp"/{munge,state,spool,log,out,job}
chmod 0755 "$tmp/munge"   # munged: the socket's directory must be executable by all
# is this pid still alive? otherwise fail naming it
alive() { kill -0 "$1" 2>/dev/null || fail "$2 (pid $1) exited; see its log below"; }
# wait_for SECONDS WHAT PID COMMAND...: poll COMMAND until it succeeds, while PID lives
wait_for() {
    local limit=$1 what=$2 pid=$3
    shift 3
    local t0=$SECONDS
    until "$@" >/dev/null 2>&1; do
        alive "$pid" "$what"
        ((SECONDS - t0 < limit)) || fail "$what did not come up within $limit s"
        sleep 0.5
    done
}

# --- munged --------------------------------------------------------------------------------
socket=$tmp/munge/munge.socket
mungekey --create --keyfile="$tmp/munge/munge.key" --bits=1024
munged --foreground --socket="$socket" --key-file="$tmp/munge/munge.key" \
    --pid-file="$tmp/munge/munged.pid" --seed-file="$tmp/munge/munged.seed" \
    --log-file="$tmp/log/munged.log" 2>"$tmp/log/munged.stderr" &
pids+=($!) names+=(munged)
munge_roundtrip() { munge -n -S "$socket" | unmunge -S "$socket"; }
wait_for 30 munged "${pids[-1]}" munge_roundtrip
say "munged up (pid ${pids[-1]})"

# --- slurm.conf ----------------------------------------------------------------------------
node=$(hostname -s)
cpus=$(nproc)
export SLURM_CONF=$tmp/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=tamgaci
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=ci Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF

# --- slurmctld and slurmd ------------------------------------------------------------------
slurmctld -D -i -f "$SLURM_CONF" 2>"$tmp/log/slurmctld.stderr" &
pids+=($!) names+=(slurmctld)
wait_for 60 slurmctld "${pids[-1]}" bash -c 'scontrol ping | grep -q UP'
say "slurmctld up (pid ${pids[-1]})"

slurmd -D -N "$node" -f "$SLURM_CONF" 2>"$tmp/log/slurmd.stderr" &
pids+=($!) names+=(slurmd)
node_idle() { [[ $(sinfo -h -n "$node" -o %T) == idle ]]; }
wait_for 60 "slurmd (node $node idle in sinfo)" "${pids[-1]}" node_idle
say "slurmd up (pid ${pids[-1]}); $(sinfo -h -o '%P %D %T %c CPUs' | head -n 1)"

# --- the job array -------------------------------------------------------------------------
parts=$tmp/out/parts
cat >"$tmp/job/shard.sh" <<EOF
#!/bin/bash
set -euo pipefail
exec "$tamga" run "$scenario" --runs $runs --seed $seed --threads 1 --shard auto/$shards --out "\$1"
EOF
chmod +x "$tmp/job/shard.sh"

# submit_array RANGE OUTDIR: submits the array, waits until it has left the queue; sets job_id
job_id=
submit_array() {
    local range=$1 out=$2
    job_id=$(sbatch --parsable --array="$range" --cpus-per-task=1 --time=5 --chdir="$repo" \
        --job-name=tamga-ci --output="$tmp/log/job-%A_%a.out" "$tmp/job/shard.sh" "$out") ||
        fail "sbatch refused the job array $range"
    jobs_submitted+=("$job_id")
    local t0=$SECONDS
    while [[ -n $(squeue -h -j "$job_id" -o %i 2>/dev/null) ]]; do
        ((SECONDS - t0 < 180)) || fail "job array $job_id still queued or running after 180 s: $(squeue -j "$job_id")"
        alive "${pids[1]}" slurmctld
        alive "${pids[2]}" slurmd
        sleep 1
    done
}

# "STATE EXITCODE" of every task of array job $1, from slurmctld (no accounting database here;
# slurmctld keeps finished jobs for MinJobAge = 300 s)
task_states() {
    scontrol -o show job "$1" | sed -E 's/.*JobState=([A-Z_]+) .*ExitCode=([0-9:]+).*/\1 \2/'
}

t_array=$SECONDS
submit_array "1-$shards" "$parts"
array=$job_id
states=$(task_states "$array")
say "job array $array (--array=1-$shards) finished in $((SECONDS - t_array)) s: ${states//$'\n'/, }"
[[ $(grep -c '^COMPLETED 0:0$' <<<"$states") -eq $shards ]] || fail "not every task of array $array completed with exit 0: $states"
for k in $(seq "$shards"); do
    log=$tmp/log/job-${array}_$k.out
    [[ -f $log ]] || fail "array task $k left no output ($log)"
    grep -q "shard $k/$shards: runs" "$log" || { cat "$log" >&2; fail "array task $k did not run shard $k/$shards"; }
    [[ -f $parts/part-$k-of-$shards.json ]] || fail "array task $k wrote no part-$k-of-$shards.json"
done
[[ $(find "$parts" -mindepth 1 | wc -l) -eq $shards ]] || fail "unexpected files in $parts: $(ls "$parts")"

"$tamga" merge "$parts" --out "$tmp/out/merged" >/dev/null
"$tamga" run "$scenario" --runs $runs --seed $seed --out "$tmp/out/direct" >/dev/null
for f in summary.json runs.csv report.html fingerprints.csv; do
    cmp "$tmp/out/merged/$f" "$tmp/out/direct/$f" || fail "merged $f differs from the unsharded run's"
done
say "merged $shards parts = unsharded run, byte for byte: summary.json runs.csv report.html fingerprints.csv"

# --- the array size must match N -----------------------------------------------------------
submit_array "1-2" "$tmp/out/bad"
bad=$job_id
states=$(task_states "$bad")
[[ $(grep -c '^FAILED 2:0$' <<<"$states") -eq 2 ]] || fail "the tasks of a 2-task array with auto/$shards did not fail with exit 2: $states"
for k in 1 2; do
    log=$tmp/log/job-${bad}_$k.out
    grep -q "the Slurm job array has 2 tasks but N = $shards" "$log" 2>/dev/null ||
        { cat "$log" >&2 2>/dev/null; fail "task $k of a 2-task array with auto/$shards did not fail with the array-size error"; }
done
[[ ! -e $tmp/out/bad ]] || [[ -z $(ls -A "$tmp/out/bad") ]] || fail "a mismatched array still wrote parts: $(ls "$tmp/out/bad")"
say "a 2-task array with --shard auto/$shards is refused: $(head -n 1 "$tmp/log/job-${bad}_1.out")"

say "passed in $((SECONDS - start)) s"
