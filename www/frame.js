// The walkthrough framed by a documentation page (/embed, embed.html): the frame's page, which
// embeds the walkthrough as a documentation page on the companion's origin would (embed.js),
// with the mount element made here from the frame's query (`steps`, `compact`, `start`, as
// embed-frame.js copies them from the documentation page) and marked `data-frame`, its theme
// (`theme`); and the
// frame's side of two conversations.
// 1. Its height, posted whenever the content's height changes to the documentation page that
//    framed it: to the origin the loader (embed-frame.js) passed as `parent`, and no other. The
//    frame accepts no message from that page.
// 2. Signing in through a pop-up: PleoFrame.signIn(url, state, onClosed) opens it at once (a
//    browser allows a pop-up only while handling the click, so the app calls this synchronously
//    with the authorize URL its WebAssembly just made) and resolves with the callback's query:
//    from the pop-up's own message (checked: this origin, from that very window), or, when the
//    pop-up lost its link to this frame (the authorisation server's pages sent
//    Cross-Origin-Opener-Policy; the frame then sees it as closed), handed over through the
//    companion (POST /api/embed/handoff/take, with this frame's attempt cookie). It rejects with
//    a stable code: popup_blocked, popup_closed (after onClosed, once the sign-in can no longer
//    come back), handoff_conflict (two callbacks came through the companion: neither is used),
//    or superseded (another sign-in started).
//    Each frame names its pop-up window for itself, so two frames on one page never share one.
// 3. Whether this browser keeps the frame's cookies on this documentation page, known as the
//    frame loads (the companion sets a probe cookie with the attributes of the frame's own, and
//    is asked whether it came back): PleoFrame.cookiesRefused(). Where they are refused,
//    signIn opens no pop-up and throws frame_cookies_refused, having asked the browser for them
//    (the Storage Access API, where offered: the click is the gesture it needs); once granted,
//    the check runs again and the next click signs in.
// 4. The link to the full page in a new tab (where the frame cannot sign in): as it is followed,
//    it names the documentation page the frame is on (its loader's `page`), for a way back.
// Facts shared with the companion, each written once here (checked against the contract).
const HEIGHT = "pleo-walkthrough:height";
const CALLBACK = "pleo-walkthrough:callback";
const RECEIVED = "pleo-walkthrough:callback-received";
const HANDOFF_TAKE_PATH = "/api/embed/handoff/take";
const COOKIE_CHECK_PATH = "/api/embed/cookie-check";
const PAGE_PARAMETER = "page";
const BACK_PARAMETER = "back";
const NEW_TAB_LINK_ID = "open-in-new-tab";
const CSRF_HEADER = "x-requested-with";
const CSRF_HEADER_VALUE = "pleo-walkthrough";
const EMBED_HEADER = "x-walkthrough-embed";
const EMBED_HEADER_VALUE = "frame";
const ATTEMPT_SECS = 600; // the frame waits for its pop-up as long as the companion keeps the attempt
// What signIn rejects with (stable codes, and `superseded`, which is not an error to show).
const POPUP_BLOCKED = "popup_blocked";
const POPUP_CLOSED = "popup_closed";
const FRAME_COOKIES_REFUSED = "frame_cookies_refused";
const HANDOFF_CONFLICT = "handoff_conflict";
const SUPERSEDED = "superseded";
// What the companion's hand-off answers while the callback may still come.
const HANDOFF_PENDING = "handoff_pending";
const SESSION_STORE_UNAVAILABLE = "session_store_unavailable";
const COMPANION_UNREACHABLE = "companion_unreachable";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function reportHeight() {
  let parentOrigin;
  try {
    parentOrigin = new URL(query.get("parent")).origin;
  } catch {
    return; // A bare <iframe>: a fixed height and its own scrollbar.
  }
  if (parentOrigin === "null") return;
  let last = 0;
  const post = () => {
    const style = getComputedStyle(document.body);
    const height = Math.ceil(
      document.body.getBoundingClientRect().height + parseFloat(style.marginTop) + parseFloat(style.marginBottom),
    );
    if (height !== last) {
      last = height;
      window.parent.postMessage({ type: HEIGHT, height }, parentOrigin);
    }
  };
  new ResizeObserver(post).observe(document.body);
}

async function takeHandoff(state) {
  try {
    const response = await fetch(HANDOFF_TAKE_PATH, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [CSRF_HEADER]: CSRF_HEADER_VALUE,
        [EMBED_HEADER]: EMBED_HEADER_VALUE,
      },
      body: JSON.stringify({ state }),
    });
    const body = await response.json().catch(() => null);
    return response.ok ? { callback: body?.callback } : { error: body?.error ?? COMPANION_UNREACHABLE };
  } catch {
    return { error: COMPANION_UNREACHABLE };
  }
}

