#!/usr/bin/env bash
# Container entrypoint: what `make run` does, inside the image (infra/Dockerfile).
#
#   fda-entrypoint serve    ingest the mounted corpus -> build indexes -> assemble model files -> fda serve
#   fda-entrypoint prepare  the same steps, then exit (warm a volume before starting replicas)
#   fda-entrypoint ui       the Streamlit UI (`fda ui`) on FDA_UI__HOST:FDA_UI__PORT, talking to FDA_UI__API_URL
#   fda-entrypoint mlflow   an MLflow server on 0.0.0.0:${FDA_MLFLOW_PORT:-5000} over the state volume's store
#   fda-entrypoint CMD...   run CMD as is (a shell, `fda corpus stats`, ...)
#
# Every step is idempotent and keeps its output under FDA_STATE_DIR (the /data volume): the store is
# refreshed in seconds, indexes named by the corpus hash are reused, model files already assembled are
# kept, so a second start goes almost straight to serving. FDA_PREPARE_STEPS picks the steps
# (default "ingest index models"; e.g. "index models" when the store was filled elsewhere).
set -euo pipefail

say() { printf '[entrypoint] %s\n' "$*" >&2; }

run_step() {
    local name=$1
    shift
    local t0=$SECONDS
    say "$name: $*"
    "$@"
    say "$name: done in $((SECONDS - t0)) s"
}

prepare() {
    mkdir -p "${FDA_STATE_DIR:?FDA_STATE_DIR must name the state folder}"
    local step
    for step in ${FDA_PREPARE_STEPS-ingest index models}; do
        case "$step" in
            ingest) run_step ingest fda ingest ;;
            index) run_step index fda index ;;
            models)
                # only the embedded models need files; a LiteLLM model (openai/..., ollama_chat/...) does not
                if [[ ${FDA_LM__MODEL:-local:} == local:* ]]; then
                    run_step models fda models fetch
                else
                    say "models: skipped (FDA_LM__MODEL=$FDA_LM__MODEL is not an embedded model)"
                fi
                ;;
            *)
                say "unknown step '$step' in FDA_PREPARE_STEPS (known: ingest index models)"
                exit 2
                ;;
        esac
    done
}

cmd=${1:-serve}
case "$cmd" in
    serve)
        shift || true
        prepare
        say "serving on http://${FDA_API__HOST:-0.0.0.0}:${FDA_API__PORT:-8000} (docs at /docs, readiness at /readyz)"
        exec fda serve "$@"
        ;;
    prepare)
        prepare
        ;;
    ui)
        shift
        exec fda ui "$@"
        ;;
    mlflow)
        shift
        mkdir -p "$FDA_STATE_DIR/mlartifacts"
        exec mlflow server --backend-store-uri "sqlite:///$FDA_STATE_DIR/mlflow.db" \
            --artifacts-destination "$FDA_STATE_DIR/mlartifacts" \
            --host 0.0.0.0 --port "${FDA_MLFLOW_PORT:-5000}" "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
