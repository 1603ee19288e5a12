#!/usr/bin/env bash
# `make assets`: fetch the query editor (YASGUI) and the accessibility checker the browser tests
# run (axe-core) from the npm registry at pinned versions, and copy their built files where the
# package (src/leapsld/web/static/yasgui/) and the tests (tests/assets/) load them from, each
# with its version and licence. Nothing is built here: both packages ship built files.
set -euo pipefail
cd "$(dirname "$0")/.."

YASGUI_VERSION=4.6.2
AXE_VERSION=4.14.1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --ignore-scripts --silent \
    "@zazuko/yasgui@$YASGUI_VERSION" "axe-core@$AXE_VERSION"
)
modules="$work/node_modules"

yasgui=src/leapsld/web/static/yasgui
mkdir -p "$yasgui"
cp "$modules/@zazuko/yasgui/build/yasgui.min.js" "$modules/@zazuko/yasgui/build/yasgui.min.css" "$yasgui/"
echo "@zazuko/yasgui $YASGUI_VERSION (npm), MIT" > "$yasgui/VERSION"
{
  echo "@zazuko/yasgui $YASGUI_VERSION: MIT License"
  echo "Copyright (c) Triply <info@triply.cc> and Zazuko GmbH"
  echo
  # the package states its licence in package.json only; the MIT terms, then the licences of
  # the libraries its built file bundles, as each ships them
  cat "$modules/codemirror/LICENSE" | sed -n '5,$p'
  for license in "$modules"/*/LICENSE* "$modules"/@*/*/LICENSE*; do
    case "$license" in *axe-core*) continue ;; esac
    echo
    echo "---- $(basename "$(dirname "$license")") ----"
    cat "$license"
  done
} > "$yasgui/LICENSE"

tests=tests/assets
mkdir -p "$tests"
cp "$modules/axe-core/axe.min.js" "$tests/"
cat "$modules/axe-core/LICENSE" > "$tests/axe-LICENSE"
echo "axe-core $AXE_VERSION (npm), MPL-2.0" > "$tests/axe-VERSION"
echo "assets: yasgui $YASGUI_VERSION in $yasgui, axe-core $AXE_VERSION in $tests"
