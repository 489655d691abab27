//! End-to-end test harness. `tests/run.sh` starts one PostgreSQL for the whole
//! run and exports `CAIRN_TEST_PG` (a superuser URL without a database name);
//! each test gets its own database and shared home, so tests run in parallel
//! without sharing state.

pub mod browser;
pub mod cluster;
pub mod confluence;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A fresh, migrated database for one test; its URL is `url`.
pub struct TestDb {
    pub url: String,
}

pub fn server_url() -> String {
    std::env::var("CAIRN_TEST_PG").unwrap_or_else(|_| {
        panic!("CAIRN_TEST_PG is not set: run the suite with tests/run.sh, which starts PostgreSQL")
    })
}

/// A database migrated once per test process; each test's database is a
/// copy of it (`CREATE DATABASE … TEMPLATE`), which is far cheaper than
/// migrating every time.
static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

async fn admin_client() -> tokio_postgres::Client {
    let (client, conn) =
        tokio_postgres::connect(&format!("{}/postgres", server_url()), tokio_postgres::NoTls)
            .await
            .expect("connect to test PostgreSQL");
    tokio::spawn(conn);
    client
}

async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = unique("cairn_template");
            let client = admin_client().await;
            for sql in [
                format!("DROP DATABASE IF EXISTS {name}"),
                format!("CREATE DATABASE {name}"),
            ] {
                client
                    .batch_execute(&sql)
                    .await
                    .expect("create the template database");
            }
            // migrate() closes its connection: nothing stays connected to
            // the template, as CREATE DATABASE … TEMPLATE requires.
            cairn::db::migrate(&format!("{}/{name}", server_url()))
                .await
                .expect("migrate the template database");
            name
        })
        .await
}

impl TestDb {
    /// Creates `cairn_test_<pid>_<n>`, a copy of the migrated template.
    pub async fn new() -> TestDb {
        let template = template().await;
        let name = unique("cairn_test");
        let client = admin_client().await;
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .expect("drop an old test database");
        // Two copies made at the same moment can see each other's brief
        // hold on the template; the one that lost tries again.
        let mut tries = 0;
        loop {
            match client
                .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .await
            {
                Ok(()) => break,
                Err(e)
                    if tries < 50
                        && e.code() == Some(&tokio_postgres::error::SqlState::OBJECT_IN_USE) =>
                {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("create test database: {e}"),
            }
        }
        let url = format!("{}/{name}", server_url());
        // A copy shares the template's history epoch; a database migrated
        // on its own draws one (the search index tells databases apart by it).
        let (db, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect to the test database");
        tokio::spawn(conn);
        db.batch_execute(
            "UPDATE index_history SET epoch = md5(random()::text || clock_timestamp()::text)",
        )
        .await
        .expect("draw the test database's history epoch");
        TestDb { url }
    }
}

/// A node's HTTP surface served in-process on a free 127.0.0.1 port, with an
/// administrator `admin` (password [`password_of`]`("admin")`).
pub struct TestNode {
    pub base: String,
    pub db: TestDb,
    pub pool: cairn::db::Pool,
    pub shared_home: PathBuf,
    pub state: cairn::AppState,
}

/// A program from a virtualenv tests/run.sh creates under `.cairn/`:
/// `$var` when set, else `.cairn/{rel}`; panics with how to get it.
pub fn venv_tool(var: &str, rel: &str) -> PathBuf {
    if let Ok(p) = std::env::var(var) {
        return PathBuf::from(p);
    }
    let p = repo_root().join(".cairn").join(rel);
    assert!(
        p.exists(),
        "{} is missing: run the suite with tests/run.sh (it creates the virtualenvs) or set {var}",
        p.display()
    );
    p
}

/// Every test user's password.
pub fn password_of(name: &str) -> String {
    format!("{name}-password")
}

impl TestNode {
    /// A REST call as `user` (basic auth with [`password_of`]): the status
    /// and the JSON body (`Null` when there is none).
    pub async fn rest(
        &self,
        user: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut r = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .basic_auth(user, Some(password_of(user)));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.expect("REST call");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or_default())
    }

    /// A ready node on a fresh database.
    pub async fn start() -> TestNode {
        Self::start_with(|_| {}).await
    }

    /// Like [`TestNode::start`], adjusting the state first (limits etc.).
    pub async fn start_with(adjust: impl FnOnce(&mut cairn::AppState)) -> TestNode {
        Self::start_inner(adjust, true).await
    }

    /// A ready node without the first-party plugins a node installs when it
    /// starts: an empty plugin registry.
    pub async fn start_bare() -> TestNode {
        Self::start_inner(|_| {}, false).await
    }

    async fn start_inner(adjust: impl FnOnce(&mut cairn::AppState), first_party: bool) -> TestNode {
        init_logging();
        let db = TestDb::new().await;
        let pool = cairn::db::pool(&db.url, 8).expect("pool");
        let shared_home = std::env::temp_dir().join(unique("cairn-test-shared"));
        let mut state =
            cairn::AppState::new(pool.clone(), shared_home.clone()).expect("the node's state");
        let local_home = std::env::temp_dir().join(unique("cairn-test-local"));
        let index = cairn::search::SearchIndex::open(&local_home).expect("search index");
        index.spawn_tailer(
            pool.clone(),
            db.url.clone(),
            state.files.clone(),
            "test-node".into(),
        );
        state.search = Some(index);
        state.plugins.set_local_home(&local_home);
        adjust(&mut state);
        if first_party {
            // As `cairn serve` does: the plugins embedded in the binary
            // (compiled once per test process).
            let installed = state.plugins.install_embedded().await;
            assert_eq!(
                installed.len(),
                cairn::plugins::embedded::embedded().len(),
                "every first-party plugin installs: {installed:?}"
            );
        }
        state.readiness.set_ready();
        let base = serve_state(state.clone()).await;
        let node = TestNode {
            base,
            db,
            pool,
            shared_home,
            state,
        };
        node.user("admin", true).await;
        node
    }

    /// Creates a user `name` with password [`password_of`]`(name)`.
    pub async fn user(&self, name: &str, admin: bool) -> cairn::perms::User {
        let mut db = self.pool.get().await.expect("db");
        cairn::users::create(
            &mut db,
            cairn::users::NewUser {
                username: name,
                display_name: Some(&format!("{name} Example")),
                email: Some(&format!("{name}@example.com")),
                password: &password_of(name),
                admin,
            },
        )
        .await
        .expect("create user")
    }

    /// The permission view of a user (None = anonymous), for service calls.
    /// Ids of the ancestors of content `id`, root first, as the admin reads
    /// them over REST.
    pub async fn ancestors(&self, id: i64) -> Vec<String> {
        let (_, v) = self
            .rest(
                "admin",
                reqwest::Method::GET,
                &format!("/rest/api/content/{id}?expand=ancestors"),
                None,
            )
            .await;
        v["ancestors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|a| a["id"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub async fn viewer(&self, user: Option<&cairn::perms::User>) -> cairn::perms::Viewer {
        let db = self.pool.get().await.expect("db");
        cairn::perms::Viewer::load(&db, user.cloned())
            .await
            .expect("viewer")
    }

    /// A browser-like client logged in as `name`.
    pub async fn login(&self, name: &str) -> Client {
        let mut c = self.anon();
        c.login(name, &password_of(name)).await;
        c
    }

    pub fn anon(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            base: self.base.clone(),
            csrf: String::new(),
            cookie: String::new(),
        }
    }

    pub async fn sql(&self) -> deadpool_object::Object {
        self.pool.get().await.expect("db")
    }
}

pub mod deadpool_object {
    pub use cairn::db::Object;
}

/// A cookie-keeping HTTP client that follows no redirects and knows the
/// session's CSRF token.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: String,
    /// `cairn_session=...` after a successful login.
    pub cookie: String,
}

