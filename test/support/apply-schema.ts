import { env } from "cloudflare:workers";

// Each test file gets a fresh D1 (storage is per file); give it the real schema.
await env.DB.batch(env.TEST_SCHEMA.map((statement) => env.DB.prepare(statement)));
