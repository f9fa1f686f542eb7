// Bundles each widget's front end into labnb/static/<name>.js (ES module, what anywidget loads) and its
// CSS into labnb/static/<name>.css. The output is committed so `pip install -e .` needs no node; CI
// rebuilds and fails when the committed bundle differs (scripts/test.sh).
import { build } from "esbuild";

const widgets = ["annotator", "review", "grader"];
await Promise.all(
  widgets.map((name) =>
    build({
      entryPoints: [`js/src/${name}.ts`],
      bundle: true,
      format: "esm",
      target: "es2020",
      minify: true,
      sourcemap: false,
      legalComments: "none",
      outfile: `labnb/static/${name}.js`,
      loader: { ".css": "css" },
      logLevel: "warning",
    }),
  ),
);
