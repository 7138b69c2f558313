#!/usr/bin/env bash
# fusedrnn beside PyTorch, ONNX Runtime and Keras, on the same data and weights (see README.md here).
#
#   benches/peers/run.sh [--tok FILE | --npz FILE] [--python PY] [peers.py options ...]
#
#   --tok FILE    a packed token file to score (its test split); default: pack the npz below
#   --npz FILE    Keras' imdb.npz to pack with imdb-pack's defaults (the notebook's settings);
#                 default ../shared/data/imdb.npz beside the repository
#   --python PY   use this interpreter instead of benches/peers/.venv (it must have requirements.txt)
#   anything else goes to peers.py (e.g. --budget 2 --models a.safetensors, or --help)
#
# Steps: the venv benches/peers/.venv from requirements.txt if missing (or if requirements.txt changed),
# `cargo build --release`, imdb-pack into benches/peers/.cache/ if needed, then peers.py, which prints
# one markdown table and writes results/latest.json and results/latest.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="$HERE/.cache"

TOK=""
NPZ=""
PY="${PEERS_PYTHON:-}"
PASS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tok) TOK="$2"; shift 2 ;;
    --tok=*) TOK="${1#*=}"; shift ;;
    --npz) NPZ="$2"; shift 2 ;;
    --npz=*) NPZ="${1#*=}"; shift ;;
    --python) PY="$2"; shift 2 ;;
    --python=*) PY="${1#*=}"; shift ;;
    *) PASS+=("$1"); shift ;;
  esac
done
if [ -n "$TOK" ] && [ -n "$NPZ" ]; then
  echo "run.sh: give --tok or --npz, not both" >&2
  exit 2
fi

say() { echo "[run.sh] $*" >&2; }

# 1. Python environment.
if [ -z "$PY" ]; then
  VENV="$HERE/.venv"
  STAMP="$VENV/.requirements.sha256"
  WANT="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
  if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
    say "creating $VENV from requirements.txt (torch from PyPI is large: several GB)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet -r "$HERE/requirements.txt"
    echo "$WANT" > "$STAMP"
  fi
  PY="$VENV/bin/python"
fi
say "python: $PY"

# 2. fusedrnn and imdb-pack.
say "cargo build --release"
(cd "$ROOT" && cargo build --release --quiet)
FUSEDRNN="$ROOT/target/release/fusedrnn"

# 3. The data.
if [ -z "$TOK" ]; then
  NPZ="${NPZ:-$ROOT/../shared/data/imdb.npz}"
  if [ ! -f "$NPZ" ]; then
    echo "run.sh: $NPZ not found: give --npz (Keras' imdb.npz) or --tok (a packed token file)" >&2
    exit 2
  fi
  mkdir -p "$CACHE"
  TOK="$CACHE/$(basename "$NPZ" .npz).tok"
  if [ ! -f "$TOK" ] || [ "$NPZ" -nt "$TOK" ] || [ "$ROOT/target/release/imdb-pack" -nt "$TOK" ]; then
    say "packing $NPZ -> $TOK"
    "$ROOT/target/release/imdb-pack" --npz "$NPZ" --out "$TOK" --quiet
  fi
fi
say "data: $TOK"

# 4. The peers. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set on some machines here for old OpenBLAS
# builds and slow a current numpy; unset them for this benchmark only.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
mkdir -p "$CACHE/work"
say "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$PY" "$HERE/peers.py" --tok "$TOK" --fusedrnn "$FUSEDRNN" --workdir "$CACHE/work" ${PASS[@]+"${PASS[@]}"}
