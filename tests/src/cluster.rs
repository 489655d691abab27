//! Real clusters for tests and benchmarks: an etcd process per cluster (the
//! Debian `etcd` binary, its own data directory and ports), a TCP proxy the
//! test can cut, and `cairn serve` processes on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{password_of, unique, wait_until, TestDb};

/// Where etcd data, node homes and nginx files go: `CAIRN_TEST_STATE`
/// (tests/run.sh points it inside the project's .cairn) or the temp dir.
pub fn state_dir() -> PathBuf {
    std::env::var_os("CAIRN_TEST_STATE").map_or_else(std::env::temp_dir, PathBuf::from)
}

/// A free port on 127.0.0.1 (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) on a pid this test spawned.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// One etcd member serving clients on `endpoint`.
pub struct Etcd {
    child: std::process::Child,
    pub endpoint: String,
    dir: PathBuf,
}

impl Etcd {
    pub fn start() -> Etcd {
        // A port picked as free can be taken before etcd binds it (other
        // tests run at the same time): try again with new ports.
        for _ in 0..5 {
            if let Some(e) = Etcd::try_start() {
                return e;
            }
        }
        panic!("etcd did not start after 5 attempts");
    }

    fn try_start() -> Option<Etcd> {
        let dir = state_dir().join(unique("cairn-etcd"));
        std::fs::create_dir_all(&dir).expect("etcd dir");
        let (client, peer) = (free_port(), free_port());
        let endpoint = format!("127.0.0.1:{client}");
        let log = std::fs::File::create(dir.join("etcd.log")).expect("etcd log");
        let mut child = std::process::Command::new("etcd")
            .args([
                "--name",
                "test",
                "--data-dir",
                dir.join("data").to_str().unwrap(),
                "--listen-client-urls",
                &format!("http://{endpoint}"),
                "--advertise-client-urls",
                &format!("http://{endpoint}"),
                "--listen-peer-urls",
                &format!("http://127.0.0.1:{peer}"),
                "--initial-advertise-peer-urls",
                &format!("http://127.0.0.1:{peer}"),
                "--initial-cluster",
                &format!("test=http://127.0.0.1:{peer}"),
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start etcd (apt-get install etcd-server)");
        let end = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&endpoint).is_err() {
            if child.try_wait().ok().flatten().is_some() || Instant::now() > end {
                let _ = child.kill();
                let _ = child.wait();
                eprintln!(
                    "etcd did not start: {}",
                    std::fs::read_to_string(dir.join("etcd.log"))
                        .unwrap_or_default()
                        .lines()
                        .last()
                        .unwrap_or("")
                );
                let _ = std::fs::remove_dir_all(&dir);
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Etcd {
            child,
            endpoint,
            dir,
        })
    }
    /// SIGSTOP: etcd stops answering (a hung coordinator).
    pub fn pause(&self) {
        signal(self.child.id(), libc::SIGSTOP);
    }
    pub fn resume(&self) {
        signal(self.child.id(), libc::SIGCONT);
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        signal(self.child.id(), libc::SIGCONT);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A TCP proxy in front of `target` that the test can cut (every open
/// connection is closed and new ones are refused) and heal.
pub struct Proxy {
    pub endpoint: String,
    cut: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: &str) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("proxy bind");
        let endpoint = listener.local_addr().unwrap().to_string();
        let cut = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (cut2, conns2, target) = (cut.clone(), conns.clone(), target.to_owned());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if cut2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let h = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                conns2.lock().unwrap().push(h);
            }
        });
        Proxy {
            endpoint,
            cut,
            conns,
            accept,
        }
    }
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for h in self.conns.lock().unwrap().drain(..) {
            h.abort();
        }
    }
    pub fn heal(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// The `cairn` binary of this build.
pub fn cairn_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("CAIRN_BENCH_BIN") {
        return std::fs::canonicalize(PathBuf::from(&bin)).unwrap_or_else(|_| bin.into());
    }
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let st = std::process::Command::new(cargo)
                // The same target selection as `cargo test --workspace`, so the
                // binary shares its features and its compiled dependencies
                // instead of building a second copy of them (`-p cairn` alone
                // would resolve features differently).
                .args(["build", "--quiet", "--workspace", "--bins", "--tests"])
                .status()
                .expect("run cargo build");
            assert!(st.success(), "cargo build of the cairn binary failed");
            let exe = std::env::current_exe().unwrap();
            let dir = exe.parent().unwrap().parent().unwrap();
            dir.join("cairn")
        })
        .clone()
}

/// What the nodes of one test cluster share.
pub struct ClusterSpec {
    pub name: String,
    pub db: TestDb,
    pub shared_home: PathBuf,
    pub etcd_endpoint: String,
    /// Extra environment for every node (e.g. `CAIRN_LEASE_TTL`).
    pub env: Vec<(String, String)>,
}

