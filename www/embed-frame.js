// Embeds the Pleo OAuth walkthrough in a documentation page on any site, in a frame served by
// the companion (its origin must be in the companion's COMPANION_EMBED_ORIGINS):
//   <div data-pleo-walkthrough data-steps="1-4" data-compact="true" data-start-step="1"></div>
//   <script src="https://walkthrough.example.net/embed-frame.js" async></script>
// Each such element becomes an iframe of https://walkthrough.example.net/embed whose height
// follows its content: the frame posts its height to this page's origin, and this script
// accepts it only from the companion's origin and from that very frame.
(() => {
  const script = document.currentScript;
  const companion = new URL(script ? script.src : location.href).origin;
  // Facts shared with the companion, each written once here (checked against the contract).
  const HEIGHT = "pleo-walkthrough:height";
  const EMBED_PATH = "/embed";
  const PAGE_PARAMETER = "page";
  const FRAME_REFUSED = "frame_refused";
  const FRAME_REFUSED_MESSAGE =
    "The walkthrough did not load in this page: the companion does not list this site in COMPANION_EMBED_ORIGINS, or it is not reachable.";
  // The frame says its height as soon as it runs; a frame silent this long after loading was
  // refused (this site is not in the companion's COMPANION_EMBED_ORIGINS) or got no answer.
  const SILENCE_MS = 4000;
  const frames = new Map();
  const heard = new WeakSet();

  addEventListener("message", (event) => {
    if (event.origin !== companion || event.data?.type !== HEIGHT) return;
    const frame = frames.get(event.source);
    const height = Number(event.data.height);
    if (frame && Number.isFinite(height) && height > 0 && height < 100000) {
      heard.add(frame);
      frame.style.height = `${Math.ceil(height)}px`;
    }
  });

  // The contract's `frame_refused`, with its stable code.
  function refused(frame) {
    const notice = document.createElement("p");
    notice.setAttribute("role", "alert");
    notice.dataset.errorCode = FRAME_REFUSED;
    notice.textContent = `${FRAME_REFUSED}: ${FRAME_REFUSED_MESSAGE}`;
    frame.replaceWith(notice);
  }

  function embed(element) {
    if (element.dataset.pleoWalkthroughMounted) return;
    element.dataset.pleoWalkthroughMounted = "true";
    const src = new URL(EMBED_PATH, companion);
    const options = { steps: "steps", compact: "compact", startStep: "start", theme: "theme" };
    for (const [data, parameter] of Object.entries(options)) {
      if (element.dataset[data] !== undefined) src.searchParams.set(parameter, element.dataset[data]);
    }
    // Where the frame sends its height: this page's origin, and nowhere else.
    src.searchParams.set("parent", location.origin);
    // This page (no query, no fragment): where the full page offers to return when the frame
    // cannot sign in here and the reader opens the walkthrough in a new tab.
    src.searchParams.set(PAGE_PARAMETER, location.origin + location.pathname);
    const frame = document.createElement("iframe");
    frame.src = src.href;
    frame.title = element.dataset.title || "Pleo OAuth 2.0 + PKCE walkthrough";
    frame.allow = "clipboard-write";
    frame.style.cssText = "width:100%;height:640px;border:0;display:block;";
    frame.addEventListener("load", () => setTimeout(() => heard.has(frame) || refused(frame), SILENCE_MS), {
      once: true,
    });
    element.replaceChildren(frame);
    frames.set(frame.contentWindow, frame);
  }

  function embedAll() {
    document.querySelectorAll("[data-pleo-walkthrough]").forEach(embed);
  }

  embedAll();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", embedAll);
  // Pages that render later (React, MDX) add their element after this script ran.
  new MutationObserver(embedAll).observe(document.documentElement, { childList: true, subtree: true });
  window.PleoWalkthrough = { embedAll };
})();
