// Unit tests of the banner's pure parts: the samtycke cookie's format, the
// check that a stored choice is still current, and cookie patterns. Bundled
// with esbuild and run by node --test from the Go test TestBannerUnits
// (server/internal/banner), which also hands over, in the file named by
// SAMTYCKE_PATTERN_CASES, what Go's reading of each pattern matched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { BannerConfig, Erasable } from "../src/config";
import { build, current, encode, matches, read, type Saved } from "../src/cookie";

const ID = "0b9c9f0e-5a3c-4c52-9a8e-2f1d6b7c8a90";

const config = {
  version: 7,
  fingerprint: "f1a2b3",
  consent: { lifetime_days: 30 },
  categories: [{ id: "necessary" }, { id: "preferences" }, { id: "statistics" }, { id: "marketing" }],
} as unknown as BannerConfig;

test("encode writes <id>.<version>.<fingerprint>.<time>.<state>", () => {
  const saved = (g: string[], p = false): Saved => ({ id: ID, t: 1700000000, g, p });
  assert.equal(encode(config, saved(["statistics", "marketing"])), `${ID}.7.f1a2b3.1700000000.statistics+marketing`);
  assert.equal(encode(config, saved([])), `${ID}.7.f1a2b3.1700000000.`, "refused all: an empty state");
  assert.equal(encode(config, saved([], true)), `${ID}.7.f1a2b3.1700000000.!`, "only the GPC refusal");
});

test("read decodes what encode wrote, newest first, among other cookies", () => {
  const older: Saved = { id: ID, t: 1700000000, g: ["statistics"], p: false };
  const newer: Saved = { id: ID, t: 1700000500, g: [], p: true };
  const jar = `a=1; samtycke=${encode(config, older)};  _ga=GA1.2.3; samtycke=${encode(config, newer)}`;
  assert.deepEqual(read(jar), [{ ...newer, fp: "f1a2b3" }, { ...older, fp: "f1a2b3" }]);
});

test("read keeps the consent ID of the earlier four-field format, without a fingerprint", () => {
  const [saved] = read(`samtycke=${ID.toUpperCase()}.3.1700000000.statistics+marketing`);
  assert.deepEqual(saved, { id: ID, fp: "", t: 1700000000, g: ["statistics", "marketing"], p: false });
  assert.equal(current(config, saved, 1700000001), false, "asked again: no fingerprint");
});

test("read ignores what is not a samtycke cookie of either format", () => {
  for (const jar of ["", "samtycke=", "samtycke=x.7.f1a2b3.1700000000.", `samtycke=${ID}.7.f1a2b3.soon.`,
    `samtycke=${ID}.7.f1a2b3`, `samtycke=${ID}.7.f1a2b3.1.2.3`, `xsamtycke=${ID}.7.f1a2b3.1700000000.`,
    `samtycke_pending=${ID}.7.f1a2b3.1700000000.`])
    assert.deepEqual(read(jar), [], jar);
});

test("a choice is current under its own fingerprint and within its lifetime only", () => {
  const [saved] = read(`samtycke=${ID}.7.f1a2b3.1700000000.statistics`);
  const end = 1700000000 + 30 * 86400;
  assert.equal(current(config, saved, end - 1), true);
  assert.equal(current(config, saved, end), false, "expired");
  assert.equal(current({ ...config, fingerprint: "other" }, saved, 1700000001), false, "the notice changed");
});

test("build grants necessary always and the others as asked", () => {
  assert.deepEqual(build(config, (id) => id == "statistics"),
    { necessary: true, preferences: false, statistics: true, marketing: false });
});

test("an item without a pattern matches its exact name only", () => {
  const item: Erasable = { name: "_ga", type: "cookie", category: "statistics" };
  assert.equal(matches(item, "_ga"), true);
  assert.equal(matches(item, "_gat"), false);
  assert.equal(matches(item, "x_ga"), false);
});

test("a pattern JavaScript refuses matches nothing instead of throwing", () => {
  assert.equal(matches({ name: "x", pattern: "(", type: "cookie", category: "statistics" }, "("), false);
});

interface PatternCase { pattern: string; names: Record<string, boolean> }

test("patterns the server accepts match the same names here as in Go", () => {
  const file = process.env.SAMTYCKE_PATTERN_CASES;
  assert.ok(file, "SAMTYCKE_PATTERN_CASES names the cases (TestBannerUnits sets it)");
  const cases: PatternCase[] = JSON.parse(readFileSync(file, "utf8"));
  assert.ok(cases.length > 0);
  for (const { pattern, names } of cases) {
    const item: Erasable = { name: "", pattern, type: "cookie", category: "statistics" };
    for (const [name, goMatched] of Object.entries(names))
      assert.equal(matches(item, name), goMatched, `${JSON.stringify(pattern)} on ${JSON.stringify(name)}`);
  }
});
