#!/usr/bin/env bash
# Makes the Bicep CLI available through an ordinary NuGet restore (no download script):
# bicep-cli.csproj has a PackageDownload of Azure.Bicep.CommandLine.linux-x64, whose package carries
# the self-contained `bicep` binary under tools/.
#   restore-bicep.sh               restore (quietly; a no-op when the package is already cached)
#   restore-bicep.sh --print-path  print the path of the restored `bicep` binary (restores if needed)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
project="$here/bicep-cli.csproj"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

version="$(sed -n 's:.*<BicepCliVersion>\(.*\)</BicepCliVersion>.*:\1:p' "$project")"
packages="${NUGET_PACKAGES:-}"
if [ -z "$packages" ]; then
  packages="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: *//p')"
fi
bicep="${packages%/}/azure.bicep.commandline.linux-x64/$version/tools/bicep"

restore() {
  dotnet restore "$project" --verbosity quiet >&2
  chmod +x "$bicep"
}

case "${1:-}" in
  --print-path)
    [ -x "$bicep" ] || restore
    echo "$bicep"
    ;;
  "")
    restore
    "$bicep" --version >&2
    ;;
  *)
    echo "usage: $0 [--print-path]" >&2
    exit 2
    ;;
esac
