#!/usr/bin/env bash
# Same-run speed comparison of lieflow against the fastest peer (jax_scan) on the node-grad problem.
# Usage (from the project root, after `cargo build --release`):
#   bench/peers/compare.sh [SCENARIO] [REPS]
# Needs the peers from setup-peers.sh, and `lieflow bench SCENARIO --reps N --json` printing one JSON object with
# at least "median_s" (seconds per loss + gradient) and "loss".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
scen=${1:-scenarios/bench-node-grad.toml}
reps=${2:-21}
py=${PEERS_VENV:-$HOME/.cache/lieflow-peers}/bin/python
bin=${LIEFLOW_BIN:-target/release/lieflow}
[ -x "$py" ] || { echo "no peer environment: run $here/setup-peers.sh first" >&2; exit 2; }
[ -x "$bin" ] || { echo "no $bin: run cargo build --release first" >&2; exit 2; }
peer=$("$py" "$here/node_bench.py" --n 2048 --k 100 --reps 7 --peers jax_scan | grep '"jax_scan"')
ours=$("$bin" bench "$scen" --reps "$reps" --json | tail -n 1)
peer2=$("$py" "$here/node_bench.py" --n 2048 --k 100 --reps 7 --peers jax_scan | grep '"jax_scan"')
python3 - "$peer" "$ours" "$peer2" <<'PY'
import json, sys
p1, o, p2 = (json.loads(a) for a in sys.argv[1:])
peer = min(p1["seconds"], p2["seconds"])  # the peer's better run, measured before and after ours
ratio = peer / o["median_s"]
print(json.dumps({"jax_scan_s": peer, "lieflow_s": o["median_s"], "speedup": round(ratio, 2),
                  "loss_peer": p1["loss"], "loss_lieflow": o.get("loss")}))
PY
