// Splits public User-Agent lists by what the isbot npm package says, for tally's bot tests.
//
// Regenerate isbot_crawlers.txt and browsers.txt (needs Node and npm):
//
//   cd "$(mktemp -d)" && npm init -y && npm install isbot
//   CD=$(go env GOMODCACHE)/github.com/x-way/crawlerdetect@v0.2.31/testdata
//   cp /path/to/tally/internal/classify/testdata/gen-isbot.mjs . &&
//     node gen-isbot.mjs $CD/crawlers.txt $CD/devices.txt /path/to/tally/internal/classify/testdata
//
// The input lists are crawlerdetect's public fixtures (MIT); the files made from them were made
// with isbot 5.2.3.
import { isbot } from "isbot";
import { readFileSync, writeFileSync } from "node:fs";
const [crawlersIn, devicesIn, outDir] = process.argv.slice(2);
const clean = (s) => s.trim().replace(/^\d+\s+/, "").replace(/^["']|["']$/g, "");
const lines = (f) => [...new Set(readFileSync(f, "utf8").split("\n").map(clean).filter(Boolean))];
const crawlers = lines(crawlersIn).filter((ua) => isbot(ua));
const browsers = lines(devicesIn).filter((ua) => !isbot(ua) && /Mozilla\/5\.0/.test(ua) && /(Chrome|Firefox|Safari|Edg)\//.test(ua));
// Every 40th browser keeps the file small but spread over the whole list.
const sample = browsers.filter((_, i) => i % 40 === 0);
writeFileSync(`${outDir}/isbot_crawlers.txt`, crawlers.join("\n") + "\n");
writeFileSync(`${outDir}/browsers.txt`, sample.join("\n") + "\n");
console.log(`crawlers flagged by isbot: ${crawlers.length} of ${lines(crawlersIn).length}; browsers kept: ${sample.length} of ${browsers.length}`);
