/**
 * The baseline of `npm run bench`: a bare Hono Worker that parses the refresh body as the
 * real one receives it and answers a fixed pair. What the real Worker costs beyond this is
 * its own work: verifying, signing, and deciding on storage.
 */
import { Hono } from "hono";

const FIXED = {
  exp: "2022-11-29T15:24:09UTC",
  access_lifetime: "86400.0",
  refresh_lifetime: "2592000.0",
  refresh: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.fixed.refresh",
  access: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.fixed.access",
};

const app = new Hono();
app.post("/api/org_token/refresh/", async (c) => {
  const body = await c.req.json<{ refresh?: unknown }>();
  if (typeof body.refresh !== "string" || body.refresh === "")
    return c.json({ refresh: ["This field is required."] }, 400);
  return c.json(FIXED);
});

// For the bench to know it reached this server (GET: the measured POST route is untouched).
app.get("/__bench/up", (c) => c.text("bare"));

export default app;
