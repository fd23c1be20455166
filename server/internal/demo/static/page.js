// Shows the visitor what the page currently knows (necessary: it stores nothing).
// It also pushes an ordinary dataLayer event, as sites do: Samtycke's Consent
// Mode default must still come first.
(function () {
  window.dataLayer = window.dataLayer || [];
  window.dataLayer.push({ event: "demo_page_view" });
  var en = document.documentElement.lang === "en";
  function render() {
    var c = window.Samtycke && window.Samtycke.choices();
    var el = document.getElementById("choice");
    if (el) {
      el.textContent = c
        ? Object.keys(c).map(function (k) { return k + (c[k] ? " ✓" : " ✗"); }).join(", ")
        : en ? "No choice yet" : "Inget val ännu";
    }
    var st = document.getElementById("stats");
    if (st && window.demoStatsRan) st.textContent = en ? "Has run (statistics allowed)" : "Har körts (statistik godkänd)";
  }
  document.addEventListener("samtycke:change", render);
  document.addEventListener("demo:stats", render);
  window.addEventListener("load", render);
})();
