import { env } from "cloudflare:workers";

// Each test file gets a fresh D1 (storage is per file); give the host's TOKENS_DB the package's schema.
const { TOKENS_DB, TEST_SCHEMA } = env as unknown as { TOKENS_DB: D1Database; TEST_SCHEMA: string[] };
await TOKENS_DB.batch(TEST_SCHEMA.map((statement) => TOKENS_DB.prepare(statement)));
