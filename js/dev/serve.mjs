// Dev server for the annotator harness: serves the repository read-only (the built bundle in
// labnb/static, the sample images, this folder) and, under /extra/, files from $LABNB_DEV_EXTRA (large
// synthetic images made for perf checks). Usage: node js/dev/serve.mjs [port]  (default 8765)
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const EXTRA = process.env.LABNB_DEV_EXTRA ? resolve(process.env.LABNB_DEV_EXTRA) : null;
const PORT = Number(process.argv[2] ?? process.env.PORT ?? 8765);
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".png": "image/png",
  ".webp": "image/webp",
};

function resolvePath(urlPath) {
  const clean = normalize(decodeURIComponent(urlPath)).replace(/^(\.\.[/\\])+/, "");
  if (clean === "/" || clean === "") return join(ROOT, "js/dev/harness.html");
  if (EXTRA && clean.startsWith("/extra/")) {
    const p = resolve(join(EXTRA, clean.slice("/extra/".length)));
    return p.startsWith(EXTRA) ? p : null;
  }
  const p = resolve(join(ROOT, clean));
  return p.startsWith(ROOT) ? p : null;
}

createServer((req, res) => {
  const path = resolvePath(new URL(req.url ?? "/", "http://x").pathname);
  let size = -1;
  try {
    size = path ? statSync(path).size : -1;
    if (path && statSync(path).isDirectory()) size = -1;
  } catch {
    size = -1;
  }
  if (!path || size < 0) {
    res.writeHead(404).end("not found");
    return;
  }
  res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream", "content-length": size, "cache-control": "no-store" });
  createReadStream(path).pipe(res);
}).listen(PORT, "127.0.0.1", () => console.log(`annotator harness on http://127.0.0.1:${PORT}/`));
