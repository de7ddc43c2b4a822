/**
 * The repository's Worker with one host route, `GET /api/whoami/` behind
 * `requireSimpleJwtToken()`, answering as the stock project's WhoAmIView
 * (examples/simplejwt-project/mysite/views.py: JWTAuthentication + IsAuthenticated, the user's
 * id and username): how the oracle compares the edge's guard with the origin's. Served by
 * `wrangler dev` (support/local-worker.ts, startWorker's `main`); the API's own paths as the Worker's.
 */
import { Hono } from "hono";
import { orgTokenApi } from "../../../src/api";
import { type Env, workerApiOptions } from "../../../worker/env";

const tokens = orgTokenApi<Env>(workerApiOptions);
const app = new Hono<{ Bindings: Env }>();

app.get("/api/whoami/", tokens.requireSimpleJwtToken(), async (c) => {
  const { userId } = c.var.simpleJwtToken;
  const user = await c.env.DB.prepare("SELECT username FROM users_user WHERE id = ?")
    .bind(userId)
    .first<{ username: string }>();
  return c.json({ id: userId, username: user?.username ?? null });
});
app.use(tokens.middleware);

export default app;
