//! A headless Chromium driven over WebDriver (chromedriver): a few JSON
//! calls over reqwest, for the browser tests.

use std::time::Duration;

use serde_json::{json, Value};

use crate::wait_until;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    process: tokio::process::Child,
    http: reqwest::Client,
    url: String,
    /// Killed by [`Driver::kill`]: there is no session left to end.
    killed: bool,
}

impl Driver {
    pub async fn start() -> Driver {
        Driver::start_sized(1280, 900).await
    }

    /// A browser whose window is `width` × `height` CSS pixels (390 × 844 is a phone).
    pub async fn start_sized(width: u32, height: u32) -> Driver {
        Driver::start_with(width, height, &[]).await
    }

    /// A desktop browser started with `args` besides the usual ones (the
    /// editor's benchmark turns the 60 Hz frame clock off with them).
    pub async fn start_with_args(args: &[&str]) -> Driver {
        Driver::start_with(1280, 900, args).await
    }

    async fn start_with(width: u32, height: u32, args: &[&str]) -> Driver {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect(
                "chromedriver is not installed: tests/run.sh installs chromium and chromium-driver",
            );
        let process = tokio::process::Command::new(bin)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let ready = wait_until(Duration::from_secs(20), || {
            let http = http.clone();
            let u = format!("{base}/status");
            async move { http.get(u).send().await.is_ok() }
        })
        .await;
        assert!(ready, "chromedriver did not start");
        let mut chrome = json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-dev-shm-usage", format!("--window-size={},{}", width.max(800), height)]
        });
        chrome["args"]
            .as_array_mut()
            .unwrap()
            .extend(args.iter().map(|a| json!(a)));
        // Headless windows are at least 500 px wide: a phone is emulated.
        if width < 800 {
            chrome["mobileEmulation"] = json!({
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 3.0, "touch": true}
            });
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "unhandledPromptBehavior": "accept",
            "goog:chromeOptions": chrome
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sid = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_owned();
        Driver {
            process,
            http,
            url: format!("{base}/session/{sid}"),
            killed: false,
        }
    }

    pub async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        if v["value"].get("error").is_some() {
            panic!("webdriver {path}: {v}");
        }
        v["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    pub async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_owned()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            json!({}),
        )
        .await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            json!({"text": text}),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            json!({}),
        )
        .await;
    }

    pub async fn js(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Runs `script` as an async WebDriver script: it ends by calling its last
    /// argument (`arguments[arguments.length - 1]`) with the result.
    pub async fn js_async(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/async",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// The serious and critical accessibility violations axe-core finds on
    /// the current page (WCAG 2.x A and AA rules), one line each. axe-core
    /// comes from npm (`tests/browser`, `CAIRN_AXE_JS`).
    pub async fn axe_violations(&self) -> Vec<String> {
        let path = std::env::var("CAIRN_AXE_JS").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/browser/node_modules/axe-core/axe.min.js"
            )
            .into()
        });
        let axe = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("axe-core is not installed at {path} ({e}): tests/run.sh runs npm ci in tests/browser")
        });
        self.js(&format!("if (!window.axe) {{ {axe}\n }} return true;"))
            .await;
        let v = self
            .js_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})
                   .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
                   .catch(e => done(['axe failed: ' + e]));",
            )
            .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Presses keys as a keyboard would: WebDriver key values, e.g.
    /// `"\u{E004}"` (Tab), `"\u{E007}"` (Enter), `"\u{E00C}"` (Escape).
    pub async fn press(&self, keys: &[&str]) {
        let mut actions = Vec::new();
        for k in keys {
            actions.push(json!({"type": "keyDown", "value": k}));
            actions.push(json!({"type": "keyUp", "value": k}));
        }
        self.cmd(
            reqwest::Method::POST,
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
    }

    /// Saves a screenshot as a test artifact, `target/screenshots/NAME.png`
    /// (not committed: for a reviewer to look at).
    pub async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let v = self
            .cmd(reqwest::Method::GET, "/screenshot", json!({}))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("a screenshot"))
            .expect("base64");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot");
    }

    /// Logs in through the login form and waits for the dashboard.
    pub async fn login(&self, base: &str, user: &str) {
        self.goto(&format!("{base}/login")).await;
        self.type_into("#username", user).await;
        self.type_into("#password", &crate::password_of(user)).await;
        self.click("#login-submit").await;
        self.wait_for(
            "the dashboard",
            "return document.title.startsWith('Dashboard')",
        )
        .await;
    }

    pub async fn current_url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", json!({}))
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    pub async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", json!({}))
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    pub async fn wait_for(&self, what: &str, script: &str) {
        let ok = wait_until(Duration::from_secs(15), || async {
            self.js(script).await == json!(true)
        })
        .await;
        assert!(
            ok,
            "timed out waiting for {what}; page:\n{}",
            self.source().await
        );
    }
}

/// The processes under `root` (children, their children, …), read from
/// `/proc`, deepest last.
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parent_of.push((pid, ppid));
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parent_of.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out.remove(0);
    out
}

impl Driver {
    /// Kills the browser as a crash would: chromedriver and every process
    /// it started (Chromium and its renderers) get SIGKILL at once, so no
    /// page hears `pagehide` and no session is ended. Returns when
    /// chromedriver is gone.
    pub async fn kill(mut self) {
        self.killed = true;
        if let Some(pid) = self.process.id() {
            let mut pids = descendants(pid);
            pids.push(pid);
            let _ = std::process::Command::new("kill")
                .arg("-KILL")
                .args(pids.iter().map(u32::to_string))
                .status();
        }
        let _ = self.process.kill().await;
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if self.killed {
            return;
        }
        // Best effort: end the browser session; chromedriver is killed on drop.
        let _ = std::thread::spawn({
            let url = self.url.clone();
            move || {
                let _ = std::process::Command::new("curl")
                    .args(["-s", "-X", "DELETE", &url])
                    .output();
            }
        })
        .join();
    }
}
