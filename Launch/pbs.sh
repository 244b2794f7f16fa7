#!/bin/bash
# SiteLens under PBS/Torque: trains an ensemble data-parallel and writes the decomposition.
#
#   qsub Launch/pbs.sh                           # built-in planted-truth data
#   qsub -v SITELENS_DATA=hea.csv,SITELENS_TRAIN_ARGS="--group Adsorbate=COOH --skip-invalid" Launch/pbs.sh
#
# Edit the #PBS lines for your cluster. Outputs go to $SITELENS_RUNS/pbs-<job id>; the log to
# PBS's own per-job file (sitelens.o<job id>). A checkpoint every 10 epochs unless
# SITELENS_TRAIN_ARGS says otherwise; a requeued job continues its own run.
#PBS -N sitelens
#PBS -l nodes=1:ppn=2
#PBS -l walltime=00:30:00
#PBS -j oe

set -euo pipefail

# On a cluster, load the MPI and BLAS that SiteLens was built against, e.g.:
# module load openmpi/4.1 openblas

SUBMIT_DIR="${PBS_O_WORKDIR:-$PWD}"
cd "$SUBMIT_DIR"
SITELENS_BIN="${SITELENS_BIN:-$SUBMIT_DIR/.build/release/sitelens}"
JOB="${PBS_JOBID:-local}"
RUN_DIR="${SITELENS_RUNS:-$SUBMIT_DIR/runs}/pbs-${JOB%%.*}"
TRAIN_ARGS="${SITELENS_TRAIN_ARGS:---ensemble 2 --epochs 200 --learning-rate 0.01 --print-every 50}"
mkdir -p "$(dirname "$RUN_DIR")"   # train creates the run folder itself and refuses one in use

# OpenBLAS kernels for this CPU when the library would fall back to generic ones (see Launch/common.sh).
COMMON="${SITELENS_ROOT:-$SUBMIT_DIR}/Launch/common.sh"   # the repository: where you submit from, or SITELENS_ROOT
if [ -f "$COMMON" ]; then source "$COMMON"; sitelens_openblas_coretype; sitelens_detect_lost_nodes; fi
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

BATCH_ARGS=""
if declare -F sitelens_batch_train_args >/dev/null; then BATCH_ARGS="$(sitelens_batch_train_args "$RUN_DIR" "$TRAIN_ARGS")"; fi
if [ "$BATCH_ARGS" = complete ]; then echo "sitelens: the run in $RUN_DIR is complete; nothing to do"; exit 0; fi

DATA="${SITELENS_DATA:-}"
if [ -z "$DATA" ]; then
    DATA="$RUN_DIR-data/sites.csv"   # beside the run folder: a run folder holds only its run
    mkdir -p "$RUN_DIR-data"
    "$SITELENS_BIN" generate --out "$DATA" --structures 400
fi

# Open MPI built with PBS (tm) support reads the node list itself; otherwise pass PBS's.
RANKS="${SITELENS_RANKS:-$(wc -l < "${PBS_NODEFILE:-/dev/null}" 2>/dev/null || echo 2)}"
[ "$RANKS" -ge 1 ] 2>/dev/null || RANKS=2
HOSTFILE=()
if [ -n "${PBS_NODEFILE:-}" ]; then HOSTFILE=(--hostfile "$PBS_NODEFILE"); fi
echo "sitelens: job $JOB, $RANKS ranks, outputs in $RUN_DIR"
FORWARD=(-x OPENBLAS_NUM_THREADS -x OMP_NUM_THREADS)
for name in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do [ -n "${!name:-}" ] && FORWARD+=(-x "$name"); done
mpirun -np "$RANKS" "${HOSTFILE[@]}" "${FORWARD[@]}" \
    "$SITELENS_BIN" train "$DATA" --run-dir "$RUN_DIR" $BATCH_ARGS $TRAIN_ARGS
