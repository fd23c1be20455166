// Runs in the preview frame before the banner: forget any choice made in
// an earlier preview (the banner would stay hidden), and show the settings
// layer when asked: Samtycke.open(), then the banner's own settings button
// if its first layer has one.
document.cookie = "samtycke=; Max-Age=0; path=/";
// The banner loads its item details without cookies (they are public for a
// published version); a preview's come from the dashboard, for members
// only, so requests to it carry the session.
{
  const plain = window.fetch.bind(window);
  window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input.toString() : input.url, location.href);
    if (url.origin === location.origin && url.pathname.startsWith("/admin/")) init = { ...init, credentials: "same-origin" };
    return plain(input, init);
  };
}
if (document.documentElement.dataset.layer === "2") {
  document.addEventListener("DOMContentLoaded", () => {
    const s = (window as unknown as { Samtycke?: { open(): void } }).Samtycke;
    if (s) s.open();
    const host = document.getElementById("samtycke-root");
    const button = host && host.shadowRoot && host.shadowRoot.querySelector<HTMLElement>('[data-action="settings"]');
    if (button) button.click();
  });
}
