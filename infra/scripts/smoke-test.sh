#!/usr/bin/env bash
# Live smoke test of a deployment, run after `azd up` from the repository root:
#   bash infra/scripts/smoke-test.sh            # batch: two chapters, then realtime: one chapter
#   SMOKE_REALTIME=0 bash infra/scripts/smoke-test.sh   # batch only
# It uploads two short chapters to a new project, starts it, waits for the run to finish, and lists the outputs;
# then does the same for one chapter in realtime mode (Microsoft Entra ID on the regional realtime endpoint with
# aad#{SPEECH_RESOURCE_ID}#{token}). Exit code 0 only when every chapter succeeded. Cost: a few hundred characters.
# Needs: azd (signed in), az (signed in as the deploying user: Storage Blob Data Owner), curl, jq.
# The function key is read into a variable and never printed.
set -euo pipefail

for tool in azd az curl jq; do
  command -v "$tool" >/dev/null 2>&1 || { echo "smoke-test: $tool is required" >&2; exit 2; }
done

eval "$(azd env get-values)"
: "${AZURE_FUNCTION_APP_URL:?run azd up first}" "${AZURE_RESOURCE_GROUP:?}" "${AZURE_FUNCTION_APP_NAME:?}"
: "${AZURE_STORAGE_ACCOUNT_NAME:?}"
CHAPTERS="${CHAPTERS_CONTAINER:-chapters}"
AUDIO="${AUDIO_CONTAINER:-audio}"
TIMEOUT_SECONDS="${SMOKE_TIMEOUT_SECONDS:-1200}"
STAMP="$(date -u +%Y%m%d%H%M%S)"

FUNCTION_KEY="$(az functionapp keys list -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" \
  --query functionKeys.default -o tsv)"
api() { # api METHOD PATH [JSON]
  curl -sS --fail-with-body -X "$1" "$AZURE_FUNCTION_APP_URL$2" -H "x-functions-key: $FUNCTION_KEY" \
    -H 'Content-Type: application/json' ${3:+-d "$3"}
}

upload() { # upload PROJECT NAME TEXT
  local file
  file="$(mktemp)"
  printf '%s\n' "$3" >"$file"
  az storage blob upload --only-show-errors --auth-mode login --account-name "$AZURE_STORAGE_ACCOUNT_NAME" \
    --container-name "$CHAPTERS" --name "$1/$2" --file "$file" --overwrite >/dev/null
  rm -f "$file"
}

run_project() { # run_project PROJECT JSON_BODY EXPECTED_CHAPTERS
  local project="$1" body="$2" expected="$3" deadline status runtime
  echo "== $project: start $body"
  api POST "/api/projects/$project/synthesis" "$body" | jq -c '{id}' || return 1
  deadline=$(($(date +%s) + TIMEOUT_SECONDS))
  while :; do
    status="$(api GET "/api/projects/$project/synthesis")"
    runtime="$(jq -r '.runtimeStatus' <<<"$status")"
    echo "   $(jq -c '{runtimeStatus, phase, chapters}' <<<"$status")"
    case "$runtime" in Completed | Failed | Terminated) break ;; esac
    if (($(date +%s) > deadline)); then echo "   timed out after ${TIMEOUT_SECONDS}s" >&2; return 1; fi
    sleep 15
  done
  echo "   outputs in $AUDIO/$project/:"
  az storage blob list --only-show-errors --auth-mode login --account-name "$AZURE_STORAGE_ACCOUNT_NAME" \
    --container-name "$AUDIO" --prefix "$project/" --query '[].{name:name, bytes:properties.contentLength}' -o table
  [[ "$runtime" == Completed ]] && [[ "$(jq -r '.chapters.succeeded' <<<"$status")" == "$expected" ]]
}

failures=0
BATCH="smoke-batch-$STAMP"
upload "$BATCH" 01-arrival.txt "The ship came into the harbour at dawn. Gulls circled the mast, and the harbour master counted the crates of salt."
upload "$BATCH" 02-ledger.txt "In the evening the captain opened the ledger. Every line was a debt, and every debt had a name."
run_project "$BATCH" '{"mode":"batch"}' 2 || failures=$((failures + 1))

if [[ "${SMOKE_REALTIME:-1}" != 0 ]]; then
  REALTIME="smoke-realtime-$STAMP"
  upload "$REALTIME" 01-quay.txt "On the quay, the clerk read the names aloud, one by one, until the light was gone."
  run_project "$REALTIME" '{"mode":"realtime"}' 1 || failures=$((failures + 1))
fi

if ((failures > 0)); then
  echo "smoke-test: $failures project(s) did not complete; see the status above, the manifests in $AUDIO/, and Application Insights." >&2
  exit 1
fi
echo "smoke-test: every chapter synthesized."