impl ClusterSpec {
    /// A fresh database (with an administrator `admin`, password
    /// [`password_of`]`("admin")`) and shared home for a cluster on `etcd`.
    pub async fn new(etcd: &Etcd) -> ClusterSpec {
        let db = TestDb::new().await;
        let pool = cairn::db::pool(&db.url, 2).expect("pool");
        let mut c = pool.get().await.expect("db");
        cairn::users::create(
            &mut c,
            cairn::users::NewUser {
                username: "admin",
                display_name: Some("Admin"),
                email: Some("admin@example.com"),
                password: &password_of("admin"),
                admin: true,
            },
        )
        .await
        .expect("admin");
        ClusterSpec {
            name: unique("c"),
            db,
            shared_home: state_dir().join(unique("cairn-cluster-shared")),
            etcd_endpoint: etcd.endpoint.clone(),
            env: Vec::new(),
        }
    }

    pub fn with_env(mut self, k: &str, v: &str) -> ClusterSpec {
        self.env.push((k.into(), v.into()));
        self
    }

    /// The command for node `id` (not started).
    pub fn command(
        &self,
        id: &str,
        port: u16,
        etcd_endpoint: &str,
    ) -> (tokio::process::Command, PathBuf) {
        let local = state_dir().join(unique(&format!("cairn-node-{id}")));
        std::fs::create_dir_all(&local).unwrap();
        let log = local.join("node.log");
        let mut c = tokio::process::Command::new(cairn_binary());
        c.arg("serve")
            .env("CAIRN_NODE_ID", id)
            .env("CAIRN_LISTEN", format!("127.0.0.1:{port}"))
            .env("CAIRN_DATABASE_URL", &self.db.url)
            .env("CAIRN_SHARED_HOME", &self.shared_home)
            .env("CAIRN_LOCAL_HOME", &local)
            .env("CAIRN_ETCD_ENDPOINTS", etcd_endpoint)
            .env("CAIRN_CLUSTER", &self.name)
            .env("CAIRN_REST_RATE_LIMIT", "off")
            .env("CAIRN_LOG", "info")
            .env("RUST_BACKTRACE", "0")
            .env_remove("CAIRN_BUILTIN_PLUGINS")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(local.join("node.err")).unwrap())
            .kill_on_drop(true);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        (c, local)
    }

    /// Starts node `id` talking to etcd at `etcd_endpoint` (the cluster's
    /// etcd, or a proxy in front of it) and waits until it is RUNNING.
    pub async fn node_via(&self, id: &str, etcd_endpoint: &str) -> NodeProc {
        let port = free_port();
        let (mut c, local) = self.command(id, port, etcd_endpoint);
        let child = c.spawn().expect("start cairn");
        let node = NodeProc {
            id: id.to_owned(),
            url: format!("http://127.0.0.1:{port}"),
            child: Some(child),
            local,
            http: http(),
        };
        let ok = wait_until(Duration::from_secs(90), || async {
            node.status().await.1 == "RUNNING"
        })
        .await;
        assert!(ok, "node {id} did not become RUNNING:\n{}", node.log_tail());
        node
    }

    pub async fn node(&self, id: &str) -> NodeProc {
        self.node_via(id, &self.etcd_endpoint.clone()).await
    }

    /// Runs `cairn ARGS` against this cluster; returns (success, stdout, stderr).
    pub async fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let out = tokio::process::Command::new(cairn_binary())
            .args(args)
            .env("CAIRN_NODE_ID", "cli")
            .env("CAIRN_DATABASE_URL", &self.db.url)
            .env("CAIRN_ETCD_ENDPOINTS", &self.etcd_endpoint)
            .env("CAIRN_CLUSTER", &self.name)
            .env("CAIRN_LOG", "warn")
            .env("RUST_BACKTRACE", "0")
            .output()
            .await
            .expect("run cairn");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("http client")
}

/// A `cairn serve` process.
pub struct NodeProc {
    pub id: String,
    pub url: String,
    child: Option<tokio::process::Child>,
    pub local: PathBuf,
    pub http: reqwest::Client,
}

