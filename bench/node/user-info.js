// GET /me in Node.js (AWS SDK v3), doing what functions/user-info does: the caller from
// requestContext.authorizer.lambda, one strongly consistent GetItem on the users table, the
// account must still belong to that user id, 200 {"user_id", "username", "created_at"}.
"use strict";
const { DynamoDBClient, GetItemCommand } = require("@aws-sdk/client-dynamodb");
const { run } = require("./runtime");

const TABLE = process.env.USERS_TABLE;
const TIMEOUT = Number(process.env.DYNAMODB_TIMEOUT_MS || 2000);
const ddb = new DynamoDBClient({
  endpoint: process.env.DYNAMODB_ENDPOINT_URL || undefined,
  maxAttempts: 2,
  requestHandler: { connectionTimeout: TIMEOUT / 2, requestTimeout: TIMEOUT / 2 },
});
const JSON_HEADERS = { "content-type": "application/json" };

function error(statusCode, code, message) {
  return { statusCode, headers: JSON_HEADERS, isBase64Encoded: false,
           body: JSON.stringify({ error: code, message }) };
}

async function handler(event) {
  const ident = ((event.requestContext || {}).authorizer || {}).lambda || {};
  if (!ident.user_id || !ident.username) return error(401, "unauthorized", "not authenticated");
  let item;
  try {
    const out = await ddb.send(new GetItemCommand({
      TableName: TABLE, Key: { username: { S: ident.username } }, ConsistentRead: true,
    }));
    item = out.Item;
  } catch (e) {
    return error(503, "service_unavailable", "try again later");
  }
  if (!item || item.user_id.S !== ident.user_id) return error(401, "unauthorized", "account no longer exists");
  const created = new Date(Number(item.created_at.N) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  console.log(JSON.stringify({ level: "INFO", outcome: "success", user_id: ident.user_id }));
  return { statusCode: 200, headers: JSON_HEADERS, isBase64Encoded: false,
           body: JSON.stringify({ user_id: ident.user_id, username: item.username.S, created_at: created }) };
}

run(handler);
