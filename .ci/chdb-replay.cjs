#!/usr/bin/env node
// .ci/chdb-replay.cjs — prove that the ClickHouse migrations run on a current ClickHouse engine.
//
//   node .ci/chdb-replay.cjs [DIR] > .data/chdb-columns.tsv
//
// Debian's ClickHouse 18.16 (what `make test` runs) accepts things current ClickHouse refuses
// and the other way round, so CI checks both. This script uses the npm package chdb (an embedded
// current ClickHouse, installed by `make test` under .data/npm) to apply every
// schemas/clickhouse/NNN_*.sql (or DIR/NNN_*.sql) in name order, split into statements exactly as
// the Go runner does (server/internal/store/clickhouse/migrate.go, SplitStatements), into a
// database `samtycke` of a throw-away data directory — and then a second time, because the
// migrations must be safe to re-run.
//
// stdout: `table <TAB> column <TAB> type` for every column of the resulting database (TSV, no
// header), for the Go tests to compare with what 18.16 made (SAMTYCKE_CHDB_COLUMNS).
// stderr: a one-line summary, or the failing file, statement and ClickHouse error (exit 1).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const DATABASE = 'samtycke';

function loadChdb() {
  const local = path.join(ROOT, '.data', 'npm', 'node_modules', 'chdb');
  try {
    return require(local);
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e;
  }
  try {
    return require('chdb');
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e;
    console.error(`chdb-replay: the npm package chdb is not installed; run: npm install --prefix .data/npm chdb@3.4.0`);
    process.exit(2);
  }
}

// splitStatements mirrors SplitStatements in server/internal/store/clickhouse/migrate.go: lines
// whose trimmed text starts with "--" are dropped, a ";" ending a line (after trimming) ends a
// statement, statements are trimmed, empty ones skipped, and a trailing statement without ";"
// is kept.
function splitStatements(sql) {
  const out = [];
  let cur = '';
  for (const line of sql.split('\n')) {
    const t = line.trim();
    if (t.startsWith('--')) continue;
    cur += line + '\n';
    if (t.endsWith(';')) {
      let s = cur.trim();
      s = s.slice(0, -1); // TrimSuffix(…, ";"): exactly one
      if (s.trim() !== '') out.push(s.trim());
      cur = '';
    }
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

// readMigrations mirrors readMigrations in migrate.go: every *.sql must be named NNN_name.sql,
// numbers are unique, order is by number.
function readMigrations(dir) {
  const files = fs.readdirSync(dir).filter((n) => n.endsWith('.sql'));
  const out = [];
  for (const name of files) {
    const m = /^(\d{3})_/.exec(name);
    if (!m) throw new Error(`migration ${name}: name must be NNN_name.sql`);
    out.push({ version: Number(m[1]), name, statements: splitStatements(fs.readFileSync(path.join(dir, name), 'utf8')) });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i].version === out[i - 1].version) {
      throw new Error(`migrations ${out[i - 1].name} and ${out[i].name} share a number`);
    }
  }
  return out;
}

function clickhouseError(e) {
  const msg = String((e && e.message) || e);
  const m = /Code: (\d+)/.exec(msg);
  const code = (e && e.clickhouseCode) || (m ? Number(m[1]) : undefined);
  return { code, message: msg.replace(/^Query failed: /, '') };
}

function main() {
  const dir = path.resolve(process.argv[2] || process.env.SAMTYCKE_SCHEMA_DIR || path.join(ROOT, 'schemas', 'clickhouse'));
  const migrations = readMigrations(dir);
  if (migrations.length === 0) {
    console.error(`chdb-replay: no NNN_*.sql migrations in ${dir}`);
    return 1;
  }
  const statements = migrations.reduce((n, m) => n + m.statements.length, 0);

  const { Session } = loadChdb();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samtycke-chdb-'));
  let session;
  try {
    session = new Session(tmp);
    const q = (sql, format = 'TSV') => session.query(sql, format);
    q(`CREATE DATABASE IF NOT EXISTS ${DATABASE}`);
    // USE sticks to the session's connection for later queries; check it rather than trust it.
    q(`USE ${DATABASE}`);

    for (const pass of [1, 2]) {
      for (const m of migrations) {
        const cur = q('SELECT currentDatabase()').trim();
        if (cur !== DATABASE) throw new Error(`current database is ${cur}, not ${DATABASE}`);
        for (const [i, stmt] of m.statements.entries()) {
          try {
            q(stmt);
          } catch (e) {
            const err = clickhouseError(e);
            // As the Go runner does: an ADD COLUMN whose column exists is done
            // (code 44 on 18.16, 15 DUPLICATE_COLUMN on current releases).
            if ((err.code === 15 || err.code === 44) && /^ALTER TABLE \S+ ADD COLUMN /i.test(stmt)) continue;
            console.error(`chdb-replay: ${m.name} statement ${i + 1} failed on pass ${pass}` +
              (pass === 2 ? ' (the migrations must be safe to re-run: IF NOT EXISTS)' : '') + ':');
            console.error(stmt.replace(/^/gm, '    '));
            console.error(`ClickHouse error code ${err.code === undefined ? '?' : err.code}: ${err.message}`);
            return 1;
          }
        }
      }
    }

    // TSVRaw: current ClickHouse's TSV escapes the quotes in types such as DateTime('UTC').
    process.stdout.write(q(`SELECT table, name, type FROM system.columns WHERE database = '${DATABASE}' ORDER BY table, name`, 'TSVRaw'));
    const version = q('SELECT version()').trim();
    console.error(`chdb ${version}: ${migrations.length} files, ${statements} statements, twice`);
    return 0;
  } finally {
    if (session) session.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

let code;
try {
  code = main();
} catch (e) {
  console.error(`chdb-replay: ${process.env.DEBUG && e && e.stack ? e.stack : (e && e.message) || e}`);
  code = 1;
}
process.exitCode = code;
