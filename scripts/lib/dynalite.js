// dynalite (npm), a second DynamoDB-compatible engine for the tests, on 127.0.0.1 only (its
// command line listens on every interface). Prints the port once it listens.
// Usage: node scripts/lib/dynalite.js PORT
const dynalite = require(process.env.DYNALITE_MODULE || 'dynalite');
const port = Number(process.argv[2]);
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(port, '127.0.0.1', (err) => {
  if (err) throw err;
  console.log(port);
});
