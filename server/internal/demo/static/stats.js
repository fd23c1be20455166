// Stands in for an analytics tag: it must run only after "statistics" is
// granted. Tests check window.demoStatsRan and the _demo_stats cookie.
window.demoStatsRan = true;
document.cookie = "_demo_stats=1; Path=/; Max-Age=2592000; SameSite=Lax";
document.dispatchEvent(new Event("demo:stats"));
