# Shared by the Launch scripts (sourced, not run): finding the repository and making sure the
# system libraries SiteLens links against are present.

SITELENS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Debian package names, and what a cluster user loads instead.
SITELENS_APT_PACKAGES="pkg-config libopenmpi-dev openmpi-bin libopenblas-dev zlib1g-dev libdnnl-dev"
SITELENS_MODULES="an Open MPI module (e.g. 'module load openmpi'), an OpenBLAS module (e.g. 'module load openblas') and a oneDNN module (e.g. 'module load onednn')"

# apt-get update once per script, however many installs follow.
sitelens_apt_update() {
    [ -n "${SITELENS_APT_UPDATED:-}" ] && return 0
    $1 update -qq && SITELENS_APT_UPDATED=1
}

sitelens_missing_packages() {
    local missing=""
    command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
    if command -v pkg-config >/dev/null 2>&1; then
        pkg-config --exists ompi-c || missing="$missing libopenmpi-dev"
        pkg-config --exists openblas || missing="$missing libopenblas-dev"
        pkg-config --exists zlib || missing="$missing zlib1g-dev"
    else
        missing="$missing libopenmpi-dev libopenblas-dev zlib1g-dev"
    fi
    command -v mpirun >/dev/null 2>&1 || missing="$missing openmpi-bin"
    sitelens_have_onednn || missing="$missing libdnnl-dev"
    echo "$missing"
}

# oneDNN ships no pkg-config file: look for its header on the include path (CPATH, as cluster
# modules set it, or the system folder) and for the library the linker will find.
sitelens_have_onednn() {
    local dir found=""
    for dir in ${CPATH:+${CPATH//:/ }} /usr/include /usr/local/include; do
        [ -f "$dir/oneapi/dnnl/dnnl.h" ] && found=1 && break
    done
    [ -n "$found" ] || return 1
    for dir in ${LIBRARY_PATH:+${LIBRARY_PATH//:/ }}; do
        [ -e "$dir/libdnnl.so" ] && return 0
    done
    ldconfig -p 2>/dev/null | grep -q 'libdnnl\.so ' && return 0
    [ -e /usr/lib/x86_64-linux-gnu/libdnnl.so ] || [ -e /usr/lib/aarch64-linux-gnu/libdnnl.so ]
}

# Installs the system packages only when pkg-config (or mpirun) cannot find them.
sitelens_ensure_system_packages() {
    local missing
    missing="$(sitelens_missing_packages)"
    [ -z "$missing" ] && return 0
    echo "sitelens: missing system packages:$missing"
    local apt=""
    if command -v apt-get >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then apt="apt-get"
        elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then apt="sudo apt-get"
        fi
    fi
    if [ -z "$apt" ]; then
        echo "sitelens: cannot install them here (no apt-get, or not root and no sudo)." >&2
        echo "  On Debian/Ubuntu: sudo apt-get install$missing" >&2
        echo "  On a cluster: load $SITELENS_MODULES, so that 'pkg-config --exists ompi-c openblas' succeeds and oneapi/dnnl/dnnl.h is on CPATH." >&2
        exit 1
    fi
    echo "sitelens: installing with $apt:$missing"
    sitelens_apt_update "$apt"
    DEBIAN_FRONTEND=noninteractive $apt install -y -qq --no-install-recommends $missing
    missing="$(sitelens_missing_packages)"
    if [ -n "$missing" ]; then
        echo "sitelens: still missing after install:$missing" >&2
        exit 1
    fi
}

# Debian 12's OpenBLAS (0.3.21) does not know recent Intel CPUs and falls back to its generic
# "Prescott" kernels, several times slower. Unless the user chose, name the kernel family the
# CPU supports; OpenBLAS reads this when it loads. (Measured in Docs/Benchmarks.md.)
sitelens_openblas_coretype() {
    [ -n "${OPENBLAS_CORETYPE:-}" ] && return 0
    [ -r /proc/cpuinfo ] || return 0
    local flags
    flags="$(grep -m1 '^flags' /proc/cpuinfo)"
    case "$flags" in
        *avx512f*avx512dq*|*avx512dq*avx512f*) export OPENBLAS_CORETYPE=SkylakeX ;;
        *avx2*) export OPENBLAS_CORETYPE=Haswell ;;
    esac
}

# A node whose link is cut sends no TCP reset: without keepalives mpirun waits for its daemon for
# minutes (Open MPI's default: 300 s idle, then 9 probes 20 s apart) before it ends the job.
# Probe after 30 s idle, 3 probes 10 s apart: a lost node ends the job within about a minute,
# mpirun naming it. A user's own OMPI_MCA_oob_tcp_keepalive_* settings win.
sitelens_detect_lost_nodes() {
    export OMPI_MCA_oob_tcp_keepalive_time="${OMPI_MCA_oob_tcp_keepalive_time:-30}"
    export OMPI_MCA_oob_tcp_keepalive_intvl="${OMPI_MCA_oob_tcp_keepalive_intvl:-10}"
    export OMPI_MCA_oob_tcp_keepalive_probes="${OMPI_MCA_oob_tcp_keepalive_probes:-3}"
}

# A batch job's extra train arguments: a checkpoint every 10 epochs unless SITELENS_TRAIN_ARGS
# says otherwise, and `--resume` when the job's run folder already holds its run (a requeued job
# keeps its job ID, so its folder: it continues its own run). Prints "complete" instead when
# that run has finished.
sitelens_batch_train_args() {
    local run_dir="$1" train_args="$2" args=""
    case " $train_args " in *" --checkpoint-every"*) ;; *) args="--checkpoint-every 10" ;; esac
    if [ -f "$run_dir/run.json" ]; then
        if grep -q '"complete" *: *true' "$run_dir/run.json"; then echo complete; return 0; fi
        args="$args --resume $run_dir"
    fi
    echo "$args"
}

