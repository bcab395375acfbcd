// Node 20+: initialise synchronously from the bytes of the .wasm beside this file.
import { readFileSync } from "node:fs";
import { initSync } from "./pkce.js";

initSync({ module: readFileSync(new URL("./pkce_bg.wasm", import.meta.url)) });

export * from "./pkce.js";
