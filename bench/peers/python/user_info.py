"""GET /me in Python (boto3), doing what functions/user-info does: the caller from
requestContext.authorizer.lambda, one strongly consistent GetItem on the users table, the
account must still belong to that user id, 200 {"user_id", "username", "created_at"}."""
import datetime
import json
import os

import boto3
from botocore.config import Config

from runtime import run

TABLE = os.environ["USERS_TABLE"]
TIMEOUT = int(os.environ.get("DYNAMODB_TIMEOUT_MS") or 2000) / 1000
DDB = boto3.client(
    "dynamodb",
    endpoint_url=os.environ.get("DYNAMODB_ENDPOINT_URL"),
    config=Config(connect_timeout=TIMEOUT / 2, read_timeout=TIMEOUT / 2,
                  retries={"max_attempts": 2, "mode": "standard"}),
)
JSON = {"content-type": "application/json"}


def error(status, code, message):
    return {"statusCode": status, "headers": JSON, "isBase64Encoded": False,
            "body": json.dumps({"error": code, "message": message})}


def handler(event):
    ident = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda") or {}
    user_id, username = ident.get("user_id"), ident.get("username")
    if not user_id or not username:
        return error(401, "unauthorized", "not authenticated")
    try:
        item = DDB.get_item(TableName=TABLE, Key={"username": {"S": username}},
                            ConsistentRead=True).get("Item")
    except Exception:
        return error(503, "service_unavailable", "try again later")
    if not item or item["user_id"]["S"] != user_id:
        return error(401, "unauthorized", "account no longer exists")
    created = datetime.datetime.fromtimestamp(int(item["created_at"]["N"]), datetime.timezone.utc)
    print(json.dumps({"level": "INFO", "outcome": "success", "user_id": user_id}), flush=True)
    return {"statusCode": 200, "headers": JSON, "isBase64Encoded": False,
            "body": json.dumps({"user_id": user_id, "username": item["username"]["S"],
                                "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ")})}


if __name__ == "__main__":
    run(handler)
