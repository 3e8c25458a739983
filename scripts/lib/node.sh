# Sourced by the project's scripts: run them on a supported Node.js (22 or 24). When the `node` on PATH
# is older than 22 (or missing), Node 24 (scripts/ensure-node.sh, installed once into the cache) goes
# first on PATH, for this script and everything it starts (npm, npx, jest, the worker, the API).
# To run on Node 22: PATH="$(bash scripts/ensure-node.sh 22):$PATH" npm test
hookflow_node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$hookflow_node_major" -lt 22 ]; then
  hookflow_node_bin="$(bash "$(dirname "${BASH_SOURCE[0]}")/../ensure-node.sh" 24)"
  export PATH="$hookflow_node_bin:$PATH"
  unset hookflow_node_bin
fi
unset hookflow_node_major
