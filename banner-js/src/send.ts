// Records a consent with the server. Never blocks, never throws; retries once
// after 2 s when the request fails at the network level.
export const send = (url: string, body: object, retry = 1) => {
  try {
    fetch(url, {
      method: "POST", keepalive: true, mode: "cors", credentials: "omit",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    }).catch(() => { if (retry) setTimeout(() => send(url, body, 0), 2e3); });
  } catch (e) { /* no fetch */ }
};