let generation = 0;
let popup = null;
// This frame's own pop-up window name: with one name for every frame, a second frame's sign-in
// would load in the first frame's window, and its callback would go to the first frame.
const POPUP_NAME = `pleo-walkthrough-sign-in-${crypto.getRandomValues(new Uint32Array(2)).join("-")}`;

function signIn(url, state, onClosed) {
  if (cookiesRefused) {
    requestStorageAccess();
    throw FRAME_COOKIES_REFUSED;
  }
  const mine = ++generation;
  popup = window.open(url, POPUP_NAME, "popup=yes,width=520,height=720");
  const opened = popup;
  if (!opened) throw POPUP_BLOCKED;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (ok, value) => {
      if (settled) return;
      settled = true;
      removeEventListener("message", onMessage);
      (ok ? resolve : reject)(value);
    };
    function onMessage(event) {
      if (event.origin !== location.origin || event.source !== opened) return;
      if (event.data?.type !== CALLBACK || typeof event.data.callback !== "string") return;
      opened.postMessage({ type: RECEIVED }, location.origin);
      finish(true, event.data.callback);
    }
    addEventListener("message", onMessage);
    (async () => {
      while (!settled && !opened.closed && mine === generation) await sleep(200);
      if (settled) return;
      // A newer sign-in owns the step: this one's closing is not news.
      if (mine !== generation) return finish(false, SUPERSEDED);
      onClosed();
      const deadline = Date.now() + ATTEMPT_SECS * 1000;
      for (let wait = 300; !settled && Date.now() < deadline; wait = Math.min(wait * 1.25, 3000)) {
        if (mine !== generation) return finish(false, SUPERSEDED);
        const answer = await takeHandoff(state);
        if (answer.callback) return finish(true, answer.callback);
        // Two callbacks came for this sign-in (its address was used twice): neither is used.
        if (answer.error === HANDOFF_CONFLICT) return finish(false, HANDOFF_CONFLICT);
        if (answer.error !== HANDOFF_PENDING && answer.error !== SESSION_STORE_UNAVAILABLE) break;
        await sleep(wait);
      }
      finish(false, POPUP_CLOSED);
    })();
  });
}

// false until the check answers: a browser that keeps them is never held up by it.
let cookiesRefused = false;
async function checkCookies() {
  const headers = { [EMBED_HEADER]: EMBED_HEADER_VALUE };
  try {
    const set = await fetch(COOKIE_CHECK_PATH, { method: "POST", headers: { ...headers, [CSRF_HEADER]: CSRF_HEADER_VALUE } });
    if (!set.ok) return; // The companion's own trouble: the sign-in says so itself.
    const body = await (await fetch(COOKIE_CHECK_PATH, { headers })).json();
    cookiesRefused = body?.kept === false;
  } catch {
    // Unreachable: the sign-in says so itself.
  }
}

function requestStorageAccess() {
  if (typeof document.requestStorageAccess !== "function") return;
  document.requestStorageAccess().then(checkCookies, () => {});
}

// Stops waiting for the current sign-in and closes its window (the companion refused to start it).
function cancel() {
  generation += 1;
  popup?.close();
}

// Runs before embed.js (module scripts run in document order), so the app finds its mount element.
const query = new URLSearchParams(location.search);
const mount = Object.assign(document.createElement("div"), { id: "pleo-oauth-walkthrough" });
mount.dataset.frame = "";
for (const [parameter, data] of [["steps", "steps"], ["compact", "compact"], ["start", "startStep"]]) {
  if (query.has(parameter)) mount.dataset[data] = query.get(parameter);
}
// `theme=light|dark` fixes the frame's theme (walkthrough.css); anything else follows the system.
if (["light", "dark"].includes(query.get("theme"))) document.documentElement.dataset.theme = query.get("theme");
document.body.append(mount);
window.PleoFrame = { signIn, cancel, cookiesRefused: () => cookiesRefused };
addEventListener(
  "click",
  (event) => {
    const link = event.target.closest?.(`#${NEW_TAB_LINK_ID}`);
    const page = query.get(PAGE_PARAMETER);
    if (link && page) link.search = `?${BACK_PARAMETER}=${encodeURIComponent(page)}`;
  },
  true,
);
checkCookies();
// Framed (else opened on its own): its height to the documentation page.
if (window.parent !== window) reportHeight();
