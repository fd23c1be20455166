// The "samtycke" cookie:
//
//   <consent id>.<version>.<fingerprint>.<unix seconds>.<state>
//
// state is the granted optional category ids joined by "+" (empty: all
// refused; refusals are kept exactly like acceptances), or "!" when only the
// automatic GPC refusal was recorded and the visitor has not chosen yet.
// A cookie with another fingerprint, an expired one, or one in the earlier
// four-field format (<id>.<version>.<time>.<granted>) is no longer a valid
// choice, but its consent ID is kept for the next one.
import type { BannerConfig, Choices, Erasable } from "./config";

export const NECESSARY = "necessary";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a samtycke cookie holds. */
export interface Saved {
  id: string;
  /** The fingerprint it was chosen under (write stores the current one). */
  fp?: string;
  t: number;
  /** Granted optional categories. */
  g: string[];
  /** Only the automatic GPC refusal is recorded. */
  p: boolean;
}

export const now = () => Math.floor(Date.now() / 1e3);

const jar = () => document.cookie.split(/; */);

/** Choices for every category: necessary always, others if ok(id). */
export const build = (c: BannerConfig, ok: (id: string) => boolean): Choices => {
  const r: Choices = {};
  for (const k of c.categories) r[k.id] = k.id == NECESSARY || ok(k.id);
  return r;
};

/** Every samtycke cookie the page sees (host-only and domain-wide twins alike), newest first. */
export const read = (): Saved[] => {
  const out: Saved[] = [];
  for (const s of jar()) {
    const p = s.slice(9).split(".");
    if (s.indexOf("samtycke=") || !UUID.test(p[0])) continue;
    if (p.length == 4) p.splice(2, 0, ""); // earlier format: no fingerprint
    if (p.length == 5 && /^\d+$/.test(p[3]))
      out.push({ id: p[0].toLowerCase(), fp: p[2], t: +p[3], g: p[4] ? p[4].split("+") : [], p: p[4] == "!" });
  }
  return out.sort((a, b) => b.t - a.t);
};

/** The cookie domain, when the page is on it (a browser refuses any other). */
const domain = (c: BannerConfig) => {
  const d = (c.consent.cookie_domain || "").replace(/^\./, ""), h = location.hostname;
  return d && (h == d || h.slice(-d.length - 1) == "." + d) ? d : "";
};

const attrs = () => `; Path=/; SameSite=Lax${location.protocol == "https:" ? "; Secure" : ""}`;

/** Stores s for the rest of its lifetime; with a cookie domain, removes a host-only duplicate first. */
export const write = (c: BannerConfig, s: Saved) => {
  const d = domain(c), a = attrs();
  if (d) document.cookie = "samtycke=; Max-Age=0" + a;
  document.cookie = `samtycke=${s.id}.${c.version}.${c.fingerprint}.${s.t}.${s.p ? "!" : s.g.join("+")}; Max-Age=${
    s.t + c.consent.lifetime_days * 86400 - now()}${a}${d ? "; Domain=" + d : ""}`;
};

const like = (it: Erasable, name: string) => {
  try {
    return it.pattern ? new RegExp(it.pattern).test(name) : it.name == name;
  } catch (e) { return false; }
};

/** Deletes the declared first-party cookies and storage of every category gone(id) is true for,
 *  on every path above this page and every domain the page may set. */
export const erase = (c: BannerConfig, gone: (cat: string) => boolean) => {
  const names = jar().map((s) => s.split("=")[0]);
  const paths = ["/"], doms = [""];
  let p = "/";
  for (const seg of location.pathname.split("/")) if (seg) paths.push((p += seg), (p += "/"));
  location.hostname.split(".").forEach((_, i, l) => doms.push(l.slice(i).join(".")));
  for (const it of c.items) {
    if (!gone(it.category)) continue;
    if (it.type == "cookie") {
      for (const n of names) {
        if (like(it, n))
          for (const q of paths)
            for (const d of doms) document.cookie = `${n}=; Max-Age=0; Path=${q}${d ? "; Domain=" + d : ""}`;
      }
    } else if (it.type == "indexeddb") {
      if (!it.pattern) indexedDB.deleteDatabase(it.name);
    } else if (it.type != "pixel") {
      const st = it.type == "local_storage" ? localStorage : sessionStorage;
      for (const k of Object.keys(st)) if (like(it, k)) st.removeItem(k);
    }
  }
};
