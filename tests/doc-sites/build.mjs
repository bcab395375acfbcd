// Builds the documentation pages of the end-to-end embed tests (`cargo xtask doc-sites` writes
// the sources from the README's snippets, then runs this): each MDX page is compiled by MDX 3,
// the compiler Mintlify and Docusaurus both use, with the README's component as the platform
// would resolve it (`/snippets/…` in Mintlify, `@site/…` in Docusaurus), and rendered by React
// in the browser.
import path from "node:path";
import * as esbuild from "esbuild";
import mdx from "@mdx-js/esbuild";
import remarkFrontmatter from "remark-frontmatter";

const dir = path.resolve(process.argv[2] ?? ".");

// Mintlify's absolute `/snippets/…` imports and Docusaurus's `@site/…` alias, both at `dir`.
const platformPaths = {
  name: "platform-paths",
  setup(build) {
    build.onResolve({ filter: /^\/snippets\// }, (args) => ({ path: path.join(dir, args.path) }));
    build.onResolve({ filter: /^@site\// }, (args) => {
      const file = path.join(dir, args.path.slice("@site/".length));
      return { path: file.endsWith(".jsx") ? file : `${file}.jsx` };
    });
  },
};

for (const page of ["mintlify", "docusaurus"]) {
  await esbuild.build({
    entryPoints: [path.join(dir, `${page}-entry.jsx`)],
    outfile: path.join(dir, "dist", `${page}.js`),
    bundle: true,
    format: "esm",
    jsx: "automatic",
    minify: true,
    logLevel: "warning",
    define: { "process.env.NODE_ENV": '"production"' },
    plugins: [platformPaths, mdx({ remarkPlugins: [remarkFrontmatter] })],
  });
}
