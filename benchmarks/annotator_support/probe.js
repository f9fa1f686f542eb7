// In-page instruments of benchmarks/annotator.py, evaluated once in the JupyterLab page.
// Nothing here changes what the widgets do: it reads the DOM, reads one pixel of canvases, and runs a
// requestAnimationFrame loop that timestamps frames.
(() => {
  if (window.__bench) return;
  const MAGENTA = (d) => d[0] > 200 && d[1] < 70 && d[2] > 200 && d[3] > 200;
  const B = {};
  B.panel = () => window.jupyterapp.shell.currentWidget;
  B.cell = () => B.panel().content.widgets[0];
  B.kernel = () => B.panel().sessionContext.session.kernel;
  B.area = () => B.cell().outputArea.node;

  // Run code in the notebook's kernel without touching the cell's output; resolves with its stdout.
  B.exec = (code) =>
    new Promise((resolve, reject) => {
      const future = B.kernel().requestExecute({ code, silent: false, store_history: false });
      let out = "";
      let err = null;
      future.onIOPub = (msg) => {
        const t = msg.header.msg_type;
        if (t === "stream") out += msg.content.text;
        if (t === "error") err = `${msg.content.ename}: ${msg.content.evalue}\n${msg.content.traceback.join("\n")}`;
      };
      future.done.then(() => (err ? reject(new Error(err)) : resolve(out)), reject);
    });

  // Resolves once the kernel has been idle for `quiet` ms (ipyannotations keeps it busy after a drag).
  B.waitIdle = (quiet = 300, timeout = 120000) =>
    new Promise((resolve, reject) => {
      const start = performance.now();
      let since = null;
      const tick = () => {
        const now = performance.now();
        if (B.kernel().status === "idle") {
          since = since ?? now;
          if (now - since >= quiet) return resolve(since - start); // how long it stayed busy
        } else since = null;
        if (now - start > timeout) return reject(new Error("kernel still busy"));
        setTimeout(tick, 10);
      };
      tick();
    });

  B.clear = async () => {
    B.cell().model.outputs.clear();
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return B.area().querySelectorAll(".jp-OutputArea-output").length;
  };

  // Where the image centre is on screen: labnb's debug handle when present, else the element's centre.
  const centre = (el, W, H) => {
    const handles = window.__labnb && window.__labnb.annotators;
    if (handles && handles.length && el.closest(".labnb-annotator")) {
      const [x, y] = handles[handles.length - 1].toScreen(W / 2, H / 2);
      return [x, y];
    }
    const r = el.getBoundingClientRect();
    return [r.left + r.width / 2, r.top + r.height / 2];
  };

  const canvasShowsImage = (c, W, H) => {
    const r = c.getBoundingClientRect();
    if (!r.width || !r.height || !c.width || !c.height) return false;
    const [cx, cy] = centre(c, W, H);
    const px = Math.floor(((cx - r.left) * c.width) / r.width);
    const py = Math.floor(((cy - r.top) * c.height) / r.height);
    if (px < 0 || py < 0 || px >= c.width || py >= c.height) return false;
    try {
      const ctx = c.getContext("2d");
      return !!ctx && MAGENTA(ctx.getImageData(px, py, 1, 1).data);
    } catch (e) {
      return false; // a WebGL or transferred canvas: not readable here
    }
  };

  // Run `code` in the (cleared) cell and time: output appears (t0), image pixels on screen (paint).
  // Paint: an <img> of the full-size image is loaded and decoded, or a canvas shows the centre marker;
  // the time taken is the next frame after that, when the frame holding it has been produced.
  B.display = (code, W, H, timeout = 60000) =>
    new Promise((resolve, reject) => {
      const area = B.area();
      const rec = { tRun: performance.now(), t0: null, tPaint: null, how: null, epochOrigin: performance.timeOrigin };
      const mo = new MutationObserver(() => {
        if (rec.t0 === null && area.querySelector(".jp-OutputArea-output")) rec.t0 = performance.now();
      });
      mo.observe(area, { childList: true, subtree: true });
      const decoded = new WeakMap();
      const painted = () => {
        for (const img of area.querySelectorAll("img")) {
          if (img.complete && img.naturalWidth === W) {
            if (!decoded.has(img)) {
              decoded.set(img, false);
              img.decode().then(
                () => decoded.set(img, true),
                () => decoded.set(img, true),
              );
            }
            if (decoded.get(img)) return "img";
          }
        }
        for (const c of area.querySelectorAll("canvas")) if (canvasShowsImage(c, W, H)) return "canvas";
        return null;
      };
      const poll = () => {
        if (performance.now() - rec.tRun > timeout) {
          mo.disconnect();
          return reject(new Error("no paint within timeout"));
        }
        const how = rec.t0 === null ? null : painted();
        if (!how) return requestAnimationFrame(poll);
        rec.how = how;
        requestAnimationFrame(() => {
          rec.tPaint = performance.now();
          mo.disconnect();
          resolve(rec);
        });
      };
      requestAnimationFrame(poll);
      const nb = B.panel().content;
      nb.activeCellIndex = 0;
      B.cell().model.sharedModel.setSource(code);
      window.jupyterapp.commands.execute("notebook:run-cell");
    });

  // Frame recorder: for every frame, its begin time (the rAF timestamp, i.e. the vsync it was meant for),
  // and the moment the frame's main-thread work (input, rAF callbacks, style, layout, paint) is over: a
  // message posted from a rAF callback runs right after the rendering task. Frame time = end - begin; a
  // long task (say, canvas commands arriving from the kernel) that delays a frame shows up in it.
  B.frames = {
    start() {
      const rec = (this.rec = { frames: [], on: true, longtasks: [] });
      const pending = [];
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        const [ts, cb] = pending.shift();
        rec.frames.push([ts, cb, performance.now()]);
      };
      const loop = (ts) => {
        if (!rec.on) return;
        pending.push([ts, performance.now()]);
        ch.port2.postMessage(0);
        requestAnimationFrame(loop);
      };
      requestAnimationFrame(loop);
      try {
        rec.observer = new PerformanceObserver((list) => {
          for (const e of list.getEntries()) rec.longtasks.push([e.startTime, e.duration]);
        });
        rec.observer.observe({ type: "longtask" });
      } catch (e) {
        rec.observer = null;
      }
    },
    stop() {
      const rec = this.rec;
      rec.on = false;
      if (rec.observer) rec.observer.disconnect();
      return { frames: rec.frames, longtasks: rec.longtasks };
    },
    // After a gesture: keep recording until what it set off is over, then keep the frames up to that point
    // (and at least `tail` ms after the release: a widget may redraw once the pointer is still). Over means:
    // the kernel has handled every message the gesture sent (an execute request queued behind them has been
    // answered; kernel status alone is not enough: it reads idle while the server still forwards a backlog),
    // and then the page has drawn what came back (QUIET frames in a row under QUIET_MS: ipycanvas works
    // through its queue of canvas commands after the kernel is done). `settle` is when the last busy frame
    // ended, or when the kernel was done if later.
    async stopWhenSettled(timeout, tail) {
      const QUIET = 30;
      const QUIET_MS = 12;
      const rec = this.rec;
      const tUp = performance.now();
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      let timedOut = false;
      let tKernel = tUp;
      try {
        await Promise.race([
          B.exec("pass").then(() => (tKernel = performance.now())),
          sleep(timeout).then(() => Promise.reject(new Error("timeout"))),
        ]);
      } catch (e) {
        timedOut = true;
      }
      for (;;) {
        const f = rec.frames;
        const last = f.slice(-QUIET);
        if (last.length === QUIET && last[0][0] > tKernel && last.every((x) => x[2] - x[0] < QUIET_MS)) break;
        if (performance.now() - tUp > timeout) {
          timedOut = true;
          break;
        }
        await sleep(50);
      }
      let busyEnd = tUp;
      for (const [ts, , end] of rec.frames) if (ts >= tUp && end - ts >= QUIET_MS) busyEnd = end;
      const settled = Math.max(tKernel, busyEnd);
      const keepUntil = Math.max(settled, tUp + tail);
      const out = this.stop();
      out.frames = out.frames.filter((f) => f[0] <= keepUntil);
      out.settle = settled - tUp;
      out.timedOut = timedOut;
      return out;
    },
  };

  // Geometry helpers (client pixels) for each widget kind.
  B.imgRect = () => {
    const img = [...B.area().querySelectorAll("img")].find((i) => i.naturalWidth > 1000);
    const r = img.getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height, nw: img.naturalWidth, nh: img.naturalHeight };
  };
  B.canvasRect = () => {
    const cs = [...B.area().querySelectorAll("canvas")];
    const c = cs[cs.length - 1];
    const r = c.getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height, cw: c.width, ch: c.height, n: cs.length };
  };
  B.labnb = () => {
    const h = window.__labnb && window.__labnb.annotators;
    return h && h.length ? h[h.length - 1] : null;
  };
  B.outputWidth = () => B.area().getBoundingClientRect().width;
  window.__bench = B;
})();
