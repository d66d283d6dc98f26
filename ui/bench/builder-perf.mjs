// How the builder holds up on large workflows (issue 19, item 9): a benchmark, not a test. It
// deploys workflows of 200 and 1,000 steps to a running server, opens each in the builder in
// Debian's chromium and reads the browser's own clock (performance.now()):
//   - first paint: from the start of navigation to the first frame that shows the canvas's nodes
//     (a requestAnimationFrame after they are in the DOM), the page's data and elkjs's layout
//     included;
//   - drag: the time between frames while a node is dragged across the canvas (60 mouse moves),
//     median, 95th percentile and worst.
// Usage (a server with a user who may write workflows, and an API key that may too):
//   WEIR_URL=http://127.0.0.1:8080 WEIR_EMAIL=… WEIR_PASSWORD=… WEIR_API_KEY=… node bench/builder-perf.mjs
import { chromium } from "playwright-core";

const base = process.env.WEIR_URL ?? "http://127.0.0.1:8080";
const key = process.env.WEIR_API_KEY;
const sizes = (process.env.WEIR_SIZES ?? "200,1000").split(",").map(Number);

/** A chain of `size` steps: every fifth a condition branching two ways, the rest `noop` actions. */
function workflow(size) {
  const steps = Array.from({ length: size }, (_, i) => {
    const id = `s${i + 1}`;
    if (i === size - 1) return { id, type: "action", action: "allow" };
    if (i % 5 === 0) {
      return {
        id,
        type: "condition",
        condition: { field: "order.total", operator: "gte", value: i },
        on_true: `s${i + 2}`,
        on_false: `s${Math.min(i + 3, size)}`,
      };
    }
    return { id, type: "noop", config: { step: i } };
  });
  return { workflow_id: `bench_${size}`, name: `Bench ${size}`, trigger: { type: "event", event: "bench.run" }, steps };
}

async function deploy(size) {
  const response = await fetch(`${base}/api/v1/workflows`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify(workflow(size)),
  });
  if (!response.ok && response.status !== 409) throw new Error(`deploy ${size}: ${response.status} ${await response.text()}`);
  if (response.status === 409) {
    const put = await fetch(`${base}/api/v1/workflows/bench_${size}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify(workflow(size)),
    });
    if (!put.ok) throw new Error(`deploy ${size}: ${put.status} ${await put.text()}`);
  }
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const browser = await chromium.launch({ executablePath: process.env.WEIR_CHROMIUM ?? "/usr/bin/chromium" });
const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
const page = await context.newPage();
await page.goto(`${base}/sign-in`);
await page.getByLabel("Email").fill(process.env.WEIR_EMAIL);
await page.getByLabel("Password").fill(process.env.WEIR_PASSWORD);
await page.getByRole("button", { name: "Sign in" }).click();
await page.waitForURL((u) => !u.pathname.startsWith("/sign-in"));

for (const size of sizes) {
  await deploy(size);
  // The first frame with nodes on the canvas, on the page's clock (0 = start of navigation).
  await page.addInitScript(() => {
    const seen = () => document.querySelector("[aria-roledescription=node]");
    const observer = new MutationObserver(() => {
      if (!seen()) return;
      observer.disconnect();
      requestAnimationFrame(() => (window.__firstPaint = performance.now()));
    });
    observer.observe(document, { childList: true, subtree: true });
  });
  const runs = [];
  for (let round = 0; round < 3; round += 1) {
    await page.goto(`${base}/workflows/bench_${size}/edit`);
    await page.waitForFunction(() => window.__firstPaint !== undefined, null, { timeout: 120_000 });
    runs.push(await page.evaluate(() => window.__firstPaint));
  }
  const result = { steps: size, first_paint_ms: runs.map((r) => Math.round(r)) };
  // The first view (the start, at a readable zoom), then all that Fit View shows at the
  // smallest zoom: more nodes on screen, each rendered.
  result.start_view = await dragFrames(page, page.getByRole("button", { name: /^Step s2,/ }));
  await page.getByRole("button", { name: "Fit View" }).click();
  await page.waitForTimeout(500);
  result.fit_view = await dragFrames(page, page.locator("[aria-roledescription=node]").nth(10));
  console.log(JSON.stringify(result));
}

/** Frames while a node is dragged 60 mouse moves across the canvas. */
async function dragFrames(page, node) {
  const rendered = await page.locator("[aria-roledescription=node]").count();
  const handle = await node.elementHandle();
  const box = await handle.boundingBox();
  await page.evaluate(() => {
    window.__frames = [];
    let last = performance.now();
    const tick = (now) => {
      window.__frames.push(now - last);
      last = now;
      if (window.__framing) requestAnimationFrame(tick);
    };
    window.__framing = true;
    requestAnimationFrame(tick);
  });
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let i = 1; i <= 60; i += 1) await page.mouse.move(x + i * 3, y + i * 2);
  await page.mouse.up();
  const frames = await page.evaluate(() => {
    window.__framing = false;
    return window.__frames.slice(1);
  });
  const after = await handle.boundingBox();
  const sorted = [...frames].sort((a, b) => a - b);
  return {
    nodes_rendered: rendered,
    // How far the node went (px on screen): the drag moved it.
    moved: Math.round(Math.hypot(after.x - box.x, after.y - box.y)),
    frames: frames.length,
    frame_ms: {
      median: +quantile(sorted, 0.5).toFixed(1),
      p95: +quantile(sorted, 0.95).toFixed(1),
      max: +sorted[sorted.length - 1].toFixed(1),
    },
  };
}

await browser.close();
