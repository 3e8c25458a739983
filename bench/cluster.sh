#!/usr/bin/env bash
# How throughput grows with the cluster, on the PostgreSQL tier: the bench's open loop (1 subscription)
# and its raw one-activity baseline with 1, 2 and 4 worker processes (4 history shards), and with 1, 4 and
# 16 history shards (1 worker), one configuration after the other, each on a new database (the shard
# count is fixed when a database is created). Results: bench/results/bench-*-cluster-w<W>-s<S>.json;
# bench/cluster-table.ts prints them as one table.
# Usage: bench/cluster.sh   Env: CLUSTER_RUNS (default "1:4 2:4 4:4 1:1 1:16", workers:shards), BENCH_* sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_LEVELS="${BENCH_LEVELS:-10,50}" BENCH_N="${BENCH_N:-200}"
export BENCH_OPEN_LEVELS="${BENCH_OPEN_LEVELS:-10,50}" BENCH_OPEN_N="${BENCH_OPEN_N:-300}"
export BENCH_RESTING=0 BENCH_STORM=0 BENCH_FANOUT=0 BENCH_OPEN_TEN=0
for run in ${CLUSTER_RUNS:-1:4 2:4 4:4 1:1 1:16}; do
  workers="${run%%:*}" shards="${run##*:}"
  echo "== $workers worker process(es), $shards history shard(s)" >&2
  BENCH_WORKERS="$workers" HOOKFLOW_HISTORY_SHARDS="$shards" BENCH_LABEL="cluster-w$workers-s$shards" \
    bash bench/on-postgres.sh
done
node --import tsx bench/cluster-table.ts
