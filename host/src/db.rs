//! The PostgreSQL pool and schema migrations. Only services run SQL; this
//! module owns connecting and migrating.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, RecyclingMethod, Runtime};
pub use deadpool_postgres::{Object, Pool};

mod embedded {
    refinery::embed_migrations!("../migrations");
}

/// Advisory-lock key that serialises migrations when several nodes start at once.
const MIGRATION_LOCK: i64 = 0x6361_6972_6e00_0001;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] tokio_postgres::Error),
    #[error("database error: {0}")]
    Query(#[from] tokio_postgres::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] refinery::Error),
    #[error("cannot build the connection pool: {0}")]
    Pool(String),
    #[error("the database did not answer within {0:?}")]
    Timeout(Duration),
}

/// Builds a pool; connections are made lazily.
///
/// # Errors
/// When the URL cannot be parsed or the pool cannot be built.
pub fn pool(url: &str, size: usize) -> Result<Pool, DbError> {
    pool_for_node(url, size, None)
}

/// A pool whose connections identify `fenced_node` to the database, so
/// every write they commit is checked against that node's cluster
/// membership (the fence of migration V6).
///
/// # Errors
/// See [`pool`].
pub(crate) fn pool_for_node(
    url: &str,
    size: usize,
    fenced_node: Option<&str>,
) -> Result<Pool, DbError> {
    let mut pg: tokio_postgres::Config = url.parse().map_err(DbError::Connect)?;
    // Statements are prepared once per connection (`prepare_cached`) and
    // carry the permission filter inline, which makes them expensive to
    // plan (3-10 ms at 10k pages) and cheap to run (under 1 ms). With the
    // default plan cache mode PostgreSQL keeps re-planning them for every
    // execution; a generic plan is made once per connection. An explicit
    // `plan_cache_mode` in the URL's options wins.
    let mut opts = pg.get_options().unwrap_or_default().to_string();
    if !opts.contains("plan_cache_mode") {
        opts.push_str(" -c plan_cache_mode=force_generic_plan");
    }
    if let Some(node) = fenced_node {
        // Node ids are letters, digits, '-', '_' and '.' (checked by the
        // configuration), and incarnations are URL-safe base64, so neither
        // needs quoting here.
        opts.push_str(&format!(
            " -c cairn.node_id={node} -c cairn.incarnation={}",
            incarnation()
        ));
    }
    pg.options(opts.trim());
    let mgr = Manager::from_config(
        pg,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(mgr)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(5)))
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))
}

/// Applies every pending migration under a cluster-wide advisory lock.
///
/// # Errors
/// On connection failure or a failing migration (which is rolled back).
pub async fn migrate(url: &str) -> Result<usize, DbError> {
    let (mut client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(DbError::Connect)?;
    let conn_task = tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::warn!(error = %e, "migration connection ended");
        }
    });
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let report = embedded::migrations::runner()
        .set_grouped(false)
        .run_async(&mut client)
        .await;
    // Unlock even when the migration failed; the connection close would too.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    drop(client);
    let _ = conn_task.await;
    let applied = report?.applied_migrations().len();
    Ok(applied)
}

/// True when a connection can be had and answers `SELECT 1` within the timeout.
pub(crate) async fn ping(pool: &Pool, timeout: Duration) -> Result<(), DbError> {
    let fut = async {
        let client = pool.get().await.map_err(|e| DbError::Pool(e.to_string()))?;
        client.query_one("SELECT 1", &[]).await?;
        Ok::<(), DbError>(())
    };
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| DbError::Timeout(timeout))?
}

/// Queries through the connection's statement cache: each distinct SQL text
/// is parsed and planned once per connection instead of on every call.
/// Services use these for everything on the request path.
pub(crate) async fn query(
    db: &impl deadpool_postgres::GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
    let st = db.prepare_cached(sql).await?;
    db.query(&st, params).await
}

/// See [`query`].
pub(crate) async fn query_one(
    db: &impl deadpool_postgres::GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<tokio_postgres::Row, tokio_postgres::Error> {
    let st = db.prepare_cached(sql).await?;
    db.query_one(&st, params).await
}

/// See [`query`].
pub(crate) async fn query_opt(
    db: &impl deadpool_postgres::GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Option<tokio_postgres::Row>, tokio_postgres::Error> {
    let st = db.prepare_cached(sql).await?;
    db.query_opt(&st, params).await
}

/// See [`query`].
pub(crate) async fn execute(
    db: &impl deadpool_postgres::GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<u64, tokio_postgres::Error> {
    let st = db.prepare_cached(sql).await?;
    db.execute(&st, params).await
}

/// This process's incarnation: random, fixed for its lifetime. Its
/// database connections carry it and its fence row records it, so a
/// paused process whose node id was started again elsewhere cannot write
/// (migration V9).
pub(crate) fn incarnation() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        use rand::RngCore;
        let mut b = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut b);
        hex::encode(b)
    })
}
