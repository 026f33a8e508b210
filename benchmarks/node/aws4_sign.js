// Times mhart/aws4 signing the benchmark's request: one round of N calls, a fresh request object per call
// (as bench_sign.py's other rows do). Reads {number, url, headers, body, date} as JSON on stdin and prints
// the microseconds per call of that round. The clock is fixed through aws4's own `X-Amz-Date` header.
const aws4 = require("aws4");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const url = new URL(input.url);
const credentials = { accessKeyId: input.key_id, secretAccessKey: input.secret };
function once() {
  const headers = Object.fromEntries(input.headers);
  headers["X-Amz-Date"] = input.date;
  return aws4.sign({ host: url.host, path: url.pathname, method: "POST", service: input.service,
                     region: input.region, headers, body: input.body }, credentials);
}
for (let i = 0; i < 1000; i++) once();  // warm the JIT before the timed round
const start = process.hrtime.bigint();
for (let i = 0; i < input.number; i++) once();
console.log(Number(process.hrtime.bigint() - start) / 1000 / input.number);
