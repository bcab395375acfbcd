const path = require("node:path");

module.exports = {
  mode: "production",
  entry: "./src/main.js",
  experiments: { outputModule: true },
  output: { path: path.resolve(__dirname, "dist/webpack"), filename: "main.js", module: true, clean: true },
};