/// The value of `<input ... name="NAME" value="...">` in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let i = html.find(&needle)? + needle.len();
    let rest = &html[i..];
    Some(rest[..rest.find('"')?].to_owned())
}

impl Client {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn login(&mut self, name: &str, password: &str) -> reqwest::Response {
        let page = self.get_text("/login").await.1;
        let token = input_value(&page, "_csrf").expect("login form token");
        let r = self
            .http
            .post(self.url("/login"))
            .form(&[
                ("_csrf", token.as_str()),
                ("username", name),
                ("password", password),
                ("next", "/"),
            ])
            .send()
            .await
            .expect("login");
        if r.status() == 303 {
            if let Some(c) = r
                .headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find(|v| v.starts_with("cairn_session="))
            {
                self.cookie = c.split(';').next().unwrap_or("").to_owned();
            }
            let (_, home) = self.get_text("/spaces").await;
            self.csrf = input_value(&home, "_csrf").unwrap_or_default();
        }
        r
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        let s = r.status().as_u16();
        (s, r.text().await.unwrap_or_default())
    }

    /// GET following redirects (at most 5); returns the final status and body.
    pub async fn follow(&self, path: &str) -> (u16, String, String) {
        let mut p = path.to_owned();
        for _ in 0..5 {
            let r = self.get(&p).await;
            if r.status().is_redirection() {
                p = r
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or("/")
                    .to_owned();
                continue;
            }
            let s = r.status().as_u16();
            return (s, p, r.text().await.unwrap_or_default());
        }
        panic!("too many redirects from {path}");
    }

