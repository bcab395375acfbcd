// The way back to the documentation page a reader came from: the walkthrough's frame there could
// not sign in and opened this full page in a new tab, naming that page in `back`. Loaded by the
// page (index.html) only then. The page is kept for this tab across the sign-in's redirects and
// offered at the end of the walkthrough once the companion confirms it is on a site allowed to
// frame the walkthrough (GET /api/embed/way-back): a crafted link never makes the walkthrough a
// signpost to another site.
// Facts shared with the companion, each written once here (checked against the contract).
const BACK_PARAMETER = "back";
const BACK_TO_DOCUMENTATION_KEY = "pleo-walkthrough.back-to-documentation";
const WAY_BACK_PATH = "/api/embed/way-back";
const WAY_BACK_TARGET_PARAMETER = "to";

const given = new URLSearchParams(location.search).get(BACK_PARAMETER);
if (given) sessionStorage.setItem(BACK_TO_DOCUMENTATION_KEY, given);
const back = given ?? sessionStorage.getItem(BACK_TO_DOCUMENTATION_KEY);
const answer = back && (await fetch(`${WAY_BACK_PATH}?${WAY_BACK_TARGET_PARAMETER}=${encodeURIComponent(back)}`).catch(() => null));
if (answer?.ok) {
  const { to } = await answer.json();
  const link = Object.assign(document.createElement("a"), {
    id: "back-to-documentation",
    href: to,
    textContent: "Back to the documentation page",
  });
  const paragraph = Object.assign(document.createElement("p"), { className: "card back-to-documentation" });
  paragraph.append(link);
  document.body.append(paragraph);
}
