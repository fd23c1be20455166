// c15t's self-hosted backend (@c15t/backend 2.2.1) as SPEC P8's reference, set up the way its
// own docs (node_modules/@c15t/backend/docs/self-host: quickstart, database setup, framework
// integration) tell a user to run it in production: c15tInstance with the Kysely adapter on
// PostgreSQL through pg's Pool, its Fetch handler served by Hono's Node server (the Node
// counterpart of the docs' `Bun.serve({ port, fetch: c15t.handler })`), every other option at
// its default.
//
//   C15T_DATABASE_URL=postgres://… C15T_PORT=3001 node server.mjs            serve
//   C15T_DATABASE_URL=postgres://… node server.mjs migrate                   create/upgrade the schema
//
// Durability: nothing here touches PostgreSQL's settings, so every consent is one transaction
// committed with the server's default synchronous_commit=on (fsynced WAL) before c15t answers.
//
// Logging is at "error": c15t logs a deprecation warning for every `cookie_banner` consent (the
// type its own 2.2.1 frontend still sends), which at "warn" would be one line per request.
import { serve } from '@hono/node-server';
import { c15tInstance } from '@c15t/backend';
import { kyselyAdapter } from '@c15t/backend/db/adapters/kysely';
import { migrator } from '@c15t/backend/db/migrator';
import { DB } from '@c15t/backend/db/schema';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

const url = process.env.C15T_DATABASE_URL;
if (!url) {
	console.error('C15T_DATABASE_URL is not set');
	process.exit(2);
}

const pool = new pg.Pool({ connectionString: url });
const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
// The docs show kyselyAdapter(db); 2.2.1's type (fumadb's) wants the provider beside it.
const adapter = kyselyAdapter({ db, provider: 'postgresql' });

if (process.argv[2] === 'migrate') {
	// What `c15t migrate` of @c15t/cli does, without its prompts (no CLI release for backend
	// 2.x is published): the latest schema through the package's own migrator.
	const result = await migrator({ db: DB.client(adapter), schema: 'latest' });
	if ('path' in result) {
		throw new Error(`the Kysely adapter generated ${result.path} instead of migrating`);
	}
	await result.execute();
	await db.destroy();
	console.log('c15t: schema migrated');
} else {
	const port = Number(process.env.C15T_PORT);
	if (!Number.isInteger(port) || port <= 0) {
		console.error('C15T_PORT must be a port number');
		process.exit(2);
	}
	const c15t = c15tInstance({
		adapter,
		trustedOrigins: ['shop.example'],
		logger: { level: 'error' },
	});
	const server = serve({ fetch: c15t.handler, port, hostname: '127.0.0.1' }, (info) => {
		console.log(`c15t: listening on 127.0.0.1:${info.port}`);
	});
	const stop = () => {
		server.close(() => {
			db.destroy().then(
				() => process.exit(0),
				(err) => {
					console.error(err);
					process.exit(1);
				},
			);
		});
	};
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
}
