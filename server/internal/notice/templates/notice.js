(function () {
  var d = document, m = d.cookie.match(/(?:^|; )samtycke=([0-9a-f-]{36})\.\d+\.(?:[0-9a-f]{16}\.)?(\d+)\./i), p = d.getElementById("consent-id");
  if (m && p) {
    var t = new Date(m[2] * 1000), e = p.querySelector("time");
    p.querySelector("code").textContent = m[1];
    e.dateTime = t.toISOString().slice(0, 10);
    e.textContent = t.getUTCDate() + " " + e.dataset.months.split(",")[t.getUTCMonth()] + " " + t.getUTCFullYear(); // as the server writes days
    p.hidden = false;
  }
  function banner() {
    if (!window.Samtycke) return;
    var b = d.querySelectorAll("button[data-samtycke-open]");
    for (var i = 0; i < b.length; i++) b[i].hidden = false;
  }
  banner();
  window.addEventListener("load", banner);
})();
