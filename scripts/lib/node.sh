# Sourced, from the repository root, by the project's scripts and package.json scripts: run them on a
# supported Node.js (engines: ^22.12 || >=24). When the `node` on PATH is older (or missing), Node 24
# (scripts/ensure-node.sh, installed once into the cache) goes first on PATH, for the script and all
# it starts (npm, npx, jest, the worker, the API). POSIX sh: npm runs package.json scripts with sh.
# On Node 22 instead: PATH="$(bash scripts/ensure-node.sh 22):$PATH" npm test
hookflow_node_ok="$(node -p 'const [a, b] = process.versions.node.split(".").map(Number); a >= 24 || (a === 22 && b >= 12)' 2>/dev/null || echo false)"
if [ "$hookflow_node_ok" != true ]; then
  hookflow_node_bin="$(bash scripts/ensure-node.sh 24)" || return 1
  PATH="$hookflow_node_bin:$PATH"
  export PATH
  unset hookflow_node_bin
fi
unset hookflow_node_ok
