// The Lambda Runtime API loop, as a custom runtime would run it: a keep-alive connection to
// AWS_LAMBDA_RUNTIME_API, next -> handler -> response, forever.
"use strict";
const http = require("node:http");

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const BASE = "/2018-06-01/runtime";

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port: Number(port), method, path, agent,
        headers: body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {} },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      });
    req.on("error", reject);
    req.end(body);
  });
}

async function run(handler) {
  for (;;) {
    const next = await call("GET", `${BASE}/invocation/next`);
    const id = next.headers["lambda-runtime-aws-request-id"];
    let path, body;
    try {
      const result = await handler(JSON.parse(next.body));
      path = `${BASE}/invocation/${id}/response`;
      body = JSON.stringify(result);
    } catch (e) {
      path = `${BASE}/invocation/${id}/error`;
      body = JSON.stringify({ errorType: e.name, errorMessage: e.message });
      console.error(body);
    }
    await call("POST", path, body);
  }
}

module.exports = { run };
