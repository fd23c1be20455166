// The "samtycke" cookie: <consentId>.<version>.<unixSeconds>.<granted>, where
// granted lists the granted non-necessary category ids joined by "+".
// Refusals are stored exactly like acceptances.
import type { BannerConfig, Choices } from "./config";

export const NECESSARY = "necessary";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const now = () => Math.floor(Date.now() / 1e3);

/** Choices for every category: necessary always, others if ok(id). */
export const build = (c: BannerConfig, ok: (id: string) => boolean): Choices => {
  const r: Choices = {};
  for (const k of c.categories) r[k.id] = k.id == NECESSARY || ok(k.id);
  return r;
};

/** The first valid samtycke cookie, or null. */
export const read = (c: BannerConfig): { id: string; choices: Choices } | null => {
  for (const s of document.cookie.split(/; */)) {
    const p = s.slice(9).split(".");
    if (s.indexOf("samtycke=") == 0 && p.length == 4 && UUID.test(p[0]) &&
      +p[1] === c.version && /^\d+$/.test(p[2]) &&
      +p[2] + c.consent.lifetime_days * 86400 > now()) {
      const g = p[3].split("+");
      return { id: p[0].toLowerCase(), choices: build(c, (id) => g.indexOf(id) >= 0) };
    }
  }
  return null;
};

export const write = (c: BannerConfig, id: string, ch: Choices) => {
  const g = c.categories.filter((k) => k.id != NECESSARY && ch[k.id]).map((k) => k.id);
  const d = c.consent.cookie_domain;
  document.cookie = `samtycke=${id}.${c.version}.${now()}.${g.join("+")}; Path=/; Max-Age=${
    c.consent.lifetime_days * 86400}; SameSite=Lax${
    location.protocol == "https:" ? "; Secure" : ""}${d ? "; Domain=" + d : ""}`;
};
