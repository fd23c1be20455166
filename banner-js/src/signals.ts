// Signals for tags that read them: Google Consent Mode v2 (dataLayer) and
// Microsoft UET (uetq). Blocking never relies on them: Google's and
// Microsoft's tags stay blocked until their category is granted.
import type { BannerConfig, Choices, ConsentModeKey } from "./config";
import { NECESSARY } from "./cookie";

const KEYS: ConsentModeKey[] = ["ad_storage", "ad_user_data", "ad_personalization",
  "analytics_storage", "functionality_storage", "personalization_storage"];

type Q = unknown[];
const W = window as unknown as { dataLayer?: Q; uetq?: Q };

// gtag() pushes its arguments object, which is what Google's tags read.
function args(..._: unknown[]) { return arguments; }

const state = (c: BannerConfig, ch: Choices | null) => {
  const m = (c.consent_mode && c.consent_mode.mapping) || {}, r: Record<string, string> = {};
  for (const k of KEYS) {
    const cat = m[k];
    r[k] = ch && cat && (cat == NECESSARY || ch[cat]) ? "granted" : "denied";
  }
  return r;
};

/** Pushes the defaults (everything but security denied) before any other
 *  command: first in a dataLayer that no tag has taken over yet. */
export const defaults = (c: BannerConfig) => {
  const cm = c.consent_mode;
  if (!cm) return;
  if (cm.google) {
    const dl = (W.dataLayer = W.dataLayer || []), a = args("consent", "default",
      { ...state(c, null), security_storage: "granted", wait_for_update: 500 });
    if (dl.push == [].push) dl.unshift(a); else dl.push(a);
  }
  if (cm.microsoft_uet) (W.uetq = W.uetq || []).push("consent", "default", { ad_storage: "denied" });
};

/** One update per decision (and one per page for a stored choice). */
export const update = (c: BannerConfig, ch: Choices) => {
  const cm = c.consent_mode;
  if (!cm) return;
  const s = state(c, ch);
  if (cm.google) (W.dataLayer = W.dataLayer || []).push(args("consent", "update", s));
  if (cm.microsoft_uet) (W.uetq = W.uetq || []).push("consent", "update", { ad_storage: s.ad_storage });
};

/** Global Privacy Control is on. */
export const gpc = () => navigator.globalPrivacyControl === true;

/** Categories GPC turns off: marketing, and whatever Consent Mode maps ads to. */
export const gpcOff = (c: BannerConfig, cat: string) => {
  const m = (c.consent_mode && c.consent_mode.mapping) || {};
  return cat == "marketing" || cat == m.ad_storage || cat == m.ad_user_data || cat == m.ad_personalization;
};
