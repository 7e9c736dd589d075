# Sourced by bench.sh and soak.sh: writes the Switchyard config the rig measures.
#   switchyard_conf FILE MOCK_PORT LISTEN_PORT ADMIN_PORT LEDGER_DB
# One worker thread (the gateway is pinned to one core). The key carries RPM, TPM and budget limits far above what a
# run can reach, so every request pays for the quota checks and settlement without ever being refused; the SQLite
# ledger records every request; access log off. Routes: bench-openai (OpenAI pass-through to mock-gpt) and
# bench-anthropic (OpenAI in, Anthropic Messages to the mock as claude-haiku-4-5, OpenAI out).
switchyard_conf() {
  cat > "$1" <<EOF
server:
  listen: "127.0.0.1:$3"
  admin_listen: "127.0.0.1:$4"
  threads: 1
  access_log: off
  grace_period: 2s
  counters: memory
  ledger: "sqlite://$5"
providers:
  - { name: mock-openai, kind: openai, base_url: "http://127.0.0.1:$2/v1", api_key: "sk-mock" }
  - { name: mock-anthropic, kind: anthropic, base_url: "http://127.0.0.1:$2", api_key: "sk-mock" }
routes:
  - name: bench-openai
    match: { model: "bench-openai" }
    targets: [ { provider: mock-openai, model: "mock-gpt", weight: 100 } ]
  - name: bench-anthropic
    match: { model: "bench-anthropic" }
    targets: [ { provider: mock-anthropic, model: "claude-haiku-4-5", weight: 100 } ]
keys:
  - name: bench
    key: "sk-bench"
    rpm: 1000000000
    tpm: 1000000000000
    budget: { daily: 1000000, monthly: 1000000, total: 1000000 }
EOF
}
