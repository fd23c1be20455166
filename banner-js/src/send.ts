// Records decisions with the server, never blocking the page or throwing.
// Each body carries its decision's event_id, so however often it is sent it
// is recorded once. Until it is answered a decision is kept in localStorage
// (samtycke_pending, necessary storage: [unix seconds, body] pairs), so that
// one whose page view ends first is sent again by the next. It is retried
// with growing pauses (1, 2, 4, 8, 16 s, or longer when Retry-After says so)
// after a network failure, a 5xx, 408, 409 (the same decision being
// recorded) or 429. A 2xx, or any other 4xx, is final: the same body would
// be refused again. A decision kept longer than a day is dropped, because
// the server's exactly-once promise for an event_id lasts 24 hours.
//
// A 201 may carry a receipt, the server's signed promise to log the record.
// The last 20 are kept as they came in samtycke_receipts (necessary storage)
// for the visitor to download from the settings.
import { now } from "./cookie";

export const RECEIPTS = "samtycke_receipts";
const PENDING = "samtycke_pending";

/** A decision as POST /v1/consents takes it; event_id names it. */
type Body = { event_id: string; [field: string]: unknown };
type Kept = [number, Body];

/** The JSON array stored under key; empty if there is none or storage is unavailable. */
export const stored = <T>(key: string): T[] => {
  try { return JSON.parse(localStorage.getItem(key)!) || []; } catch (e) { return []; }
};

/** Stores list under key, or removes the key when list is empty. */
const store = (key: string, list: unknown[]) => {
  try {
    if (list.length) localStorage.setItem(key, JSON.stringify(list));
    else localStorage.removeItem(key);
  } catch (e) { /* storage refused: the retries of this page view remain */ }
};

let url = "";

/** The pause Retry-After asks for (seconds, or an HTTP date), in ms. */
const pause = (r: Response) => {
  const v = r.headers.get("Retry-After") || "";
  return (+v >= 0 ? +v * 1e3 : Date.parse(v) - Date.now()) || 0;
};

/** Sends decision b (attempt n); the promise settles with the attempt: b is then answered or kept. */
export const send = (b: Body, n = 0): Promise<void> => {
  const again = (ms: number) => { if (n < 5) setTimeout(() => send(b, n + 1), Math.max(ms, 1e3 << n)); };
  if (!n) store(PENDING, [...stored(PENDING), [now(), b]]);
  return fetch(url, {
    method: "POST", keepalive: true, credentials: "omit",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(b),
  }).then((r) => {
    const s = r.status;
    if (s > 499 || s == 408 || s == 409 || s == 429) return again(pause(r));
    store(PENDING, stored<Kept>(PENDING).filter((k) => k[1].event_id != b.event_id));
    if (s < 300) return r.json().then((d: { receipt?: { record_id: string } }) => {
      const rc = d.receipt;
      // A decision sent again is answered with a receipt for the same record: the newest is kept.
      if (rc) store(RECEIPTS, [...stored<typeof rc>(RECEIPTS).filter((x) => x.record_id != rc.record_id), rc].slice(-20));
    });
  }, () => again(0)).catch(() => { /* an answer without a body is an answer too */ });
};

/** Sends, to endpoint, what earlier page views left unanswered. */
export const resume = (endpoint: string) => {
  url = endpoint;
  const kept = stored<Kept>(PENDING).filter((k) => k[0] > now() - 86400);
  store(PENDING, kept);
  for (const k of kept) send(k[1], 1);
};
