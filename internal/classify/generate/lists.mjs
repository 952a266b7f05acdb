// Writes isbot's pattern list (isbot_patterns.txt, with its licence) and the fixture lists in
// testdata/lists: one file per public list, each line "<isbot's verdict: 1 bot, 0 not>\t<UA>".
// The verdicts let the tests hold tally to isbot on every list: catch each crawler it catches,
// drop no web browser it counts. See lists.sh for where the inputs come from.
import { isbot, list } from "isbot";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";

const [crawlerdetectData, pkg] = process.argv.slice(2);
const clean = (s) => s.trim().replace(/^\d+\s+/, "").replace(/^["']|["']$/g, "");
const uniq = (a) => [...new Set(a.map(clean).filter((s) => s && !/[\t\r\n]/.test(s)))];
const lines = (f) => uniq(readFileSync(f, "utf8").split("\n"));
const json = (f) => JSON.parse(readFileSync(f, "utf8"));

writeFileSync(`${pkg}/isbot_patterns.txt`, list.join("\n") + "\n");
copyFileSync("node_modules/isbot/LICENSE", `${pkg}/isbot_LICENSE`);
// Each fixture list keeps its licence beside it.
copyFileSync("node_modules/crawler-user-agents/LICENSE", `${pkg}/testdata/lists/crawler-user-agents_LICENSE`);
copyFileSync("node_modules/user-agents/LICENSE", `${pkg}/testdata/lists/user-agents_LICENSE`);
copyFileSync(`${crawlerdetectData}/../LICENSE`, `${pkg}/testdata/lists/crawlerdetect_LICENSE`);

// crawlerdetect's devices list has 165,000 lines: every one that is not a plain Mozilla/5.0
// browser is kept (that is where the lists disagree), and every 25th of the rest.
const devices = lines(`${crawlerdetectData}/devices.txt`)
  .filter((ua, i) => isbot(ua) || !ua.startsWith("Mozilla/5.0 ") || i % 25 === 0);

const lists = {
  "crawlerdetect-crawlers": lines(`${crawlerdetectData}/crawlers.txt`),
  "crawlerdetect-devices": devices,
  "crawler-user-agents": uniq(json("node_modules/crawler-user-agents/crawler-user-agents.json").flatMap((e) => e.instances || [])),
  "user-agents": uniq(json("node_modules/user-agents/dist/user-agents.json").map((e) => e.userAgent)),
};
for (const [name, uas] of Object.entries(lists)) {
  writeFileSync(`${pkg}/testdata/lists/${name}.tsv`, uas.map((ua) => `${isbot(ua) ? 1 : 0}\t${ua}`).join("\n") + "\n");
  console.log(`${name}: ${uas.length} User-Agents, ${uas.filter((ua) => isbot(ua)).length} bots by isbot`);
}
