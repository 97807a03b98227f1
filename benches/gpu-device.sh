#!/usr/bin/env bash
# The GPU check, run ON an NVIDIA GPU machine that has no cargo and no internet, from the
# repository root, with the folders that scripts/gpu-pack.sh prepared here carried along
# (.gpu, .whl, .gl):
#
#   device run: bash benches/gpu-device.sh 2>&1 | tee $OUT/log.txt
#   carry: [".gpu", ".whl", ".gl"]    timeout_s: 540
#
# In one run of at most BUDGET seconds (default 450), each step under its own timeout so that
# one hang does not cost the others, in order of importance:
#   1. the machine's facts; the loaders unpacked; our binaries unpacked and their libraries
#      found (NVRTC and the CUDA headers from the toolkit, else from PyTorch's wheels);
#   2. which adapter each backend opens (warning if wgpu is not on the NVIDIA GPU); the GPU
#      tests on CUDA, then on wgpu (Vulkan; the loader says which driver it took):
#      the fused neuron kernels against SpikingJelly's fixtures (spikes and potentials bit for
#      bit) and the reference composition, the seed SNN's training step, data-parallel
#      training (skips on one GPU);
#   3. training steps, side by side on the same card: `spikeforge bench seed` on CUDA (and
#      wgpu for the seed nets) against SpikingJelly 2.0.0 / PyTorch on CUDA
#      (benches/spikingjelly_seed.py: multi-step, where SpikingJelly's IF/LIF run its CUDA
#      kernels, and the single-step loop the seed code used), on the same frames: the seed
#      SNN and CNN (batch 32, 32×32), then the zoo's cifar10dvs-net (128×128) and vggsnn
#      (48×48) at batch ZOO_BATCH (16);
#   4. the table: seconds per 100 batches and anchor time / spikeforge time.
# Everything goes to $OUT (8 files come back at most): log.txt (by the tee above), env.txt,
# tests.txt, results.jsonl (one JSON record per measurement), table.txt.
# Off a GPU machine it runs too (the CUDA steps fail, wgpu finds a software Vulkan device if
# one is installed): that is how it is tested without a GPU.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
T0=$(date +%s)
BUDGET="${BUDGET:-450}"
BATCHES="${BATCHES:-30}"
ZOO_BATCH="${ZOO_BATCH:-16}"
ZOO_BATCHES="${ZOO_BATCHES:-10}"
left() { echo $(( BUDGET - ($(date +%s) - T0) )); }
step() { echo; echo "== [$(( $(date +%s) - T0 ))s] $*"; }
# bounded SECONDS CMD...: CMD under its own timeout, cut to what is left of the budget.
bounded() {
    local limit=$1; shift
    local rest; rest=$(left)
    (( rest < 15 )) && { echo "SKIPPED (budget spent): $*"; return 124; }
    (( limit > rest - 10 )) && limit=$(( rest - 10 ))
    timeout -k 5 "$limit" "$@"; local rc=$?
    (( rc == 124 )) && echo "TIMED OUT after ${limit}s: $*"
    return $rc
}

step "machine"
{
    uname -m; head -2 /etc/os-release 2>/dev/null; ldd --version 2>&1 | head -1
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
    command -v nvcc && nvcc --version | tail -2
    echo "CUDA_PATH=${CUDA_PATH:-}"; ls -d /usr/local/cuda* /opt/cuda 2>&1
    ldconfig -p | grep -E 'libcuda\.so|libnvrtc|libnccl|libvulkan|libfontconfig|libfreetype'
    python3 -c 'import torch, triton; print("torch", torch.__version__, "triton", triton.__version__, "cuda", torch.version.cuda)' 2>&1
} 2>&1 | tee "$OUT/env.txt"

