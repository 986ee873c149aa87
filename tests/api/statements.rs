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

/// The plan Postgres keeps for `sql` once it stops planning per call (its generic plan),
/// with `params` bound, as text.
async fn generic_plan(
    conn: &banter::db::statements::CachedClient,
    sql: &str,
    params: &str,
) -> String {
    conn.batch_execute(&format!(
        "SET plan_cache_mode = force_generic_plan; PREPARE probe AS {sql}"
    ))
    .await
    .unwrap();
    let rows = conn
        .simple_query(&format!("EXPLAIN EXECUTE probe({params})"))
        .await
        .unwrap();
    rows.iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[actix_web::test]
async fn a_send_finds_its_direct_conversations_by_probing_the_pair_index_not_by_scanning_every_pair(
) {
    let database = TestDatabase::create().await;
    let pool = banter::db::connect(&database.url, 1).await.unwrap();
    banter::db::migrations::run(&pool).await.unwrap();
    let conn = pool.get().await.unwrap();
    // 2,000 people in 1,000 direct conversations, as a small deployment has.
    conn.batch_execute(
        "INSERT INTO users (id, issuer, subject, email)
           SELECT gen_random_uuid(), 'https://idp.example/', 's' || i, 'p' || i || '@example.com'
           FROM generate_series(1, 2000) i;
         CREATE TEMP TABLE people AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM users;
         CREATE TEMP TABLE pairs AS
           SELECT gen_random_uuid() AS c, a.id AS lo, b.id AS hi
           FROM people a JOIN people b ON b.n = a.n + 1 WHERE a.n % 2 = 1;
         INSERT INTO conversations (id, kind) SELECT c, 'direct' FROM pairs;
         INSERT INTO direct_pairs (user_lo, user_hi, conversation_id) SELECT lo, hi, c FROM pairs;
         ANALYZE users; ANALYZE conversations; ANALYZE direct_pairs;",
    )
    .await
    .unwrap();
    let asked: Vec<(uuid::Uuid, uuid::Uuid)> = conn
        .query("SELECT lo, hi FROM pairs LIMIT 9", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let array = |ids: Vec<uuid::Uuid>| {
        let listed: Vec<String> = ids.iter().map(|u| format!("'{u}'")).collect();
        format!("ARRAY[{}]::uuid[]", listed.join(","))
    };
    let (lo, hi): (Vec<_>, Vec<_>) = asked.iter().copied().unzip();

    // The statement finds what it is asked for.
    let found = conn
        .query(banter::db::writes::PAIR_CONVERSATIONS, &[&lo, &hi])
        .await
        .unwrap();
    assert_eq!(found.len(), 9, "one conversation per pair asked");

    let plan = generic_plan(
        &conn,
        banter::db::writes::PAIR_CONVERSATIONS,
        &format!("{}, {}", array(lo), array(hi)),
    )
    .await;
    assert!(
        plan.contains("Index Scan using direct_pairs_")
            && !plan.contains("Seq Scan")
            && !plan.contains("Hash"),
        "each pair is one probe of the pair index:\n{plan}"
    );
}
