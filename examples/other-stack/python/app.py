"""GET /hello-python, behind the JWT session service's authorizer.

The authorizer has verified the access token and checked its session before this runs; the
caller is in event["requestContext"]["authorizer"]["lambda"]: user_id, username, sid (the
session) and jti (the token). Without that context the route was deployed without the
authorizer: refuse, never serve an anonymous caller.
"""

import json


def handler(event, context):
    caller = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda") or {}
    if not all(isinstance(caller.get(k), str) and caller[k] for k in ("user_id", "username", "sid")):
        return respond(401, {"error": "unauthorized", "message": "no authorizer context"})
    return respond(
        200,
        {
            "message": f"Hello, {caller['username']}",
            "user_id": caller["user_id"],
            "username": caller["username"],
            "session_id": caller["sid"],
        },
    )


def respond(status, body):
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": json.dumps(body),
    }
