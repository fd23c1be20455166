// Records a decision with the server. Never blocks, never throws. The body
// carries the decision's event_id, so a retry of it is recorded once. It is
// retried with growing pauses (1, 2, 4, 8, 16 s) when the request fails at the
// network level or the server answers 5xx or 429, the answers that mean "try
// later". Any other 4xx is final: the same body would be refused again.
export const send = (url: string, body: object, n = 0): void => {
  const again = () => { if (n < 5) setTimeout(() => send(url, body, n + 1), 1e3 << n); };
  try {
    fetch(url, {
      method: "POST", keepalive: true, mode: "cors", credentials: "omit",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    }).then((r) => { if (r.status >= 500 || r.status == 429) again(); }, again);
  } catch (e) { /* no fetch */ }
};
