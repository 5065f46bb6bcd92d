"""Creates the two tables on the DynamoDB endpoint and seeds the sample identity that the token
in events/authorizer-valid.json and the context in events/me.json name (as
scripts/cargo-lambda-smoke does). Usage: seed.py ENDPOINT USERS_TABLE SESSIONS_TABLE"""
import sys

import boto3

endpoint, users, sessions = sys.argv[1:]
ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
for table, key in ((users, "username"), (sessions, "jti")):
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])
ddb.put_item(TableName=users, Item={
    "username": {"S": "sample-user"}, "user_id": {"S": "5f1c0d3e9a8b47c6b2e1f0a9d8c7b6a5"},
    "password_hash": {"S": "$argon2id$v=19$m=19456,t=2,p=1$c2FtcGxlc2FsdA$c2FtcGxlaGFzaHNhbXBsZWhhc2hzYW1wbGVoYXNo"},
    "created_at": {"N": "1764374400"}})
ddb.put_item(TableName=sessions, Item={
    "jti": {"S": "0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
    "user_id": {"S": "5f1c0d3e9a8b47c6b2e1f0a9d8c7b6a5"}, "username": {"S": "sample-user"},
    "issued_at": {"N": "1764374400"}, "expires_at": {"N": "4102444800"}})
