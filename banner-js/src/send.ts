// Records a consent with the server. Never blocks, never throws. Retries once
// after 5 s when the request fails at the network level or the server is
// unavailable (5xx) or rate-limiting (429), the answers that mean "try later".
// A 4xx other than 429 is final: the same body would be refused again.
export const send = (url: string, body: object, retry = 1): void => {
  const again = () => { if (retry) setTimeout(() => send(url, body, 0), 5e3); };
  try {
    fetch(url, {
      method: "POST", keepalive: true, mode: "cors", credentials: "omit",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    }).then((r) => { if (r.status >= 500 || r.status == 429) again(); }, again);
  } catch (e) { /* no fetch */ }
};
