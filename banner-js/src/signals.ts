// Signals for tags that read them: Google Consent Mode v2 (dataLayer) and
// Microsoft UET (uetq). Blocking never relies on them: Google's and
// Microsoft's tags stay blocked until their category is granted.
import type { BannerConfig, Choices, ConsentModeKey } from "./config";
import { NECESSARY } from "./cookie";

const KEYS: ConsentModeKey[] = ["ad_storage", "ad_user_data", "ad_personalization",
  "analytics_storage", "functionality_storage", "personalization_storage"];

type Q = unknown[];
const W = window as unknown as Record<"dataLayer" | "uetq", Q | undefined>;

const queue = (name: "dataLayer" | "uetq") => (W[name] = W[name] || []);

const mapping = (c: BannerConfig) => (c.consent_mode && c.consent_mode.mapping) || {};

// gtag() pushes its arguments object, which is what Google's tags read.
// eslint-disable-next-line prefer-rest-params -- the arguments object itself is what is pushed
function args(..._: unknown[]) { return arguments; }

/** Pushes the state of ch: with ch null the defaults (everything but
 *  security denied), before any other command (first in a dataLayer that no
 *  tag has taken over yet); else one update per decision (and one per page
 *  for a stored choice). */
export const signal = (c: BannerConfig, ch: Choices | null) => {
  const cm = c.consent_mode, m = mapping(c), s: Record<string, unknown> = {}, what = ch ? "update" : "default";
  if (!cm) return;
  for (const k of KEYS) {
    const cat = m[k];
    s[k] = ch && cat && (cat == NECESSARY || ch[cat]) ? "granted" : "denied";
  }
  if (cm.google) {
    const dl = queue("dataLayer"), a = args("consent", what, ch ? s : { ...s, security_storage: "granted", wait_for_update: 500 });
    if (!ch && dl.push == [].push) dl.unshift(a); else dl.push(a);
  }
  if (cm.microsoft_uet) queue("uetq").push("consent", what, { ad_storage: s.ad_storage });
};

/** Global Privacy Control is on. */
export const gpc = () => navigator.globalPrivacyControl === true;

/** Categories GPC turns off: marketing, and whatever Consent Mode maps ads to. */
export const gpcOff = (c: BannerConfig, cat: string) => {
  const m = mapping(c);
  return cat == "marketing" || cat == m.ad_storage || cat == m.ad_user_data || cat == m.ad_personalization;
};
