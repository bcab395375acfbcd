// The redirect URI's page, /callback. Small on purpose: a pop-up only relays and needs no app.
// - A tab that started the full-page flow (its pending authorization is in this tab's
//   sessionStorage) runs the app, whose callback page checks the response and exchanges the code.
// - A pop-up opened by the walkthrough framed in a documentation page gives code, state and iss
//   to the frame that opened it (postMessage to the companion's own origin only, acknowledged by
//   the frame), and closes. The frame runs the checks and the exchange; the verifier never
//   leaves it.
// - A pop-up cut off from its frame (the authorisation server's pages sent
//   Cross-Origin-Opener-Policy) hands them over through the companion, which keeps them only
//   for the frame's sign-in of that state, once, for a minute (POST /api/embed/handoff).
// - Anything else runs the app, which says what is wrong (no pending authorization, ...).
// `cargo xtask build-app` writes the content-hashed names of the app's files in here.
const APP_JS = "./app.js";
const APP_WASM = "./app_bg.wasm";
const APP_CSS = "./walkthrough.css";
const PENDING = "pleo-walkthrough.pending-authorization";
const CALLBACK = "pleo-walkthrough:callback";
const RECEIVED = "pleo-walkthrough:callback-received";

const callback = location.search;
const status = document.getElementById("callback-relay");

function pendingInThisTab() {
  try {
    return sessionStorage.getItem(PENDING) !== null;
  } catch {
    return false;
  }
}

async function runApp() {
  const styles = document.createElement("link");
  styles.rel = "stylesheet";
  styles.href = new URL(APP_CSS, import.meta.url).href;
  document.head.append(styles);
  status.remove();
  const { default: init } = await import(APP_JS);
  await init({ module_or_path: new URL(APP_WASM, import.meta.url) });
}

// The code leaves the address bar and the history before anything else happens.
function forgetTheCode() {
  history.replaceState(null, "", "/callback");
}

function done() {
  forgetTheCode();
  status.textContent = "Signed in. This window closes; the walkthrough goes on in the documentation page.";
  window.close();
}

// Posts the callback to the opener and waits for the frame's acknowledgement.
function relayToOpener(opener) {
  return new Promise((resolve) => {
    const onMessage = (event) => {
      if (event.origin !== location.origin || event.source !== opener || event.data?.type !== RECEIVED) return;
      finish(true);
    };
    const timer = setTimeout(() => finish(false), 1500);
    function finish(received) {
      clearTimeout(timer);
      removeEventListener("message", onMessage);
      resolve(received);
    }
    addEventListener("message", onMessage);
    try {
      opener.postMessage({ type: CALLBACK, callback }, location.origin);
    } catch {
      finish(false);
    }
  });
}

async function handOff() {
  try {
    const response = await fetch("/api/embed/handoff", {
      method: "POST",
      headers: { "content-type": "application/json", "x-requested-with": "pleo-walkthrough" },
      body: JSON.stringify({ callback }),
    });
    if (response.status === 202) return { kept: true };
    const body = await response.json().catch(() => null);
    return { error: body?.error ?? "companion_unreachable", message: body?.message ?? "" };
  } catch {
    return { error: "companion_unreachable", message: "The companion is not reachable." };
  }
}

function showError({ error, message }) {
  forgetTheCode();
  status.textContent = "";
  const notice = document.createElement("div");
  notice.className = "error";
  notice.setAttribute("role", "alert");
  notice.dataset.errorCode = error;
  const code = document.createElement("strong");
  code.textContent = error;
  notice.append(code, " ", message, " Close this window and start again in the walkthrough.");
  status.after(notice);
}

if (pendingInThisTab() || !callback) {
  await runApp();
} else if (window.opener && (await relayToOpener(window.opener))) {
  done();
} else {
  const outcome = await handOff();
  if (outcome.kept) done();
  else if (outcome.error === "handoff_not_expected") await runApp();
  else showError(outcome);
}
