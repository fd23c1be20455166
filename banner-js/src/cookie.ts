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

/** The page's cookies as name=value strings. */
const jar = (cookies = document.cookie) => cookies.split(/; */);

/** Choices for every category: necessary always, others if ok(id). */
export const build = (config: BannerConfig, granted: (id: string) => boolean): Choices => {
  const choices: Choices = {};
  for (const category of config.categories) choices[category.id] = category.id == NECESSARY || granted(category.id);
  return choices;
};

/** Every samtycke cookie in cookies (the page's: host-only and domain-wide twins alike), newest first. */
export const read = (cookies?: string): Saved[] => {
  const found: Saved[] = [];
  for (const cookie of jar(cookies)) {
    const fields = cookie.slice(9).split(".");
    if (cookie.indexOf("samtycke=") || !UUID.test(fields[0])) continue;
    if (fields.length == 4) fields.splice(2, 0, ""); // earlier format: no fingerprint
    if (fields.length == 5 && /^\d+$/.test(fields[3])) {
      const state = fields[4], gpcOnly = state == "!";
      found.push({ id: fields[0].toLowerCase(), fp: fields[2], t: +fields[3], g: state && !gpcOnly ? state.split("+") : [], p: gpcOnly });
    }
  }
  return found.sort((a, b) => b.t - a.t);
};

/** Whether saved is still the visitor's choice under config at unix time time: made under
 *  its fingerprint and within its lifetime. */
export const current = (config: BannerConfig, saved: Saved, time: number) =>
  saved.fp == config.fingerprint && saved.t + config.consent.lifetime_days * 86400 > time;

/** The samtycke cookie's value for saved under config. */
export const encode = (config: BannerConfig, saved: Saved) =>
  `${saved.id}.${config.version}.${config.fingerprint}.${saved.t}.${saved.p ? "!" : saved.g.join("+")}`;

/** The cookie domain, when the page is on it (a browser refuses any other). */
const domain = (config: BannerConfig) => {
  const shared = (config.consent.cookie_domain || "").replace(/^\./, ""), host = location.hostname;
  return shared && (host == shared || host.slice(-shared.length - 1) == "." + shared) ? shared : "";
};

const attrs = () => `; Path=/; SameSite=Lax${location.protocol == "https:" ? "; Secure" : ""}`;

/** Stores s for the rest of its lifetime; with a cookie domain, removes a host-only duplicate first. */
export const write = (config: BannerConfig, saved: Saved) => {
  const shared = domain(config), attributes = attrs();
  if (shared) document.cookie = "samtycke=; Max-Age=0" + attributes;
  document.cookie = `samtycke=${encode(config, saved)}; Max-Age=${
    saved.t + config.consent.lifetime_days * 86400 - now()}${attributes}${shared ? "; Domain=" + shared : ""}`;
};

/** Whether item covers the cookie or storage key name: its pattern (the syntax the server checks,
 *  read alike by JavaScript and Go) or else its exact name. A pattern this browser refuses covers nothing. */
export const matches = (item: Erasable, name: string) => {
  try {
    return item.pattern ? new RegExp(item.pattern).test(name) : item.name == name;
  } catch (e) { return false; }
};

/** Deletes the declared first-party cookies and storage of every category gone(id) is true for,
 *  on every path above this page and every domain the page may set. */
export const erase = (config: BannerConfig, gone: (category: string) => boolean) => {
  const names = jar().map((cookie) => cookie.split("=")[0]);
  const paths = ["/"], domains = [""];
  let path = "/";
  for (const segment of location.pathname.split("/")) if (segment) paths.push((path += segment), (path += "/"));
  location.hostname.split(".").forEach((_, i, labels) => domains.push(labels.slice(i).join(".")));
  for (const item of config.items) {
    if (!gone(item.category)) continue;
    if (item.type == "cookie") {
      for (const name of names) {
        if (matches(item, name))
          for (const onPath of paths)
            for (const onDomain of domains)
              document.cookie = `${name}=; Max-Age=0; Path=${onPath}${onDomain ? "; Domain=" + onDomain : ""}`;
      }
    } else if (item.type == "indexeddb") {
      if (!item.pattern) indexedDB.deleteDatabase(item.name);
    } else if (item.type != "pixel") {
      const storage = item.type == "local_storage" ? localStorage : sessionStorage;
      for (const key of Object.keys(storage)) if (matches(item, key)) storage.removeItem(key);
    }
  }
};
