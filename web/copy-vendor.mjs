// Copies the built front-end libraries from node_modules into the Python package's static folder,
// so the console is served offline by the API (nothing is loaded from a CDN).
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "..", "src", "xiuhua", "entrypoints", "web", "static", "vendor");
const files = [
  ["maplibre-gl/dist/maplibre-gl.js", "maplibre-gl.js"],
  ["maplibre-gl/dist/maplibre-gl.css", "maplibre-gl.css"],
  ["maplibre-gl/LICENSE.txt", "maplibre-gl.LICENSE.txt"],
];
mkdirSync(target, { recursive: true });
for (const [from, to] of files) {
  cpSync(join(here, "node_modules", from), join(target, to));
}
console.log(`vendor: ${files.length} files → ${target}`);
