// Runs in the preview frame before the banner: forget any choice made in
// an earlier preview (the banner would stay hidden), and show the settings
// layer when asked: Samtycke.open(), then the banner's own settings button
// if its first layer has one.
document.cookie = "samtycke=; Max-Age=0; path=/";
if (document.documentElement.dataset.layer === "2") {
  document.addEventListener("DOMContentLoaded", () => {
    const s = (window as unknown as { Samtycke?: { open(): void } }).Samtycke;
    if (s) s.open();
    const host = document.getElementById("samtycke-root");
    const button = host && host.shadowRoot && host.shadowRoot.querySelector<HTMLElement>('[data-action="settings"]');
    if (button) button.click();
  });
}