    /// POSTs a form with this session's CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut f: Vec<(&str, &str)> = vec![("_csrf", self.csrf.as_str())];
        f.extend_from_slice(fields);
        self.http
            .post(self.url(path))
            .form(&f)
            .send()
            .await
            .expect("POST")
    }

    /// POSTs a form the way `app.js` sends one (`X-Cairn-Form`): a refusal
    /// comes back as JSON naming the field, a success as 204 with
    /// `X-Cairn-Location`.
    pub async fn post_from_script(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut f: Vec<(&str, &str)> = vec![("_csrf", self.csrf.as_str())];
        f.extend_from_slice(fields);
        self.http
            .post(self.url(path))
            .header("X-Cairn-Form", "1")
            .form(&f)
            .send()
            .await
            .expect("POST")
    }

    /// POSTs a form like [`Client::post`]; when it answers with a redirect
    /// (a form that worked goes back to its screen), GETs where it points.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let r = self.post(path, fields).await;
        if r.status().is_redirection() {
            return self.get(&Self::location(&r)).await;
        }
        r
    }

    /// The page's view (following redirects); asserts it answers 200.
    pub async fn view_page(&self, id: i64) -> String {
        let (status, _, html) = self
            .follow(&format!("/pages/viewpage.action?pageId={id}"))
            .await;
        assert_eq!(status, 200, "{html}");
        html
    }

    /// Adds a restriction on the page's restrictions screen: `operation`
    /// is `read` or `update`, `kind` is `user` or `group`.
    pub async fn restrict(
        &self,
        page: impl std::fmt::Display,
        operation: &str,
        kind: &str,
        name: &str,
    ) -> reqwest::Response {
        self.submit(
            &format!("/pages/{page}/restrictions"),
            &[
                ("operation", operation),
                ("action", "add"),
                ("kind", kind),
                ("name", name),
            ],
        )
        .await
    }

    /// The `Location` of a redirect response.
    pub fn location(r: &reqwest::Response) -> String {
        r.headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }

    /// Creates a page in storage format; returns its id.
    pub async fn create_page(
        &self,
        space: &str,
        title: &str,
        body: &str,
        parent: Option<i64>,
    ) -> i64 {
        let parent = parent.map(|p| p.to_string()).unwrap_or_default();
        let r = self
            .post(
                &format!("/spaces/{space}/create"),
                &[
                    ("title", title),
                    ("body", body),
                    ("format", "storage"),
                    ("parent", &parent),
                ],
            )
            .await;
        assert_eq!(
            r.status(),
            303,
            "create {title}: {}",
            r.text().await.unwrap_or_default()
        );
        let loc = Client::location(&r);
        page_id_of(&loc).unwrap_or_else(|| panic!("no page id in {loc}"))
    }

    pub async fn create_space(&self, key: &str, name: &str) {
        let r = self
            .post(
                "/spaces",
                &[("key", key), ("name", name), ("description", "")],
            )
            .await;
        assert_eq!(r.status(), 303, "create space {key}");
    }
}

/// The id in `/spaces/KEY/pages/ID/...`.
pub fn page_id_of(url: &str) -> Option<i64> {
    let i = url.find("/pages/")? + 7;
    url[i..].split('/').next()?.parse().ok()
}

/// Serves the router over `pool` on a free 127.0.0.1 port; returns its base URL.
pub async fn serve(pool: cairn::db::Pool, ready: bool) -> String {
    let state = cairn::AppState::new(pool, std::env::temp_dir().join(unique("cairn-test-shared")))
        .expect("the node's state");
    if ready {
        state.readiness.set_ready();
    }
    serve_state(state).await
}

pub async fn serve_state(mut state: cairn::AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    state.base_url = format!("http://{addr}");
    let app = cairn::router(state);
    tokio::spawn(cairn::serve(listener, app));
    format!("http://{addr}")
}

/// Polls `f` until it returns true or `timeout` passes.
pub async fn wait_until<F, Fut>(timeout: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// [`wait_until`], failing the test with `what` when `limit` passes;
/// returns how long it took.
pub async fn within<F, Fut>(limit: Duration, what: &str, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    let ok = wait_until(limit, &mut f).await;
    assert!(ok, "{what}: not within {limit:?}");
    start.elapsed()
}

/// Logs go to the test's captured output (`CAIRN_LOG`, default warn).
pub fn init_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG")
                    .unwrap_or_else(|_| "warn".into()),
            )
            .try_init();
    });
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Builds the plugin crate (or workspace) in `dir` (relative to the
/// repository root) for wasm32-wasip2 in release mode, once per process and
/// argument set; returns the directory.
pub fn build_plugin(dir: &str, extra: &[&str]) -> PathBuf {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static BUILT: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let key = format!("{dir} {}", extra.join(" "));
    let path = repo_root().join(dir);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let set = built.get_or_insert_with(HashSet::new);
    if set.contains(&key) {
        return path;
    }
    let out = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
            "--quiet",
        ])
        .args(extra)
        .current_dir(&path)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("run cargo build for a plugin");
    assert!(
        out.status.success(),
        "building the plugin in {dir} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    set.insert(key);
    path
}

/// The first-party plugins, built; the directory to pass to
/// `Plugins::install_builtin`.
pub fn builtin_plugins() -> PathBuf {
    build_plugin("plugins", &[])
}
