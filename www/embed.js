// Embeds the Pleo OAuth walkthrough in a documentation page:
//   <div id="pleo-oauth-walkthrough" data-steps="1-6" data-compact="false" data-start-step="1"></div>
//   <script type="module" src="/embed.js"></script>
// Serve the page from the companion's origin (the API and the session cookie are same-origin).
import init from "./app.js";

const styles = document.createElement("link");
styles.rel = "stylesheet";
styles.href = new URL("./walkthrough.css", import.meta.url).href;
document.head.append(styles);

await init({ module_or_path: new URL("./app_bg.wasm", import.meta.url) });
