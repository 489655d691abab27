//! Bad input: a clear error naming what is wrong, and nothing left behind.

use super::*;

pub(super) fn zip_with(entities: &[u8]) -> PathBuf {
    let p = tmp("bad.zip");
    let mut z = ExportZip::new(std::fs::File::create(&p).expect("zip"));
    z.file("entities.xml", entities).expect("entities");
    z.finish().expect("finish");
    p
}

pub(super) async fn nothing_left(node: &TestNode) {
    assert_eq!(
        count(node, "SELECT count(*) FROM spaces").await,
        0,
        "no space left behind"
    );
    assert_eq!(count(node, "SELECT count(*) FROM content").await, 0);
    assert_eq!(
        count(node, "SELECT count(*) FROM users WHERE NOT active").await,
        0
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_report_and_leaves_nothing() {
    let node = TestNode::start().await;
    let not_zip = tmp("x.zip");
    std::fs::write(&not_zip, b"this is not a zip").expect("write");
    let e = import(&node, &not_zip, None).await.expect_err("not a zip");
    assert!(
        matches!(e, ImportError::NotZip(_)) && e.to_string().contains("not a readable zip"),
        "{e}"
    );

    let own = own_export("ENG", true);
    let bytes = std::fs::read(&own.zip).expect("read");
    let truncated = tmp("t.zip");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    let e = import(&node, &truncated, None)
        .await
        .expect_err("truncated");
    assert!(matches!(e, ImportError::NotZip(_)), "{e}");

    let e = import(&node, &zip_with(b"<html><body>hello</body></html>"), None)
        .await
        .expect_err("html");
    assert!(
        matches!(e, ImportError::NotConfluence(_)) && e.to_string().contains("<html>"),
        "{e}"
    );

    let no_entities = tmp("n.zip");
    let mut z = ExportZip::new(std::fs::File::create(&no_entities).expect("zip"));
    z.file("readme.txt", b"hi").expect("file");
    z.finish().expect("finish");
    let e = import(&node, &no_entities, None)
        .await
        .expect_err("no entities.xml");
    assert!(e.to_string().contains("no entities.xml"), "{e}");

    let unknown = format!(
        "<hibernate-generic datetime=\"x\"><object class=\"Space\" package=\"{SPACES}\"><id name=\"id\">1</id><property name=\"key\">K</property></object>\
         <object class=\"Whiteboard\" package=\"{PAGES}\"><id name=\"id\">77</id><property name=\"title\">{}</property></object></hibernate-generic>",
        cdata("w")
    );
    let e = import(&node, &zip_with(unknown.as_bytes()), None)
        .await
        .expect_err("unknown class");
    assert!(
        matches!(e, ImportError::Invalid(_)) && e.to_string().contains("Whiteboard 77"),
        "{e}"
    );

    let broken = format!(
        "<hibernate-generic datetime=\"x\"><object class=\"Space\" package=\"{SPACES}\"><id name=\"id\">1</id><property name=\"key\">K</property></object>\
         <object class=\"Page\" package=\"{PAGES}\"><id name=\"id\">5</id><property name=\"title\">T</propertyy></object></hibernate-generic>"
    );
    let e = import(&node, &zip_with(broken.as_bytes()), None)
        .await
        .expect_err("not well-formed");
    assert!(
        matches!(e, ImportError::Xml(_)) && e.to_string().contains("Page 5"),
        "{e}"
    );

    let csv = tmp("csv.zip");
    let mut z = ExportZip::new(std::fs::File::create(&csv).expect("zip"));
    z.file(
        "exportDescriptor.properties",
        b"exportFormat=csv\nsource=server\n",
    )
    .expect("file");
    z.file("spaces.csv", b"id\n").expect("file");
    z.finish().expect("finish");
    let e = import(&node, &csv, None).await.expect_err("csv export");
    assert!(e.to_string().contains("csv"), "{e}");
    nothing_left(&node).await;
}

#[tokio::test]
async fn a_failure_after_writing_began_rolls_the_whole_import_back() {
    let node = TestNode::start().await;
    // The first pass skips bodies; the second finds one that cannot be read
    // (a character reference XML forbids), after users, spaces and rows
    // were written in the transaction.
    let xml = format!(
        "<hibernate-generic datetime=\"x\">\
         <object class=\"Space\" package=\"{SPACES}\"><id name=\"id\">1</id><property name=\"key\">K</property><property name=\"homePage\" class=\"Page\" package=\"{PAGES}\"><id name=\"id\">5</id></property></object>\
         <object class=\"ConfluenceUserImpl\" package=\"{USER}\"><id name=\"key\">k1</id><property name=\"name\">zed</property></object>\
         <object class=\"Page\" package=\"{PAGES}\"><id name=\"id\">5</id><property name=\"title\">T</property><property name=\"version\">1</property><property name=\"creator\" class=\"ConfluenceUserImpl\" package=\"{USER}\"><id name=\"key\">k1</id></property><property name=\"space\" class=\"Space\" package=\"{SPACES}\"><id name=\"id\">1</id></property></object>\
         <object class=\"BodyContent\" package=\"{CORE}\"><id name=\"id\">6</id><property name=\"body\">&lt;p&gt;bad &amp;nosuchentity; here&lt;/p&gt; &#0;</property><property name=\"content\" class=\"Page\" package=\"{PAGES}\"><id name=\"id\">5</id></property><property name=\"bodyType\">2</property></object>\
         </hibernate-generic>"
    );
    let e = import(&node, &zip_with(xml.as_bytes()), None)
        .await
        .expect_err("a bad body");
    assert!(
        e.to_string().contains("BodyContent 6")
            || e.to_string().contains("0x00")
            || e.to_string().contains("byte"),
        "{e}"
    );
    nothing_left(&node).await;
    let row = node
        .sql()
        .await
        .query_one("SELECT status, error FROM import_runs", &[])
        .await
        .expect("the run row");
    assert_eq!(row.get::<_, String>(0), "failed");
    assert!(row.get::<_, Option<String>>(1).is_some());
}

#[tokio::test]
async fn missing_files_and_ill_formed_bodies_are_named_in_the_report() {
    let node = TestNode::start().await;
    let own = own_export("ENG", false);
    let r = import(&node, &own.zip, None)
        .await
        .expect("import without files");
    assert_eq!(r.missing_files.len(), 2);
    assert!(
        r.missing_files[0].contains("Attachment 950") && r.missing_files[0].contains("report.pdf"),
        "{:?}",
        r.missing_files
    );
    let xml = format!(
        "<hibernate-generic datetime=\"x\">\
         <object class=\"Space\" package=\"{SPACES}\"><id name=\"id\">1</id><property name=\"key\">ILL</property></object>\
         <object class=\"Page\" package=\"{PAGES}\"><id name=\"id\">5</id><property name=\"title\">T</property><property name=\"space\" class=\"Space\" package=\"{SPACES}\"><id name=\"id\">1</id></property></object>\
         <object class=\"BodyContent\" package=\"{CORE}\"><id name=\"id\">6</id><property name=\"body\">{}</property><property name=\"content\" class=\"Page\" package=\"{PAGES}\"><id name=\"id\">5</id></property><property name=\"bodyType\">2</property></object>\
         </hibernate-generic>",
        cdata("<p>unclosed")
    );
    let r = import(&node, &zip_with(xml.as_bytes()), None)
        .await
        .expect("import");
    assert_eq!(r.bodies_not_well_formed, 1);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("the body of 5 (BodyContent 6)")),
        "{:?}",
        r.warnings
    );
    assert_eq!(
        count(
            &node,
            "SELECT count(*) FROM content WHERE body = '<p>unclosed'"
        )
        .await,
        1,
        "stored as exported"
    );
}
