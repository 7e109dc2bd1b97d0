// The inspector page in a real browser: starts `understudy serve specs --port 4013 --seed 1`,
// opens /__understudy/ in Debian's Chromium through playwright-core, sees the routes, sends a
// valid and an invalid request from Node, sees both appear without a reload, opens the invalid
// one with the keyboard and sees its violation, and saves screenshots at 1280×800 and in a
// narrow window. Run by .ci/run after `npm install --prefix target/inspector-e2e playwright-core`.
//
//   node crates/understudy-server/tests/inspector/e2e.mjs
//
// Exits non-zero, saying what was missing, if any step fails.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
const targetDir = resolve(root, process.env.CARGO_TARGET_DIR || "target");
const out = join(targetDir, "inspector-e2e");
const require = createRequire(join(out, "package.json"));
const { chromium } = require("playwright-core");

const port = 4013;
const origin = `http://127.0.0.1:${port}`;
const timeout = 15_000;

const server = spawn(join(targetDir, "debug", "understudy"),
  ["serve", "specs", "--port", String(port), "--seed", "1", "--log-level", "warn"],
  { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
const profile = mkdtempSync(join(tmpdir(), "inspector-chromium-"));
let browser;

function fail(message) {
  throw new Error(message);
}

async function serverUp() {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (server.exitCode !== null) fail(`the server exited with status ${server.exitCode}`);
    try {
      const answer = await fetch(`${origin}/__understudy/routes`);
      if (answer.ok) return;
    } catch (_) { /* not listening yet */ }
    await new Promise((done) => setTimeout(done, 100));
  }
  fail("the server did not answer within 20 s");
}

/// DeployHQ's create, with HTTP Basic credentials.
function invite(email) {
  return fetch(`${origin}/users`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: "Basic " + Buffer.from("me@example.com:secret-key").toString("base64"),
    },
    body: JSON.stringify({ user: { first_name: "Jane", email_address: email } }),
  });
}

try {
  await serverUp();
  // A persistent context is how playwright takes a fresh `--user-data-dir` of our own.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 800 },
  });
  const page = browser.pages()[0] || await browser.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  // Anything the page asks of another origin is a failure: it must be self-contained.
  page.on("request", (request) => {
    if (!request.url().startsWith(origin)) problems.push(`fetched ${request.url()}`);
  });

  const response = await page.goto(`${origin}/__understudy/`);
  if (response.status() !== 200) fail(`the page answered ${response.status()}`);

  // The routes: every spec's operation, with a curl line.
  await page.locator("#routes .route").nth(3).waitFor({ timeout });
  const routes = await page.locator("#routes .route").count();
  if (routes !== 4) fail(`${routes} routes shown, 4 expected`);
  const routeText = await page.locator("#routes").innerText();
  for (const expected of ["/users", "/v1/users/invite", "/v1/user/", "/api/v1/users", "curl -i 'http://127.0.0.1:4013/users'"]) {
    if (!routeText.includes(expected)) fail(`the routes do not show ${expected}`);
  }
  // A Prefer choice goes into the curl line.
  await page.getByLabel("Prefer").first().selectOption("code=400, example=missing-email");
  const withPrefer = await page.locator("#curl-0").innerText();
  if (!withPrefer.endsWith("-H 'Prefer: code=400, example=missing-email'")) {
    fail(`the curl line with a preference is ${withPrefer}`);
  }
  console.log(`routes: ${routes} shown`);

  // A mark that a reload would lose.
  await page.evaluate(() => { window.notReloaded = true; });
  const valid = await invite("jane@example.com");
  const invalid = await invite("not-an-address");
  if (valid.status !== 201) fail(`the valid request got ${valid.status}`);
  if (invalid.status !== 422) fail(`the invalid request got ${invalid.status}`);

  await page.waitForFunction(() => document.querySelectorAll("tr.request").length === 2, null, { timeout });
  if (!(await page.evaluate(() => window.notReloaded === true))) fail("the page was reloaded");
  const rows = await page.locator("tr.request").allInnerTexts();
  if (!rows[0].includes("422") || !rows[1].includes("201")) fail(`rows not newest first: ${JSON.stringify(rows)}`);
  console.log("requests: both appeared without a reload, newest first");

  // Open the invalid one from the keyboard.
  const bad = page.locator("tr.request.broke");
  await bad.focus();
  await page.keyboard.press("Enter");
  const violation = page.locator("#detail .violation-list tr.violation").first();
  await violation.waitFor({ timeout });
  const violationText = await violation.innerText();
  if (!violationText.includes("/user/email_address") || !violationText.includes("body")) {
    fail(`the violation shown is ${JSON.stringify(violationText)}`);
  }
  const detail = await page.locator("#detail").innerText();
  if (!detail.includes("Basic ***")) fail("the Authorization header is not shown masked");
  if (detail.includes("secret-key") || detail.includes(Buffer.from("me@example.com:secret-key").toString("base64"))) {
    fail("the credentials are shown");
  }
  if (!detail.includes("not-an-address")) fail("the request body is not shown");
  console.log(`violation: ${violationText.replace(/\s+/g, " ")}`);

  // The filter: violations only leaves the invalid one.
  await page.getByLabel("violations only").check();
  if ((await page.locator("tr.request").count()) !== 1) fail("the violations-only filter did not filter");
  await page.getByLabel("violations only").uncheck();

  // State and contract catch up within two polls.
  await page.waitForFunction(() => document.querySelector("#contract").innerText.includes("1 of 2 requests"), null, { timeout });
  await page.waitForFunction(() => /\/users\s+1\s+100000/.test(document.querySelector("#state").innerText), null, { timeout });

  await page.screenshot({ path: join(out, "inspector.png") });
  await page.screenshot({ path: join(out, "inspector-full.png"), fullPage: true });

  // A narrow window: one column, nothing wider than the window.
  await page.setViewportSize({ width: 420, height: 900 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) fail(`the narrow page is ${overflow} px wider than the window`);
  await page.screenshot({ path: join(out, "inspector-narrow.png") });

  // The reset button forgets the log.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByRole("button", { name: "Reset records and log" }).click();
  await page.waitForFunction(() => document.querySelectorAll("tr.request").length === 0, null, { timeout });
  const log = await (await fetch(`${origin}/__understudy/requests`)).json();
  if (log.requests.length !== 0) fail("the reset left requests in the log");

  if (problems.length) fail(problems.join("\n"));
  console.log(`inspector e2e: passed; screenshots in ${out}`);
} catch (error) {
  console.error(`inspector e2e: FAILED: ${error.message}`);
  const page = browser && browser.pages()[0];
  if (page) {
    await page.screenshot({ path: join(out, "inspector-failed.png"), fullPage: true }).catch(() => {});
    console.error(`what the page showed: ${join(out, "inspector-failed.png")}`);
  }
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  server.kill("SIGTERM");
  rmSync(profile, { recursive: true, force: true });
}
