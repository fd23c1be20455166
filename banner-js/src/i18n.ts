// The banner's own words for its controls, in Swedish and English. The
// site's texts come from its configuration; the item details arrive already
// worded from details.json. A language configured beyond these two gets the
// English words.

const sv = {
  intro: "Välj vilka kategorier vi får använda. Du kan ändra dig när som helst.",
  gpc: "Din webbläsare skickar Global Privacy Control, därför är marknadsföring avstängd.",
  show: "Visa cookies och liknande",
  fail: "Detaljerna kunde inte hämtas. Se cookiepolicyn.",
  id: "Ditt samtyckes-ID",
  at: "valt",
  held: "Innehållet från {p} visas först när du godkänner kategorin {c}.",
  once: "Ladda en gång",
  always: "Tillåt alltid",
  proof: "Ladda ned kvitto på mitt val",
};

type Words = typeof sv;

const en: Words = {
  intro: "Choose which categories we may use. You can change your mind at any time.",
  gpc: "Your browser sends Global Privacy Control, so marketing is turned off.",
  show: "Show cookies and similar",
  fail: "The details could not be loaded. See the cookie notice.",
  id: "Your consent ID",
  at: "chosen",
  held: "This content from {p} is shown once you allow the category {c}.",
  once: "Load once",
  always: "Always allow",
  proof: "Download a receipt for my choice",
};

/** The banner's words in lang (English for languages other than Swedish). */
export const words = (lang: string): Words => (lang == "sv" ? sv : en);