# mpirun refuses root unless told; set the two variables only when the user is root.
sitelens_allow_root_mpirun() {
    if [ "$(id -u)" = 0 ]; then
        export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    fi
}

# The Python packages some tests use to read SiteLens's files as other tools do (numpy for .npy,
# ase for extxyz, safetensors for model files). Best effort: tests that need one say so and skip.
sitelens_ensure_python_checkers() {
    command -v python3 >/dev/null 2>&1 || { echo "sitelens: no python3; file-format cross-checks will be skipped"; return 0; }
    if ! python3 -c "import numpy, ase, safetensors" >/dev/null 2>&1; then
        echo "sitelens: installing numpy, ase, safetensors with pip for the cross-checks"
        python3 -m pip install --quiet numpy ase safetensors \
            || echo "sitelens: pip could not install them; those cross-checks will be skipped"
    fi
}

# What only the tests use: a one-node Slurm (slurm-wlm, munge). Best effort: without it the Slurm
# test says why and checks what it can.
sitelens_ensure_test_tools() {
    if command -v slurmctld >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; then return 0; fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "sitelens: installing slurm-wlm and munge for the Slurm test"
        { sitelens_apt_update apt-get && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge; } \
            || echo "sitelens: could not install slurm-wlm and munge; the Slurm test will say so"
    else
        echo "sitelens: slurm-wlm and munge are not installed and cannot be here; the Slurm test will say so"
    fi
}

# The network tests once more against oneDNN 3.x, whose C API differs from Debian's 2.6 (the
# difference is kept in Sources/CDNNLShim). PyPI's CPU-only GNU OpenMP build of oneDNN 3.2 goes
# into a virtual environment; a separate scratch path keeps the 2.6 build apart. Best effort:
# without pip or the network it says why and returns 0; a build or test failure returns 1.
SITELENS_ONEDNN3_PACKAGES="onednn-cpu-gomp==2023.2.0 onednn-devel-cpu-gomp==2023.2.0"
sitelens_test_onednn3() {
    local venv="$SITELENS_ROOT/.build-dnnl3/venv"
    if [ ! -f "$venv/include/oneapi/dnnl/dnnl.h" ]; then
        echo "sitelens test: installing oneDNN 3.x from PyPI ($SITELENS_ONEDNN3_PACKAGES)"
        if ! { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet $SITELENS_ONEDNN3_PACKAGES; } >"$SITELENS_ROOT/.build-dnnl3.pip.log" 2>&1; then
            echo "sitelens test: SKIPPED the oneDNN 3.x build: pip could not install it (see .build-dnnl3.pip.log)"
            return 0
        fi
    fi
    local version
    version="$(grep -h '#define DNNL_VERSION_M[AI][JN]' "$venv/include/oneapi/dnnl/dnnl_version.h" | awk '{print $3}' | paste -sd.)"
    echo "sitelens test: network tests against oneDNN $version from $venv"
    # pkg-config puts the system library folder (with Debian's libdnnl.so.2) first on the link
    # line, so the 3.x library is named by its file name (Package.swift reads SITELENS_DNNL_LINK).
    local library
    library="$(cd "$venv/lib" && ls libdnnl.so.[0-9] 2>/dev/null | head -n 1)"
    [ -n "$library" ] || { echo "sitelens test: no libdnnl.so.N in $venv/lib" >&2; return 1; }
    SITELENS_DNNL_LINK=":$library" swift build --build-tests --scratch-path "$SITELENS_ROOT/.build-dnnl3" \
        -Xcc -I"$venv/include" -Xlinker -L"$venv/lib" -Xlinker -rpath -Xlinker "$venv/lib" || return 1
    SITELENS_EXPECT_ONEDNN_MAJOR="${version%%.*}" LD_LIBRARY_PATH="$venv/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        SITELENS_DNNL_LINK=":$library" swift test --skip-build --scratch-path "$SITELENS_ROOT/.build-dnnl3" --filter NetworksTests || return 1
}
