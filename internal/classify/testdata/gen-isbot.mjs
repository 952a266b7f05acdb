// Splits public User-Agent lists by what isbot says, for tally's bot tests.
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
