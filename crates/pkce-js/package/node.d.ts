export * from "./pkce.js";
