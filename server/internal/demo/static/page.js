// Shows the visitor what the page currently knows (necessary: it stores nothing).
(function () {
  function render() {
    var c = window.Samtycke && window.Samtycke.choices();
    var el = document.getElementById("choice");
    if (el) {
      el.textContent = c
        ? Object.keys(c).map(function (k) { return k + (c[k] ? " ✓" : " ✗"); }).join(", ")
        : "Inget val ännu";
    }
    var st = document.getElementById("stats");
    if (st && window.demoStatsRan) st.textContent = "Har körts (statistik godkänd)";
  }
  document.addEventListener("samtycke:change", render);
  document.addEventListener("demo:stats", render);
  window.addEventListener("load", render);
})();
