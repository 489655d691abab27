// Builds host/assets/editor.js (+ editor.css) from src/: minified, one IIFE,
// no source maps, no absolute paths, so that a fresh build is byte for byte
// the committed bundle (tests/run.sh checks it).
import * as esbuild from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";

// `--check`: build in memory and fail unless the committed files are equal.
const check = process.argv.includes("--check");

const out = new URL("../assets/", import.meta.url);
const r = await esbuild.build({
  entryPoints: [new URL("src/index.js", import.meta.url).pathname],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  charset: "utf8",
  legalComments: "none",
  sourcemap: false,
  write: false,
  logLevel: "warning",
});
const banner = "/* Cairn rich-text editor: built from host/editor (npm run build); ProseMirror, MIT licence. */\n";
const files = [["editor.js", banner + r.outputFiles[0].text]];
const css = await esbuild.build({
  entryPoints: [new URL("src/editor.css", import.meta.url).pathname],
  bundle: true,
  minify: true,
  charset: "utf8",
  write: false,
  logLevel: "warning",
});
files.push(["editor.css", css.outputFiles[0].text]);
let stale = [];
for (const [name, text] of files) {
  const path = new URL(name, out);
  if (check) {
    let now = null;
    try {
      now = readFileSync(path, "utf8");
    } catch (_) {}
    if (now !== text) stale.push("host/assets/" + name);
  } else writeFileSync(path, text);
}
if (stale.length) {
  console.error(`${stale.join(" and ")} differ from a fresh build of host/editor: run npm run build in host/editor and commit the result`);
  process.exit(1);
}
console.log(check ? "host/assets/editor.js and editor.css equal a fresh build" : "wrote host/assets/editor.js and editor.css");