impl NodeProc {
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(tokio::process::Child::id)
    }
    /// (HTTP status, `state`) of `/status`; (0, "") when it does not answer.
    pub async fn status(&self) -> (u16, String) {
        match self
            .http
            .get(format!("{}/status", self.url))
            .timeout(Duration::from_secs(3))
            .send()
            .await
        {
            Ok(r) => {
                let code = r.status().as_u16();
                let v: serde_json::Value = r.json().await.unwrap_or_default();
                (code, v["state"].as_str().unwrap_or("").to_owned())
            }
            Err(_) => (0, String::new()),
        }
    }
    /// kill -9.
    pub fn kill9(&mut self) {
        if let Some(pid) = self.pid() {
            signal(pid, libc::SIGKILL);
        }
    }
    /// SIGTERM, then waits for the process to exit.
    pub async fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let pid = self.pid()?;
        signal(pid, libc::SIGTERM);
        let child = self.child.as_mut()?;
        tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .ok()?
            .ok()
    }
    /// Waits for the process to exit by itself (after a drain).
    pub async fn exited(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        tokio::time::timeout(within, child.wait()).await.ok()?.ok()
    }
    pub fn log_tail(&self) -> String {
        let mut out = String::new();
        for f in ["node.log", "node.err"] {
            let text = std::fs::read_to_string(self.local.join(f)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&lines[lines.len().saturating_sub(40)..].join("\n"));
            out.push('\n');
        }
        out
    }
    pub fn rest(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .basic_auth("admin", Some(password_of("admin")))
            .header("X-Atlassian-Token", "no-check")
    }
    /// The body of `GET path` as admin, as text ("" when unreachable).
    pub async fn get_text(&self, path: &str) -> String {
        match self.rest(reqwest::Method::GET, path).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        match self.rest(reqwest::Method::GET, path).send().await {
            Ok(r) => {
                let code = r.status().as_u16();
                (code, r.json().await.unwrap_or_default())
            }
            Err(_) => (0, serde_json::Value::Null),
        }
    }
    /// Ids of the members this node currently sees.
    pub async fn members(&self) -> Vec<String> {
        let (_, v) = self.get_json("/rest/cairn/1.0/cluster").await;
        let mut ids: Vec<String> = v["nodes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }
    pub async fn leader(&self) -> Option<String> {
        let (_, v) = self.get_json("/rest/cairn/1.0/cluster").await;
        v["leader"].as_str().map(str::to_owned)
    }
    /// Creates a page; returns (HTTP status, body).
    pub async fn create_page(
        &self,
        space: &str,
        title: &str,
        body: &str,
    ) -> (u16, serde_json::Value) {
        let r = self
            .rest(reqwest::Method::POST, "/rest/api/content")
            .json(&serde_json::json!({
                "type": "page", "title": title, "space": {"key": space},
                "body": {"storage": {"value": body, "representation": "storage"}}
            }))
            .send()
            .await;
        match r {
            Ok(r) => {
                let code = r.status().as_u16();
                (code, r.json().await.unwrap_or_default())
            }
            Err(_) => (0, serde_json::Value::Null),
        }
    }
    pub async fn create_space(&self, key: &str) -> u16 {
        self.rest(reqwest::Method::POST, "/rest/api/space")
            .json(&serde_json::json!({"key": key, "name": format!("Space {key}")}))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }
    /// Titles found by a CQL search on this node.
    pub async fn search_titles(&self, cql: &str) -> Vec<String> {
        let r = self
            .rest(reqwest::Method::GET, "/rest/api/content/search")
            .query(&[("cql", cql)])
            .send()
            .await;
        let Ok(r) = r else { return Vec::new() };
        let v: serde_json::Value = r.json().await.unwrap_or_default();
        v["results"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["title"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Writes an nginx configuration balancing `upstreams` (no sticky
/// sessions) on `port`, from `examples/cluster/nginx.conf.template`, and
/// starts nginx in the foreground; killed on drop.
pub struct Nginx {
    child: std::process::Child,
    pub url: String,
    dir: PathBuf,
}

impl Nginx {
    pub fn start(upstreams: &[&str]) -> Nginx {
        let dir = state_dir().join(unique("cairn-nginx"));
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        // Started as root, nginx's workers run as nobody and write their
        // temp files here.
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777));
        }
        let port = free_port();
        let template = std::fs::read_to_string(
            crate::repo_root().join("examples/cluster/nginx.conf.template"),
        )
        .expect("examples/cluster/nginx.conf.template");
        let servers: String = upstreams
            .iter()
            .map(|u| format!("        server {u} max_fails=1 fail_timeout=2s;\n"))
            .collect();
        let conf = template
            .replace("@PREFIX@", dir.to_str().unwrap())
            .replace("@LISTEN@", &format!("127.0.0.1:{port}"))
            .replace("@UPSTREAMS@\n", &servers);
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let child = std::process::Command::new(nginx_binary())
            .args([
                "-p",
                dir.to_str().unwrap(),
                "-c",
                path.to_str().unwrap(),
                "-g",
                "daemon off;",
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
            .spawn()
            .expect("start nginx (apt-get install nginx)");
        let end = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < end,
                "nginx did not start: {}",
                std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Nginx {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }
}

pub fn nginx_binary() -> PathBuf {
    for p in ["/usr/sbin/nginx", "/usr/bin/nginx"] {
        if Path::new(p).exists() {
            return p.into();
        }
    }
    "nginx".into()
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers (SIGKILL would orphan them,
        // still holding the port).
        signal(self.child.id(), libc::SIGTERM);
        let end = Instant::now() + Duration::from_secs(5);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
