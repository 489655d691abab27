import { readdirSync, readFileSync } from "node:fs";
import { parse, canonical } from "./src/storage.js";
const dir = "/work/wt-editor/tests/browser/roundtrip/";
for (const f of readdirSync(dir).sort()) {
  const src = readFileSync(dir + f, "utf8");
  const c = canonical(parse(src));
  const c2 = canonical(parse(c));
  console.log("==", f, c === c2 ? "idempotent" : "NOT IDEMPOTENT");
  if (process.argv[2] === f || c !== c2) console.log(c + "\n--\n" + c2);
}
