#!/usr/bin/env bash
# Same-run speed ratio of lieflow against the jax peer for one model family (family_bench.py).
# Usage (from the project root, after `cargo build --release`):
#   bench/peers/compare-family.sh FAMILY ACT SCENARIO [REPS] [-- extra family_bench.py flags, e.g. --hidden 32]
# SCENARIO must describe the same problem as `family_bench.py --family FAMILY --act ACT --write DIR` (same data,
# controls, scheme and step count); `lieflow bench SCENARIO --reps N --json` must print one JSON object with
# "median_s" and "loss" on its last line. Prints one JSON line with both times, both losses and the speed-up.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fam=$1; act=$2; scen=$3; reps=${4:-21}
shift $(( $# < 4 ? $# : 4 )); [ "${1:-}" = "--" ] && shift
py=${PEERS_VENV:-$HOME/.cache/lieflow-peers}/bin/python
bin=${LIEFLOW_BIN:-target/release/lieflow}
[ -x "$py" ] || { echo "no peer environment: run $here/setup-peers.sh first" >&2; exit 2; }
[ -x "$bin" ] || { echo "no $bin: run cargo build --release first" >&2; exit 2; }
peer() { "$py" "$here/family_bench.py" --family "$fam" --act "$act" --reps 7 "$@" 2>/dev/null | tail -n 1; }
p1=$(peer "$@")
ours=$("$bin" bench "$scen" --reps "$reps" --json | tail -n 1)
p2=$(peer "$@")
python3 - "$p1" "$ours" "$p2" <<'PY'
import json, sys
p1, o, p2 = (json.loads(a) for a in sys.argv[1:])
peer = min(p1["seconds"], p2["seconds"])  # the peer's better run, measured before and after ours
print(json.dumps({"family": p1["family"], "act": p1["act"], "jax_s": peer, "lieflow_s": o["median_s"],
                  "speedup": round(peer / o["median_s"], 2), "loss_peer": p1["loss"], "loss_lieflow": o.get("loss")}))
PY
