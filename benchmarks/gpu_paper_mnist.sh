#!/usr/bin/env bash
# The paper's MNIST Table 1 at full scale on one GPU: the two halves of one device session.
#
#   here, once:   bash benchmarks/gpu_paper_mnist.sh prepare
#       puts MNIST (gzipped, 11 MB) and the ART wheel (AutoAttack) into .gpu_carry/, which
#       .git/info/exclude ignores: the device machine has torch but neither of them, and
#       ../shared does not travel.
#   there:        run(command="bash benchmarks/gpu_paper_mnist.sh device 420",
#                     carry=[".gpu_carry"], timeout_s=480)
#       unpacks both, then runs benchmarks/gpu_paper_mnist.py with --cuda-checks inside a
#       hard budget of 420 s (default); the eight result files come back under $OUT/pm/.
#       Checkpoints stay in /tmp/pm-work on the machine: a second call made at once (while
#       the machine is still warm) with the same command resumes instead of retraining.
#       GPM_EXTRA="--device cpu --tiny" OUT=/tmp/o bash benchmarks/gpu_paper_mnist.sh device
#       rehearses the device half on a CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  prepare)
    grep -qx '/.gpu_carry/' .git/info/exclude 2>/dev/null || echo '/.gpu_carry/' >> .git/info/exclude
    src="${MNIST_RAW:-../shared/data/MNIST/raw}"
    mkdir -p .gpu_carry/MNIST/raw .gpu_carry/whl
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
             t10k-labels-idx1-ubyte; do
      gzip -6 -c "$src/$f" > ".gpu_carry/MNIST/raw/$f.gz"
    done
    art=$(python3 -m pip show adversarial-robustness-toolbox 2>/dev/null | sed -n 's/^Version: //p')
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
      --implementation cp --platform manylinux2014_x86_64 -d .gpu_carry/whl \
      "adversarial-robustness-toolbox==${art:-1.20.1}"
    du -sh .gpu_carry
    ;;
  device)
    budget="${2:-420}"
    data=/tmp/gpm-data/MNIST/raw
    mkdir -p "$data" "$OUT/pm"
    for f in .gpu_carry/MNIST/raw/*.gz; do gunzip -c "$f" > "$data/$(basename "$f" .gz)"; done
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .gpu_carry/whl/*.whl
    export PYTHONPATH="$PWD:/tmp/site" PYTHONUNBUFFERED=1 OMP_NUM_THREADS=8
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
    python3 benchmarks/gpu_paper_mnist.py --out "$OUT/pm" --work /tmp/pm-work \
      --data-root /tmp/gpm-data --budget-s "$budget" --device cuda --cuda-checks ${GPM_EXTRA:-}
    ;;
  *)
    echo "usage: $0 prepare | device [BUDGET_S]" >&2
    exit 2
    ;;
esac
