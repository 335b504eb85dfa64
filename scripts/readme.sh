#!/usr/bin/env bash
# Render nbs/index.ipynb to README.md (Quarto, which nbdev_readme needs, cannot be installed here).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.venv/bin/jupyter nbconvert --to markdown --log-level=ERROR --output-dir "$tmp" --output README nbs/index.ipynb
{ echo "<!-- Generated from nbs/index.ipynb by 'make readme': edit the notebook, not this file. -->"; echo; cat "$tmp/README.md"; } > README.md.tmp
mv README.md.tmp README.md
