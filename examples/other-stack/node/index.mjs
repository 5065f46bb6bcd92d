// GET /hello-node, behind the JWT session service's authorizer.
//
// The authorizer has verified the access token and checked its session before this runs; the
// caller is in event.requestContext.authorizer.lambda: user_id, username, sid (the session) and
// jti (the token). Without that context the route was deployed without the authorizer: refuse,
// never serve an anonymous caller.

export const handler = async (event) => {
  const caller = event?.requestContext?.authorizer?.lambda ?? {};
  const ok = ["user_id", "username", "sid"].every(
    (k) => typeof caller[k] === "string" && caller[k] !== "",
  );
  if (!ok) {
    return respond(401, { error: "unauthorized", message: "no authorizer context" });
  }
  return respond(200, {
    message: `Hello, ${caller.username}`,
    user_id: caller.user_id,
    username: caller.username,
    session_id: caller.sid,
  });
};

const respond = (statusCode, body) => ({
  statusCode,
  headers: { "content-type": "application/json", "cache-control": "no-store" },
  body: JSON.stringify(body),
});
