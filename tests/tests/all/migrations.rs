use cairn_tests::TestDb;

#[tokio::test]
async fn migrations_are_idempotent_and_concurrent_safe() {
    let db = TestDb::new().await;
    // Several nodes starting at once: the advisory lock serialises them.
    let a = cairn::db::migrate(&db.url);
    let b = cairn::db::migrate(&db.url);
    let (a, b) = tokio::join!(a, b);
    assert_eq!(a.unwrap() + b.unwrap(), 0, "everything was already applied");
    let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let n: i64 = client
        .query_one("SELECT count(*) FROM refinery_schema_history", &[])
        .await
        .unwrap()
        .get(0);
    assert!(n >= 1);
}
