# Sourced, from the repository root, by the project's scripts and package.json scripts: run them on a
# supported Node.js (22 or 24). When the `node` on PATH is older than 22 (or missing), Node 24
# (scripts/ensure-node.sh, installed once into the cache) goes first on PATH, for the script and all
# it starts (npm, npx, jest, the worker, the API). POSIX sh: npm runs package.json scripts with sh.
# On Node 22 instead: PATH="$(bash scripts/ensure-node.sh 22):$PATH" npm test
hookflow_node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$hookflow_node_major" -lt 22 ]; then
  hookflow_node_bin="$(bash scripts/ensure-node.sh 24)" || return 1
  PATH="$hookflow_node_bin:$PATH"
  export PATH
  unset hookflow_node_bin
fi
unset hookflow_node_major