step "Vulkan/EGL loaders (unpacked into / only where the system has none)"
if ! ldconfig -p | grep -q 'libvulkan\.so\.1'; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
if [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"

step "binaries and the libraries they load"
bin=$(mktemp -d)
for f in .gpu/bin/*.xz; do
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
        "$f" "$bin/$(basename "$f" .xz)"
    chmod +x "$bin/$(basename "$f" .xz)"
done
ls -la "$bin"
ldd "$bin/spikeforge" | grep 'not found'
libs=""
# NVRTC compiles our kernels at run time: the toolkit's, else PyTorch's wheel's; NCCL (for
# data-parallel training) from PyTorch's wheel if the system has none.
site=$(python3 -c 'import site; print(site.getsitepackages()[0])' 2>/dev/null)
for pattern in 'libnvrtc.so*' 'libnccl.so*'; do
    found=$(find "${CUDA_PATH:-/usr/local/cuda}/" /usr/local/cuda/lib64/ "$site/nvidia/" \
        -name "$pattern" 2>/dev/null | head -1)
    [ -n "$found" ] && libs="$libs:$(dirname "$found")"
done
# The CUDA headers NVRTC compiles with: CUDA_PATH, /usr/local/cuda, nvcc's toolkit, else
# PyTorch's wheels.
if [ -z "${CUDA_PATH:-}" ] && [ ! -d /usr/local/cuda ]; then
    if command -v nvcc >/dev/null; then
        CUDA_PATH=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")
    else
        header=$(find "$site/nvidia/" -name cuda_fp16.h -path '*include*' 2>/dev/null | head -1)
        [ -n "$header" ] && CUDA_PATH=$(dirname "$(dirname "$header")")
    fi
    export CUDA_PATH
fi
export LD_LIBRARY_PATH="${libs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH CUDA_PATH=${CUDA_PATH:-}"
sf="$bin/spikeforge"
# The tests read their fixtures where they were built (CARGO_MANIFEST_DIR).
build_root=$(cat .gpu/BUILD_ROOT)
if [ "$build_root" != "$PWD" ]; then
    if [ -e "$build_root" ]; then
        echo "WARNING: $build_root exists here: the tests may not find their fixtures"
    else
        mkdir -p "$(dirname "$build_root")" && ln -s "$PWD" "$build_root"
    fi
fi

step "the anchor's packages (SpikingJelly 2.0.0, loguru)"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
python3 -c 'import spikingjelly.activation_based.neuron; print("spikingjelly ok")'

export RUST_BACKTRACE=1
step "which device each backend opens (wgpu falls back to GL or a CPU adapter if Vulkan fails)"
for gpu in cuda wgpu; do
    VK_LOADER_DEBUG=error,warn,driver bounded 60 "$sf" bench seed --device $gpu --model SNN \
        --batches 1 --warmup 0 --json "/tmp/adapter-$gpu.json" > "/tmp/adapter-$gpu.log" 2>&1
    grep -E '^error|Using ".*" with driver' "/tmp/adapter-$gpu.log" | head -5
    name=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["device"])' \
        "/tmp/adapter-$gpu.json" 2>/dev/null || echo "none (could not open)")
    echo "$gpu adapter: $name" | tee -a "$OUT/env.txt"
    case "$name" in *NVIDIA*|*H100*|*H200*) ;; *) echo "WARNING: $gpu is not on the NVIDIA GPU";; esac
done

step "GPU tests: CUDA, then wgpu (failing, not skipping, where the device cannot be opened)"
: > "$OUT/tests.txt"
for gpu in cuda wgpu; do
    echo "-- $gpu" | tee -a "$OUT/tests.txt"
    SPIKEFORGE_GPU=$gpu SPIKEFORGE_REQUIRE_GPU=1 bounded 150 "$bin/gpu_bundle" gpu --test-threads=1 2>&1 \
        | grep -vE '^\s+[0-9]+: |^\s+at ' | tee -a "$OUT/tests.txt" | tail -40
    echo "TESTS $gpu rc=${PIPESTATUS[0]}" | tee -a "$OUT/tests.txt"
done

step "training steps: spikeforge and SpikingJelly/PyTorch on the same card, same frames"
: > "$OUT/results.jsonl"
# ours NET DEVICE ARGS...: our steps of NET on DEVICE, one JSON record per network.
ours() {
    local net=$1 device=$2; shift 2
    if bounded 90 "$sf" bench seed --device "$device" --save-batch "/tmp/frames-$net.f32" \
        --json "/tmp/ours-$net-$device.json" "$@" > /dev/null; then
        python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
for m in r["results"]:
    print(json.dumps({"net": sys.argv[2], "side": "spikeforge", "device": r["device"], **m}))' \
            "/tmp/ours-$net-$device.json" "$net" >> "$OUT/results.jsonl"
    fi
}
# anchor NET BATCHES MODEL...: SpikingJelly's steps of each MODEL on the frames ours saved.
anchor() {
    local net=$1 n=$2; shift 2
    [ -e "/tmp/frames-$net.f32" ] || { echo "no frames of $net: anchor skipped"; return; }
    local shape
    shape=$(python3 -c 'import json, sys; print(",".join(map(str, json.load(open(sys.argv[1]))["results"][0]["batch_shape"])))' \
        "/tmp/ours-$net-cuda.json" 2>/dev/null || echo "")
    for model in "$@"; do
        if FRAMES="/tmp/frames-$net.f32" SHAPE="$shape" DEVICE=cuda \
            bounded 90 python3 benches/spikingjelly_seed.py "$model" 2 "$n" 3 > /tmp/anchor.json; then
            python3 -c 'import json, sys; print(json.dumps({"net": sys.argv[2], "side": "anchor", **json.load(open(sys.argv[1]))}))' \
                /tmp/anchor.json "$net" >> "$OUT/results.jsonl"
        fi
    done
}
ours snn cuda --model SNN --batches "$BATCHES"
anchor snn "$BATCHES" snn-multi snn-single
ours cnn cuda --model CNN --batches "$BATCHES"
anchor cnn "$BATCHES" cnn
ours cifar10dvs-net cuda --model cifar10dvs-net --batch-size "$ZOO_BATCH" --size 128 --batches "$ZOO_BATCHES" --warmup 2
anchor cifar10dvs-net "$ZOO_BATCHES" cifar10dvs-multi cifar10dvs-single
ours vggsnn cuda --model vggsnn --batch-size "$ZOO_BATCH" --size 48 --batches "$ZOO_BATCHES" --warmup 2
anchor vggsnn "$ZOO_BATCHES" vggsnn-multi vggsnn-single
ours snn wgpu --model SNN --batches "$BATCHES"
ours cnn wgpu --model CNN --batches "$BATCHES"

step "table"
python3 benches/gpu_table.py "$OUT/results.jsonl" | tee "$OUT/table.txt"
step "done in $(( $(date +%s) - T0 ))s"
