#!/bin/sh
# Regenerates the isbot pattern list that tally embeds and the User-Agent fixtures its tests read,
# from the npm packages named below (pinned: a new version is a reviewed change). Run it with
# `go generate ./internal/classify` (needs Node and npm).
#
#   isbot               https://github.com/omrilotan/isbot                  (Unlicense)
#   crawler-user-agents https://github.com/monperrus/crawler-user-agents    (MIT)
#   user-agents         https://github.com/intoli/user-agents               (BSD-2-Clause)
#   crawlerdetect       https://github.com/x-way/crawlerdetect, its testdata (MIT), from the
#                       Go module cache at the version go.mod names
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkg=$(dirname "$here")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent isbot@5.2.3 crawler-user-agents@1.60.0 user-agents@2.1.198
cd_dir=$(cd "$pkg" && go mod download -json github.com/x-way/crawlerdetect | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
cp "$here/lists.mjs" "$tmp/"
node "$tmp/lists.mjs" "$cd_dir/testdata" "$pkg"
