"""The sample identity the files in events/ name, on a DynamoDB(-compatible) endpoint: the tables
as template.yaml declares them, its account (password "sample-user password", a real Argon2
hash), its session (keyed by the sample token's `sid`) and the refresh token of
events/refresh.json (stored as its SHA-256 only). No revocation marker (`user#<user id>`): a
missing marker means generation 0.

    python sample_identity.py ENDPOINT USERS_TABLE SESSIONS_TABLE ATTEMPTS_TABLE

creates the three tables and seeds them (scripts/lambda-watch, and so scripts/cargo-lambda-smoke);
bench/seed.py imports `create_tables` and `seed`. Needs boto3 (in moto's venv).
"""
import hashlib
import sys

import boto3

USER_ID = "5f1c0d3e9a8b47c6b2e1f0a9d8c7b6a5"
SID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
REFRESH_TOKEN = "c2FtcGxlLXJlZnJlc2gtdG9rZW4tZm9yLWV2ZW50cyE"


def client(endpoint):
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def create_tables(ddb, users, sessions, attempts=None):
    """The users table (and the login attempts table, if named), keyed by `username`; the
    sessions table with key `pk` and the keys-only index `by-user` on `user_id`."""
    for table in (users, attempts):
        if table:
            ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                             AttributeDefinitions=[{"AttributeName": "username", "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "username", "KeyType": "HASH"}])
    ddb.create_table(TableName=sessions, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "user_id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     GlobalSecondaryIndexes=[{"IndexName": "by-user",
                                              "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
                                              "Projection": {"ProjectionType": "KEYS_ONLY"}}])


def seed(ddb, users, sessions):
    """The sample identity's account, session and refresh token."""
    ddb.put_item(TableName=users, Item={
        "username": {"S": "sample-user"}, "user_id": {"S": USER_ID},
        "password_hash": {"S": "$argon2id$v=19$m=19456,t=2,p=1$yNCjuk0shgvCGjr6y7xxLA$ZnTshgCo8y2A/mOAwwVYJbP4HFkBdgcrFM5foPHZ1Zc"},
        "created_at": {"N": "1764374400"}})
    ddb.put_item(TableName=sessions, Item={
        "pk": {"S": SID}, "user_id": {"S": USER_ID}, "username": {"S": "sample-user"},
        "created_at_ms": {"N": "1764374400000"}, "last_used_at": {"N": "1764374400"},
        "expires_at": {"N": "4102444800"}, "generation": {"N": "0"},
        "user_agent": {"S": "curl/8.5.0"}, "source_ip": {"S": "203.0.113.7"}})
    ddb.put_item(TableName=sessions, Item={
        "pk": {"S": "refresh#" + hashlib.sha256(REFRESH_TOKEN.encode()).hexdigest()},
        "sid": {"S": SID}, "owner": {"S": USER_ID}, "expires_at": {"N": "4102444800"}})


if __name__ == "__main__":
    endpoint, users, sessions, attempts = sys.argv[1:]
    ddb = client(endpoint)
    create_tables(ddb, users, sessions, attempts)
    seed(ddb, users, sessions)
