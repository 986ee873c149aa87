//! The pool's connections keep their prepared statements: Postgres stops planning the
//! queries a connect storm repeats, and a statement whose table changed shape is
//! prepared again rather than failing every later call.

use crate::helpers::TestDatabase;

const MEMBERSHIP: &str =
    "SELECT EXISTS (SELECT 1 FROM members WHERE conversation_id = $1 AND user_id = $2)";

/// How many times this session planned `sql` generically and how many times for the
/// values given (`pg_prepared_statements`), read on the connection that prepared it.
async fn plans(conn: &banter::db::statements::CachedClient, sql: &str) -> (i64, i64) {
    let row = conn
        .query_one(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
            &[&sql],
        )
        .await
        .expect("the statement is prepared on this connection");
    (row.get(0), row.get(1))
}

#[actix_web::test]
async fn a_query_run_again_on_a_pooled_connection_reuses_its_statement_and_stops_being_planned() {
    let database = TestDatabase::create().await;
    let pool = banter::db::connect(&database.url, 1).await.unwrap();
    banter::db::migrations::run(&pool).await.unwrap();
    let conn = pool.get().await.unwrap();
    let kept_before = conn.statements().kept();
    for _ in 0..20 {
        let row = conn
            .query_one(MEMBERSHIP, &[&uuid::Uuid::new_v4(), &uuid::Uuid::new_v4()])
            .await
            .unwrap();
        assert!(!row.get::<_, bool>(0));
    }
    assert_eq!(
        conn.statements().kept(),
        kept_before + 1,
        "kept once, not per call"
    );
    let (generic, custom) = plans(&conn, MEMBERSHIP).await;
    assert_eq!(generic + custom, 20, "one statement ran all twenty times");
    assert!(
        generic >= 10,
        "Postgres settles on a generic plan after its first few runs: {generic} generic, {custom} custom"
    );
}

#[actix_web::test]
async fn a_kept_statement_whose_table_changed_shape_is_prepared_again() {
    let database = TestDatabase::create().await;
    let pool = banter::db::connect(&database.url, 1).await.unwrap();
    let mut conn = pool.get().await.unwrap();
    conn.batch_execute("CREATE TABLE shapes (a int); INSERT INTO shapes VALUES (1)")
        .await
        .unwrap();
    let select = "SELECT * FROM shapes";
    assert_eq!(conn.query_one(select, &[]).await.unwrap().len(), 1);

    // Another node's migration adds a column: the kept statement's result changes type.
    conn.batch_execute("ALTER TABLE shapes ADD COLUMN b int DEFAULT 2")
        .await
        .unwrap();
    let row = conn.query_one(select, &[]).await.expect("prepared again");
    assert_eq!((row.get::<_, i32>(0), row.get::<_, i32>(1)), (1, 2));

    // Inside a transaction the refusal aborts it; the statement is forgotten, so the
    // caller's next transaction works.
    conn.batch_execute("ALTER TABLE shapes ADD COLUMN c int DEFAULT 3")
        .await
        .unwrap();
    let tx = conn.transaction().await.unwrap();
    let refused = tx
        .query(select, &[])
        .await
        .expect_err("the stale statement fails");
    assert_eq!(
        refused.code(),
        Some(&tokio_postgres::error::SqlState::FEATURE_NOT_SUPPORTED),
        "{refused}"
    );
    drop(tx);
    let tx = conn.transaction().await.unwrap();
    let rows = tx.query(select, &[]).await.expect("prepared again");
    assert_eq!(rows[0].len(), 3);
    tx.commit().await.unwrap();
}
